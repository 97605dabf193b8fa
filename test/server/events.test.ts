import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { countEvents, testApp, type TestApp } from '../helpers/app.js';

const base = { service: 'checkout-api', environment: 'production' };

describe.each(DIALECTS)('events on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(dialect);
  });
  afterAll(async () => t.close());

  it('stores an event once per id', async () => {
    const event = { ...base, id: 'evt-1', type: 'deployment.started', deployment: 'once', version: '1.0.0' };
    const first = await t.call('POST', '/v1/events', event);
    expect(first.status).toBe(201);
    expect(first.json().results).toMatchObject([{ id: 'evt-1', status: 'stored' }]);
    const again = await t.call('POST', '/v1/events', event);
    expect(again.json().results).toMatchObject([{ id: 'evt-1', status: 'duplicate' }]);
    const shown = await t.call('GET', '/v1/deployments/once');
    expect((shown.json().events as unknown[]).length).toBe(1);
  });

  it('stores nothing of a batch with one invalid event, naming every bad field', async () => {
    const before = await countEvents(t.store);
    const answer = await t.call('POST', '/v1/events', {
      events: [
        { ...base, type: 'deployment.started', deployment: 'atomic', version: '1' },
        { ...base, type: 'deployment.exploded', deployment: 'atomic', environment: 'Prod/../x', extra: true },
      ],
    });
    expect(answer.status).toBe(400);
    const body = answer.json();
    expect(body.error?.code).toBe('SHIPLOG_INVALID_EVENT');
    expect(body.error?.details.map((d) => d.path).sort()).toEqual([
      '/events/1/environment',
      '/events/1/extra',
      '/events/1/type',
    ]);
    expect(await countEvents(t.store)).toBe(before);
  });

  it('stores a failed event that overtakes its started event, and ends as in-order arrival', async () => {
    const started = { ...base, type: 'deployment.started', version: '4.1.0', time: '2026-11-02T10:00:00Z' };
    const failed = { ...base, type: 'deployment.failed', time: '2026-11-02T10:02:00Z' };
    await t.call('POST', '/v1/events', {
      events: [
        { ...started, deployment: 'ooo-a' },
        { ...failed, deployment: 'ooo-a' },
      ],
    });

    const early = await t.call('POST', '/v1/events', { ...failed, deployment: 'ooo-b' });
    expect(early.status).toBe(201);
    expect(early.json().results).toMatchObject([{ status: 'stored' }]);
    expect((await t.call('GET', '/v1/deployments/ooo-b')).json()).toMatchObject({
      version: null,
      status: 'failed',
    });
    await t.call('POST', '/v1/events', { ...started, deployment: 'ooo-b' });

    const a = (await t.call('GET', '/v1/deployments/ooo-a')).json();
    const b = (await t.call('GET', '/v1/deployments/ooo-b')).json();
    for (const d of [a, b]) {
      expect(d).toMatchObject({
        version: '4.1.0',
        status: 'failed',
        startedAt: '2026-11-02T10:00:00.000Z',
        finishedAt: '2026-11-02T10:02:00.000Z',
        durationMs: 120_000,
      });
    }
  });

  it('does not let one token squat another token id (issue 9, finding 2)', async () => {
    const other = await tokenFor('squatter');
    const event = {
      ...base,
      id: 'shared-id',
      type: 'deployment.started',
      deployment: 'victim-1',
      version: '1',
    };
    const squat = { ...event, deployment: 'squat-1' };
    expect((await t.call('POST', '/v1/events', squat, other)).json().results).toMatchObject([
      { status: 'stored' },
    ]);
    const real = await t.call('POST', '/v1/events', event);
    expect(real.json().results).toMatchObject([{ id: 'shared-id', status: 'stored' }]);
    expect((await t.call('GET', '/v1/deployments/victim-1')).json().status).toBe('in_progress');
  });

  it('answers 409 when an id is reused for another event, and stores nothing of the batch', async () => {
    await t.call('POST', '/v1/events', {
      ...base,
      id: 'reuse-1',
      type: 'deployment.started',
      deployment: 'reuse',
      version: '1',
    });
    const before = await countEvents(t.store);
    const answer = await t.call('POST', '/v1/events', {
      events: [
        { ...base, id: 'reuse-2', type: 'deployment.started', deployment: 'reuse-other', version: '1' },
        { ...base, id: 'reuse-1', type: 'deployment.succeeded', deployment: 'reuse' },
      ],
    });
    expect(answer.status).toBe(409);
    expect(answer.json().error?.details[0]?.path).toBe('/events/1/id');
    expect(await countEvents(t.store)).toBe(before);
  });

  it('reserves webhook prefixes of keys and ids for their source (issue 9, finding 3)', async () => {
    const deployer = await tokenFor('team-ci');
    const before = await countEvents(t.store);
    const key = await t.call(
      'POST',
      '/v1/events',
      { ...base, type: 'deployment.started', deployment: 'jenkins:billing-deploy:42', version: '1' },
      deployer,
    );
    expect(key.status).toBe(403);
    expect(key.json().error?.details[0]?.path).toBe('/deployment');
    const id = await t.call(
      'POST',
      '/v1/events',
      { ...base, id: 'github:123:456', type: 'deployment.started', deployment: 'mine', version: '1' },
      deployer,
    );
    expect(id.status).toBe(403);
    expect(id.json().error?.details[0]?.path).toBe('/id');
    expect(await countEvents(t.store)).toBe(before);
  });

  async function tokenFor(name: string): Promise<string> {
    const answer = await t.call('POST', '/v1/tokens', { name, role: 'deployer' });
    return (answer.json() as { token: string }).token;
  }

  it('refuses an event that moves a deployment to another service', async () => {
    await t.call('POST', '/v1/events', {
      ...base,
      type: 'deployment.started',
      deployment: 'owned',
      version: '1',
    });
    const answer = await t.call('POST', '/v1/events', {
      type: 'deployment.succeeded',
      deployment: 'owned',
      service: 'other',
      environment: 'production',
    });
    expect(answer.status).toBe(409);
    expect(answer.json().error?.code).toBe('SHIPLOG_CONFLICT');
  });

  it('derives the same state and duration from out-of-order, duplicated events', async () => {
    const events = (key: string) => [
      {
        ...base,
        id: `${key}-r`,
        type: 'deployment.requested',
        deployment: key,
        version: '2.0.0',
        time: '2026-11-02T10:00:00Z',
      },
      {
        ...base,
        id: `${key}-s`,
        type: 'deployment.started',
        deployment: key,
        version: '2.0.0',
        time: '2026-11-02T10:01:00Z',
      },
      {
        ...base,
        id: `${key}-f`,
        type: 'deployment.succeeded',
        deployment: key,
        version: '2.0.0',
        time: '2026-11-02T10:04:30Z',
      },
    ];
    await t.call('POST', '/v1/events', { events: events('in-order') });
    const shuffled = events('shuffled');
    for (const e of [shuffled[2], shuffled[0], shuffled[2], shuffled[1], shuffled[0]])
      await t.call('POST', '/v1/events', e);
    const a = (await t.call('GET', '/v1/deployments/in-order')).json();
    const b = (await t.call('GET', '/v1/deployments/shuffled')).json();
    for (const d of [a, b]) {
      expect(d).toMatchObject({
        status: 'succeeded',
        version: '2.0.0',
        startedAt: '2026-11-02T10:01:00.000Z',
        finishedAt: '2026-11-02T10:04:30.000Z',
        durationMs: 210_000,
      });
      expect((d.events as { type: string }[]).map((e) => e.type)).toEqual([
        'deployment.requested',
        'deployment.started',
        'deployment.succeeded',
      ]);
    }
  });

  it('commits concurrent requests together and answers each', async () => {
    const before = await countEvents(t.store);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        t.call('POST', '/v1/events', {
          ...base,
          type: 'deployment.started',
          deployment: `burst-${i % 20}`,
          version: '3',
          id: `burst-${i}`,
        }),
      ),
    );
    expect(answers.every((a) => a.status === 201)).toBe(true);
    expect(await countEvents(t.store)).toBe(before + 60);
  });

  it('answers 413 for a body over 1 MiB and stores nothing', async () => {
    const before = await countEvents(t.store);
    const answer = await t.call('POST', '/v1/events', {
      ...base,
      type: 'deployment.started',
      deployment: 'big',
      version: '1',
      labels: { x: 'y'.repeat(1.1 * 1024 * 1024) },
    });
    expect(answer.status).toBe(413);
    expect(answer.json().error?.code).toBe('SHIPLOG_BODY_TOO_LARGE');
    expect(await countEvents(t.store)).toBe(before);
  });

  it('answers malformed JSON, a wrong content type and an empty batch with 4xx', async () => {
    const bad = await t.app.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: 'Bearer test-admin-secret', 'content-type': 'application/json' },
      payload: '{"type": "deployment.started",',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('SHIPLOG_INVALID_JSON');
    const text = await t.app.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: 'Bearer test-admin-secret', 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(text.statusCode).toBe(415);
    const empty = await t.call('POST', '/v1/events', { events: [] });
    expect(empty.status).toBe(400);
    expect(empty.json().error?.details[0]?.path).toBe('/events');
  });

  it('records each source clock skew', async () => {
    const { token } = (await t.call('POST', '/v1/tokens', { name: 'runner-7', role: 'deployer' })).json() as {
      token: string;
    };
    const time = new Date(Date.now() - 90_000).toISOString();
    await t.call(
      'POST',
      '/v1/events',
      { ...base, type: 'deployment.started', deployment: 'skewed', version: '1', time },
      token,
    );
    const sources = (await t.call('GET', '/v1/sources')).json().items as {
      source: string;
      skew: { lastMs: number };
    }[];
    const runner = sources.find((s) => s.source === 'runner-7');
    expect(runner?.skew.lastMs).toBeGreaterThanOrEqual(90_000);
    expect(runner?.skew.lastMs).toBeLessThan(120_000);
  });
});
