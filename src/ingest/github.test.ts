import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../domain/event.js';
import { adaptGithub } from './github.js';
import { AdapterInputError, type WebhookRequest } from './types.js';

const dir = new URL('../../../shared/fixtures/github/', import.meta.url);
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

function request(file: string, headers: Record<string, string> = {}): WebhookRequest {
  const rawBody = readFileSync(new URL(file, dir));
  const event = file.split('.')[0] ?? '';
  return {
    headers: { 'x-github-event': event, 'x-github-delivery': DELIVERY, ...headers },
    rawBody,
    body: JSON.parse(rawBody.toString('utf8')) as unknown,
  };
}

const SHA = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e';
const KEY = 'github:Codertocat:Hello-World:145988746';
const base = { deployment: KEY, service: 'hello-world', version: 'f95f852', commit: SHA };

describe('adaptGithub on the octokit fixtures', () => {
  const expected: Record<string, object> = {
    'deployment.payload.json': {
      ...base,
      type: 'deployment.requested',
      environment: 'production',
      time: '2019-05-15T15:20:53Z',
      actor: 'Codertocat',
    },
    'deployment.with-installation.payload.json': {
      ...base,
      type: 'deployment.requested',
      environment: 'production',
      time: '2019-05-15T15:20:53Z',
      actor: 'Codertocat',
    },
    'deployment.gh-pages.payload.json': {
      ...base,
      type: 'deployment.requested',
      environment: 'github-pages',
      time: '2022-01-03T01:28:30Z',
      // the deployment's creator is github-pages[bot]: the workflow run's human actor wins
      actor: 'Codertocat',
      build: {
        id: '289782451',
        url: 'https://github.com/Codertocat/Hello-World/actions/runs/289782451',
        provider: 'github-actions',
      },
    },
    'deployment_status.payload.json': {
      ...base,
      type: 'deployment.succeeded',
      environment: 'production',
      time: '2019-05-15T15:20:55Z',
      actor: 'Codertocat',
    },
    'deployment_status.with-installation.payload.json': {
      ...base,
      type: 'deployment.succeeded',
      environment: 'production',
      time: '2019-05-15T15:20:55Z',
      actor: 'Codertocat',
    },
    'deployment_status.gh-pages.payload.json': {
      ...base,
      type: 'deployment.started',
      environment: 'github-pages',
      time: '2022-01-03T01:28:40Z',
      actor: 'Codertocat',
      build: {
        id: '289782451',
        url: 'https://github.com/Codertocat/Hello-World/actions/runs/289782451',
        provider: 'github-actions',
      },
    },
  };

  for (const [file, event] of Object.entries(expected)) {
    it(`maps ${file}`, () => {
      const result = adaptGithub(request(file));
      const transition = file.startsWith('deployment_status') ? 'status-209916254' : 'created';
      expect(result).toEqual({
        kind: 'events',
        events: [{ ...event, id: `${KEY}:${transition}` }],
        deliveryId: DELIVERY,
      });
      if (result.kind === 'events') expect(validateEvent(result.events[0])).toEqual([]);
    });
  }

  const ignored = readdirSync(dir).filter((f) => f.endsWith('.json') && !(f in expected));
  it('has a fixture for each ignored event kind', () => {
    expect(ignored.map((f) => f.split('.')[0])).toEqual(
      expect.arrayContaining(['ping', 'push', 'workflow_run', 'workflow_job', 'deployment_review']),
    );
  });
  for (const file of ignored) {
    it(`ignores ${file} with a reason`, () => {
      const result = adaptGithub(request(file));
      expect(result.kind).toBe('ignored');
      if (result.kind !== 'ignored') return;
      const event = file.split('.')[0] ?? '';
      expect(result.reason).toMatch(event === 'ping' ? /^ping$/ : /deployment_status/);
    });
  }
});

describe('adaptGithub details', () => {
  function withStatus(state: string): WebhookRequest {
    const req = request('deployment_status.payload.json');
    const body = structuredClone(req.body) as { deployment_status: { state: string } };
    body.deployment_status.state = state;
    return { ...req, body };
  }

  it.each([
    ['queued', 'deployment.requested'],
    ['pending', 'deployment.requested'],
    ['in_progress', 'deployment.started'],
    ['success', 'deployment.succeeded'],
    ['failure', 'deployment.failed'],
    ['error', 'deployment.failed'],
  ])('maps state %s to %s', (state, type) => {
    const result = adaptGithub(withStatus(state));
    expect(result.kind === 'events' && result.events[0]?.type).toBe(type);
  });

  it('ignores inactive statuses', () => {
    expect(adaptGithub(withStatus('inactive'))).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/inactive/),
    });
  });

  it('derives a stable id per transition without X-GitHub-Delivery', () => {
    const req = request('deployment_status.payload.json');
    const result = adaptGithub({ ...req, headers: { 'x-github-event': 'deployment_status' } });
    expect(result).toMatchObject({ kind: 'events', events: [{ id: `${KEY}:status-209916254` }] });
    expect(result).not.toHaveProperty('deliveryId');
  });

  it("lists the run's head commit with its time when the deployment ships it (lead time)", () => {
    const req = request('deployment_status.payload.json');
    const body = structuredClone(req.body) as Record<string, unknown>;
    body.workflow_run = { id: 42, head_commit: { id: SHA, timestamp: '2019-05-15T14:00:00Z' } };
    const result = adaptGithub({ ...req, body });
    expect(result).toMatchObject({
      events: [{ commit: SHA, commits: [{ sha: SHA, time: '2019-05-15T14:00:00Z' }] }],
    });
    if (result.kind === 'events') expect(validateEvent(result.events[0])).toEqual([]);
    // Another commit than the deployment's: not what it ships.
    body.workflow_run = { id: 42, head_commit: { id: 'abcdef12', timestamp: '2019-05-15T14:00:00Z' } };
    expect(adaptGithub({ ...req, body })).not.toMatchObject({ events: [{ commits: expect.anything() }] });
  });

  it('takes the version from a ref that looks like one', () => {
    const req = request('deployment.payload.json');
    const body = structuredClone(req.body) as { deployment: { ref: string } };
    body.deployment.ref = 'v1.4.0-rc.1';
    expect(adaptGithub({ ...req, body })).toMatchObject({ events: [{ version: 'v1.4.0-rc.1' }] });
  });

  it('applies service and environment rules', () => {
    const rules = {
      services: [{ match: 'codertocat/*', service: 'checkout-api' }],
      environments: [{ match: '/^prod/i', environment: 'prod-eu' }],
    };
    expect(adaptGithub(request('deployment.payload.json'), { rules })).toMatchObject({
      events: [{ service: 'checkout-api', environment: 'prod-eu' }],
    });
  });

  it('parses rawBody when the body was not parsed', () => {
    const req = request('deployment.payload.json');
    expect(adaptGithub({ ...req, body: undefined }).kind).toBe('events');
  });

  it('rejects a missing X-GitHub-Event and a deployment without id', () => {
    const req = request('deployment.payload.json');
    expect(() => adaptGithub({ ...req, headers: {} })).toThrow(AdapterInputError);
    const body = structuredClone(req.body) as { deployment: Record<string, unknown> };
    delete body.deployment.id;
    try {
      adaptGithub({ ...req, body });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AdapterInputError);
      expect((error as AdapterInputError).details).toEqual([
        { path: '/deployment/id', message: 'is required' },
      ]);
    }
  });
});
