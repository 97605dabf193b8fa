import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { testApp, type TestApp } from '../helpers/app.js';

type Item = Record<string, unknown>;
type PageOf = { items: Item[]; nextCursor: string | null };

describe.each(DIALECTS)('forensics: state diff and environment compare on %s', (dialect) => {
  let t: TestApp;
  const deploy = async (deployment: string, fields: Item, start: string, end: string) => {
    const common = { deployment, actor: 'alice', ...fields };
    const answer = await t.call('POST', '/v1/events', {
      events: [
        { ...common, type: 'deployment.started', time: start },
        { ...common, type: 'deployment.succeeded', time: end },
      ],
    });
    expect(answer.status).toBe(201);
  };
  const rollBack = async (deployment: string, service: string, environment: string, time: string) => {
    const answer = await t.call('POST', '/v1/events', {
      type: 'deployment.rolled_back',
      deployment,
      service,
      environment,
      time,
    });
    expect(answer.status).toBe(201);
  };
  const prod = (service: string, region: string, version: string) => ({
    service,
    environment: 'production',
    region,
    version,
  });

  beforeAll(async () => {
    t = await testApp(dialect);
    await deploy('us1', prod('cart', 'us-east-1', '1.0.0'), '2026-10-31T09:00:00Z', '2026-10-31T09:05:00Z');
    await deploy('p1', prod('cart', 'eu-west-1', '1.0.0'), '2026-11-01T09:00:00Z', '2026-11-01T09:05:00Z');
    await deploy(
      'a1',
      { ...prod('api', 'eu-west-1', '2.0.0'), actor: 'bob' },
      '2026-11-02T09:00:00Z',
      '2026-11-02T09:05:00Z',
    );
    await rollBack('us1', 'cart', 'production', '2026-11-02T12:00:00Z');
    await deploy('p2', prod('cart', 'eu-west-1', '1.1.0'), '2026-11-03T09:00:00Z', '2026-11-03T09:05:00Z');
    await deploy('p3', prod('cart', 'eu-west-1', '1.2.0'), '2026-11-05T09:00:00Z', '2026-11-05T09:05:00Z');
    await rollBack('p3', 'cart', 'production', '2026-11-06T09:00:00Z');
    const staging = (service: string, version: string) => ({
      service,
      environment: 'staging',
      region: 'eu-west-1',
      version,
    });
    await deploy('s1', staging('cart', '1.3.0'), '2026-11-06T10:00:00Z', '2026-11-06T10:01:00Z');
    await deploy('s2', staging('api', '2.0.0'), '2026-11-06T10:00:00Z', '2026-11-06T10:01:00Z');
    await deploy('s3', staging('web', '0.1.0'), '2026-11-06T10:00:00Z', '2026-11-06T10:01:00Z');
  });
  afterAll(async () => t.close());

  const diff = async (from: string, to: string, extra = '') =>
    (
      await t.call('GET', `/v1/state/diff?environment=production&from=${from}&to=${to}${extra}`)
    ).json() as PageOf;

  it('lists what was added, removed and changed between two instants, with the deployment that did it', async () => {
    const page = await diff('2026-11-01T12:00:00Z', '2026-11-04T00:00:00Z');
    expect(page).toEqual({
      items: [
        {
          service: 'api',
          region: 'eu-west-1',
          change: 'added',
          from: null,
          to: { deployment: 'a1', version: '2.0.0' },
          changedBy: {
            deployment: 'a1',
            actor: 'bob',
            finishedAt: '2026-11-02T09:05:00.000Z',
            rolledBackAt: null,
          },
        },
        {
          service: 'cart',
          region: 'eu-west-1',
          change: 'changed',
          from: { deployment: 'p1', version: '1.0.0' },
          to: { deployment: 'p2', version: '1.1.0' },
          changedBy: {
            deployment: 'p2',
            actor: 'alice',
            finishedAt: '2026-11-03T09:05:00.000Z',
            rolledBackAt: null,
          },
        },
        {
          service: 'cart',
          region: 'us-east-1',
          change: 'removed',
          from: { deployment: 'us1', version: '1.0.0' },
          to: null,
          changedBy: {
            deployment: 'us1',
            actor: 'alice',
            finishedAt: '2026-10-31T09:05:00.000Z',
            rolledBackAt: '2026-11-02T12:00:00.000Z',
          },
        },
      ],
      nextCursor: null,
    });
  });

  it('names the rolled-back deployment when a rollback brought an older version back', async () => {
    const page = await diff('2026-11-05T12:00:00Z', '2026-11-06T12:00:00Z');
    expect(page.items).toEqual([
      {
        service: 'cart',
        region: 'eu-west-1',
        change: 'changed',
        from: { deployment: 'p3', version: '1.2.0' },
        to: { deployment: 'p2', version: '1.1.0' },
        changedBy: {
          deployment: 'p3',
          actor: 'alice',
          finishedAt: '2026-11-05T09:05:00.000Z',
          rolledBackAt: '2026-11-06T09:00:00.000Z',
        },
      },
    ]);
  });

  it('lists nothing when nothing changed', async () => {
    expect((await diff('2026-11-03T12:00:00Z', '2026-11-04T12:00:00Z')).items).toEqual([]);
  });

  it('pages the diff with a cursor and rejects a forged cursor', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const page = await diff('2026-11-01T12:00:00Z', '2026-11-04T00:00:00Z', `&limit=1${cursor}`);
      expect(page.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.items.map((i) => `${String(i.service)}/${String(i.region)}`));
      if (!page.nextCursor) break;
      cursor = `&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    expect(seen).toEqual(['api/eu-west-1', 'cart/eu-west-1', 'cart/us-east-1']);
    const forged = await t.call(
      'GET',
      '/v1/state/diff?environment=production&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&cursor=garbage',
    );
    expect(forged.status).toBe(400);
    expect(forged.json().error?.code).toBe('SHIPLOG_INVALID_CURSOR');
  });

  it('rejects from after to, and a missing instant, naming the parameter', async () => {
    const reversed = await t.call(
      'GET',
      '/v1/state/diff?environment=production&from=2026-11-04T00:00:00Z&to=2026-11-01T00:00:00Z',
    );
    expect(reversed.status).toBe(400);
    expect(JSON.stringify(reversed.json())).toContain('from');
    const missing = await t.call('GET', '/v1/state/diff?environment=production&from=2026-11-04T00:00:00Z');
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.json())).toContain('to');
  });

  it('compares what runs now in two environments, per service and region', async () => {
    const page = (await t.call('GET', '/v1/state/compare?a=staging&b=production')).json() as PageOf;
    expect(
      page.items.map((i) => ({
        at: `${String(i.service)}/${String(i.region)}`,
        a: (i.a as Item | null)?.version ?? null,
        b: (i.b as Item | null)?.version ?? null,
        differs: i.differs,
      })),
    ).toEqual([
      { at: 'api/eu-west-1', a: '2.0.0', b: '2.0.0', differs: false },
      { at: 'cart/eu-west-1', a: '1.3.0', b: '1.1.0', differs: true },
      { at: 'web/eu-west-1', a: '0.1.0', b: null, differs: true },
    ]);
    expect(page.items[1]?.b).toEqual({
      deployment: 'p2',
      version: '1.1.0',
      since: '2026-11-03T09:05:00.000Z',
      deployedBy: 'alice',
    });
    expect(page.nextCursor).toBeNull();
  });

  it('pages the comparison with a cursor', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const page = (
        await t.call('GET', `/v1/state/compare?a=staging&b=production&limit=1${cursor}`)
      ).json() as PageOf;
      seen.push(...page.items.map((i) => String(i.service)));
      if (!page.nextCursor) break;
      cursor = `&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    expect(seen).toEqual(['api', 'cart', 'web']);
  });
});
