import { describe, expect, it } from 'vitest';
import { validateEvent } from '../domain/event.js';
import { type GenericMapping, adaptGeneric, parseSelector } from './generic.js';
import { AdapterInputError, type WebhookRequest } from './types.js';

function request(body: unknown): WebhookRequest {
  return { headers: {}, rawBody: Buffer.from(JSON.stringify(body)), body };
}

const mapping: GenericMapping = {
  source: 'octodeploy',
  fields: {
    type: 'result',
    deployment: '/run/id',
    service: 'app.repo',
    environment: 'target.name',
    version: 'app.tag',
    commit: 'app.sha',
    time: 'run.finished',
    actor: 'run.by',
    region: 'target.zones.0',
    buildUrl: 'run.url',
  },
  typeMap: { ok: 'deployment.succeeded', ko: 'deployment.failed', begin: 'deployment.started' },
};

const payload = {
  result: 'ok',
  run: { id: 4711, finished: 1_762_078_500, by: 'alice', url: 'https://deploy.example/runs/4711' },
  app: { repo: 'octo-org/Checkout-API', tag: 'v1.42.0', sha: '9f2c1e0a7b3d' },
  target: { name: 'Production', zones: ['eu-west-1', 'eu-west-2'] },
};

describe('adaptGeneric', () => {
  it('maps any JSON through selectors and a type map', () => {
    const result = adaptGeneric(request(payload), mapping);
    expect(result).toEqual({
      kind: 'events',
      events: [
        {
          id: 'octodeploy:4711:deployment.succeeded',
          type: 'deployment.succeeded',
          deployment: 'octodeploy:4711',
          service: 'checkout-api',
          environment: 'production',
          version: 'v1.42.0',
          commit: '9f2c1e0a7b3d',
          actor: 'alice',
          region: 'eu-west-1',
          time: '2025-11-02T10:15:00Z',
          build: { url: 'https://deploy.example/runs/4711', provider: 'octodeploy' },
        },
      ],
    });
    if (result.kind === 'events') expect(validateEvent(result.events[0])).toEqual([]);
  });

  it('accepts event type names as they are and constants with =', () => {
    const m: GenericMapping = {
      fields: { ...mapping.fields, type: 'result', environment: '=staging', time: 'when' },
    };
    const result = adaptGeneric(
      request({ ...payload, result: 'deployment.started', when: '2026-11-02 10:15:00 +0100' }),
      m,
    );
    expect(result).toMatchObject({
      events: [
        {
          type: 'deployment.started',
          environment: 'staging',
          deployment: 'generic:4711',
          time: '2026-11-02T09:15:00Z',
        },
      ],
    });
  });

  it('ignores unmapped type values with a reason', () => {
    expect(adaptGeneric(request({ ...payload, result: 'toString' }), mapping)).toEqual({
      kind: 'ignored',
      reason: 'type value "toString" is not mapped to a deployment event type',
    });
  });

  it('names missing required fields by pointer', () => {
    const rest = { ...payload, run: undefined };
    try {
      adaptGeneric(request(rest), mapping);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AdapterInputError);
      expect((error as AdapterInputError).details).toEqual([{ path: '/run/id', message: 'is required' }]);
    }
  });

  it('parses selectors', () => {
    expect(parseSelector('/a~1b/0/c~0')).toEqual(['a/b', 0, 'c~']);
    expect(parseSelector('items.10.name')).toEqual(['items', 10, 'name']);
  });
});
