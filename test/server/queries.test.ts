import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { testApp, type TestApp } from '../helpers/app.js';

type Item = Record<string, unknown>;

describe.each(DIALECTS)('queries on %s', (dialect) => {
  let t: TestApp;
  const deploy = async (
    deployment: string,
    version: string,
    start: string,
    end: string | null,
    extra: Item = {},
    outcome = 'deployment.succeeded',
  ) => {
    const common = {
      deployment,
      service: 'cart',
      environment: 'production',
      region: 'eu-west-1',
      version,
      actor: 'alice',
      ...extra,
    };
    const events: Item[] = [{ ...common, type: 'deployment.started', time: start }];
    if (end) events.push({ ...common, type: outcome, time: end });
    const answer = await t.call('POST', '/v1/events', { events });
    expect(answer.status).toBe(201);
  };
  beforeAll(async () => {
    t = await testApp(dialect);
    await deploy('c1', '1.0.0', '2026-11-01T09:00:00Z', '2026-11-01T09:05:00Z');
    await deploy('c2', '1.1.0', '2026-11-02T09:00:00Z', '2026-11-02T09:05:00Z');
    await deploy('c3', '1.2.0', '2026-11-03T09:00:00Z', '2026-11-03T09:05:00Z', {
      actor: 'bob',
      kind: 'hotfix',
    });
    await deploy('c4', '1.3.0', '2026-11-04T09:00:00Z', null);
    await deploy('us1', '1.0.0', '2026-11-01T10:00:00Z', '2026-11-01T10:01:00Z', { region: 'us-east-1' });
    await deploy('f1', '9.9.9', '2026-11-03T12:00:00Z', '2026-11-03T12:01:00Z', {}, 'deployment.failed');
  });
  afterAll(async () => t.close());

  it('lists newest first with filters', async () => {
    const all = (await t.call('GET', '/v1/deployments')).json().items as Item[];
    expect(all.map((d) => d.deployment)).toEqual(['c4', 'f1', 'c3', 'c2', 'us1', 'c1']);
    const hotfixes = (await t.call('GET', '/v1/deployments?kind=hotfix')).json().items as Item[];
    expect(hotfixes.map((d) => d.deployment)).toEqual(['c3']);
    const bob = (await t.call('GET', '/v1/deployments?actor=bob&status=succeeded')).json().items as Item[];
    expect(bob.map((d) => d.deployment)).toEqual(['c3']);
    const window = (
      await t.call('GET', '/v1/deployments?since=2026-11-02T00:00:00Z&until=2026-11-03T10:00:00Z')
    ).json().items as Item[];
    expect(window.map((d) => d.deployment)).toEqual(['c3', 'c2']);
    const us = (await t.call('GET', '/v1/deployments?region=us-east-1')).json().items as Item[];
    expect(us.map((d) => d.deployment)).toEqual(['us1']);
  });

  it('pages with a cursor and rejects a forged one', async () => {
    const seen: string[] = [];
    let url = '/v1/deployments?limit=2';
    for (;;) {
      const page = (await t.call('GET', url)).json() as { items: Item[]; nextCursor: string | null };
      seen.push(...page.items.map((d) => d.deployment as string));
      if (!page.nextCursor) break;
      url = `/v1/deployments?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    expect(seen).toEqual(['c4', 'f1', 'c3', 'c2', 'us1', 'c1']);
    for (const cursor of [
      'garbage',
      Buffer.from('[1]').toString('base64url'),
      Buffer.from('{"a":1}').toString('base64url'),
    ]) {
      const answer = await t.call('GET', `/v1/deployments?cursor=${cursor}`);
      expect(answer.status).toBe(400);
      expect(answer.json().error?.code).toBe('SHIPLOG_INVALID_CURSOR');
    }
  });

  it('rejects unknown and malformed query parameters', async () => {
    for (const query of [
      'colour=red',
      'status=exploded',
      'since=yesterday',
      'limit=100000',
      'service=Bad/Name',
    ]) {
      const answer = await t.call('GET', `/v1/deployments?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.json().error?.details.length).toBeGreaterThan(0);
    }
  });

  it('shows what runs in each environment now and what is in progress', async () => {
    const items = (await t.call('GET', '/v1/environments?service=cart')).json().items as Item[];
    expect(items).toEqual([
      {
        service: 'cart',
        environment: 'production',
        region: 'eu-west-1',
        current: { deployment: 'c3', version: '1.2.0', since: '2026-11-03T09:05:00.000Z', deployedBy: 'bob' },
        inProgress: {
          deployment: 'c4',
          version: '1.3.0',
          since: '2026-11-04T09:00:00.000Z',
          deployedBy: 'alice',
          count: 1,
        },
      },
      {
        service: 'cart',
        environment: 'production',
        region: 'us-east-1',
        current: {
          deployment: 'us1',
          version: '1.0.0',
          since: '2026-11-01T10:01:00.000Z',
          deployedBy: 'alice',
        },
        inProgress: null,
      },
    ]);
  });

  it('answers which version ran at a past instant, also across a rollback', async () => {
    const at = async (instant: string) =>
      ((await t.call('GET', `/v1/state?environment=production&at=${instant}`)).json().items as Item[]).map(
        (i) => `${i.region}:${i.version}`,
      );
    expect(await at('2026-11-01T08:00:00Z')).toEqual([]);
    expect(await at('2026-11-02T12:00:00Z')).toEqual(['eu-west-1:1.1.0', 'us-east-1:1.0.0']);
    expect(await at('2026-11-03T12:30:00Z')).toEqual(['eu-west-1:1.2.0', 'us-east-1:1.0.0']);
    await t.call('POST', '/v1/events', {
      type: 'deployment.rolled_back',
      deployment: 'c3',
      service: 'cart',
      environment: 'production',
      time: '2026-11-03T18:00:00Z',
    });
    expect(await at('2026-11-03T12:30:00Z')).toEqual(['eu-west-1:1.2.0', 'us-east-1:1.0.0']);
    expect(await at('2026-11-03T19:00:00Z')).toEqual(['eu-west-1:1.1.0', 'us-east-1:1.0.0']);
    const env = (await t.call('GET', '/v1/environments?service=cart')).json().items as { current: Item }[];
    expect(env[0]?.current.version).toBe('1.1.0');
    expect((await t.call('GET', '/v1/deployments/c3')).json().status).toBe('rolled_back');
  });

  it('answers 404 for an unknown deployment', async () => {
    const answer = await t.call('GET', '/v1/deployments/nope');
    expect(answer.status).toBe(404);
    expect(answer.json().error?.code).toBe('SHIPLOG_NOT_FOUND');
  });
});
