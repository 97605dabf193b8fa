import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../domain/event.js';
import { adaptJenkins } from './jenkins.js';
import type { WebhookRequest } from './types.js';

const file = new URL('../../../shared/fixtures/jenkins/notification-plugin.completed.json', import.meta.url);

function request(
  patch: (body: { build: Record<string, unknown> }) => void = () => undefined,
): WebhookRequest {
  const rawBody = readFileSync(file);
  const body = JSON.parse(rawBody.toString('utf8')) as { build: Record<string, unknown> };
  patch(body);
  return { headers: { 'content-type': 'application/json;charset=UTF-8' }, rawBody, body };
}

const KEY = 'jenkins:asgard:18';
const completed = {
  id: `${KEY}:deployment.succeeded`,
  type: 'deployment.succeeded',
  deployment: KEY,
  service: 'asgard',
  environment: 'production',
  version: 'c6d86dc',
  commit: 'c6d86dc654b12425e706bcf951adfe5a8627a517',
  build: { id: '18', url: 'http://localhost:8080/job/asgard/18/', provider: 'jenkins' },
};

describe('adaptJenkins', () => {
  it('ignores the wiki example without an environment, naming the parameter to set', () => {
    expect(adaptJenkins(request())).toEqual({
      kind: 'ignored',
      reason: expect.stringMatching(/ENVIRONMENT or DEPLOY_ENV/),
    });
  });

  it('maps the wiki example with an environments rule; no time (the example has none)', () => {
    const rules = { environments: [{ match: 'asgard', environment: 'production' }] };
    const result = adaptJenkins(request(), { rules });
    expect(result).toEqual({ kind: 'events', events: [completed] });
    if (result.kind === 'events') expect(validateEvent(result.events[0])).toEqual([]);
  });

  it('reads parameters and timestamp + duration of current plugin versions', () => {
    const result = adaptJenkins(
      request((body) => {
        body.build.parameters = {
          ENVIRONMENT: 'Production EU',
          VERSION: '2.3.1',
          BUILD_USER_ID: 'alice',
          REGION: 'eu-west-1',
        };
        body.build.timestamp = 1_700_000_000_000;
        body.build.duration = 90_500;
      }),
    );
    expect(result).toEqual({
      kind: 'events',
      events: [
        {
          ...completed,
          environment: 'production-eu',
          version: '2.3.1',
          actor: 'alice',
          region: 'eu-west-1',
          time: '2023-11-14T22:14:50.500Z',
        },
      ],
    });
  });

  it.each([
    ['QUEUED', undefined, 'deployment.requested', '2023-11-14T22:13:20Z'],
    ['STARTED', undefined, 'deployment.started', '2023-11-14T22:13:20Z'],
    ['COMPLETED', 'SUCCESS', 'deployment.succeeded', '2023-11-14T22:13:30Z'],
    ['FINALIZED', 'SUCCESS', 'deployment.succeeded', '2023-11-14T22:13:30Z'],
    ['COMPLETED', 'FAILURE', 'deployment.failed', '2023-11-14T22:13:30Z'],
    ['COMPLETED', 'UNSTABLE', 'deployment.failed', '2023-11-14T22:13:30Z'],
    ['COMPLETED', 'ABORTED', 'deployment.canceled', '2023-11-14T22:13:30Z'],
    ['FINALIZED', 'NOT_BUILT', 'deployment.canceled', '2023-11-14T22:13:30Z'],
  ])('maps %s/%s to %s', (phase, status, type, time) => {
    const result = adaptJenkins(
      request((body) => {
        body.build.phase = phase;
        if (status === undefined) delete body.build.status;
        else body.build.status = status;
        body.build.parameters = { DEPLOY_ENV: 'staging' };
        body.build.timestamp = 1_700_000_000_000;
        if (status !== undefined) body.build.duration = 10_000;
      }),
    );
    expect(result).toMatchObject({
      kind: 'events',
      events: [{ type, time, environment: 'staging', id: `${KEY}:${type}` }],
    });
  });

  it('ignores a completion without status', () => {
    expect(adaptJenkins(request((b) => delete b.build.status)).kind).toBe('ignored');
  });
});
