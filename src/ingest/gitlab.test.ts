import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../domain/event.js';
import { adaptGitlab } from './gitlab.js';
import { toRfc3339 } from './time.js';
import { AdapterInputError, type WebhookRequest } from './types.js';

const dir = new URL('../../../shared/fixtures/gitlab/', import.meta.url);

function request(file: string, event: string, headers: Record<string, string> = {}): WebhookRequest {
  const rawBody = readFileSync(new URL(file, dir));
  return {
    headers: { 'x-gitlab-event': event, ...headers },
    rawBody,
    body: JSON.parse(rawBody.toString('utf8')) as unknown,
  };
}

const KEY = 'gitlab:root:test-deployment-webhooks:15';
const deployed = {
  type: 'deployment.succeeded',
  deployment: KEY,
  service: 'test-deployment-webhooks',
  environment: 'staging',
  version: '279484c',
  commit: '279484c09fbe69ededfced8c1bb6e6d24616b468',
  actor: 'root',
  time: '2021-04-28T19:50:00Z',
  build: {
    id: '796',
    url: 'http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796',
    provider: 'gitlab-ci',
  },
};

describe('adaptGitlab', () => {
  it('maps deployment_event.json (Deployment Hook, success)', () => {
    const result = adaptGitlab(request('deployment_event.json', 'Deployment Hook'));
    expect(result).toEqual({ kind: 'events', events: [{ ...deployed, id: `${KEY}:success` }] });
    if (result.kind === 'events') expect(validateEvent(result.events[0])).toEqual([]);
  });

  it('keeps the transition id and reports Idempotency-Key as the delivery id', () => {
    const key = '3a4b1b50-7fa4-4e2c-9b8f-0e9a8b8f2f21';
    const result = adaptGitlab(
      request('deployment_event.json', 'Deployment Hook', { 'idempotency-key': key }),
    );
    expect(result).toEqual({
      kind: 'events',
      events: [{ ...deployed, id: `${KEY}:success` }],
      deliveryId: key,
    });
  });

  it.each([
    ['running', 'deployment.started'],
    ['success', 'deployment.succeeded'],
    ['failed', 'deployment.failed'],
    ['canceled', 'deployment.canceled'],
  ])('maps status %s to %s', (status, type) => {
    const req = request('deployment_event.json', 'Deployment Hook');
    const body = { ...(req.body as object), status };
    expect(adaptGitlab({ ...req, body })).toMatchObject({ events: [{ type, id: `${KEY}:${status}` }] });
  });

  it.each([
    ['pipeline_event.json', 'Pipeline Hook'],
    ['job_event.json', 'Job Hook'],
    ['push_event.json', 'Push Hook'],
  ])('ignores %s (%s) with a reason', (file, event) => {
    expect(adaptGitlab(request(file, event))).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/events/),
    });
  });

  it('rejects the published job example, which is not JSON', () => {
    const rawBody = readFileSync(new URL('job_event.published.jsonc', dir));
    expect(() =>
      adaptGitlab({ headers: { 'x-gitlab-event': 'Job Hook' }, rawBody, body: undefined }),
    ).toThrow(AdapterInputError);
  });

  it('recognises a deployment by object_kind without the header', () => {
    const req = request('deployment_event.json', 'Deployment Hook');
    expect(adaptGitlab({ ...req, headers: {} }).kind).toBe('events');
  });
});

describe('GitLab time formats', () => {
  it.each([
    ['2021-04-28 21:50:00 +0200', '2021-04-28T19:50:00Z'],
    ['2016-08-12 15:23:28 UTC', '2016-08-12T15:23:28Z'],
    ['2021-02-23T02:41:37.886Z', '2021-02-23T02:41:37.886Z'],
    ['2016-08-12T17:23:21+02:00', '2016-08-12T15:23:21Z'],
    ['2021-04-28 21:50:00 -05:30', '2021-04-29T03:20:00Z'],
  ])('%s → %s', (input, output) => {
    expect(toRfc3339(input)).toBe(output);
  });
  it.each(['', 'yesterday', '2021-13-45 99:00:00 UTC', 42, null])('rejects %j', (input) => {
    expect(toRfc3339(input)).toBeUndefined();
  });
});
