/**
 * Every list pages through one keyset helper (src/store/cursor.ts): paging one row at a time,
 * or two, gives exactly the rows of one big page, in the same order, also when several rows
 * share the first sort column (equal times), and a forged cursor is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from '../../src/store/cursor.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

const T0 = Date.parse('2026-11-01T09:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** Pages through a list `limit` rows at a time; the rows of every page, in order. */
async function pageThrough<T>(
  list: (page: { limit: number; cursor?: string }) => Promise<Page<T>>,
  limit: number,
): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await list({ limit, ...(cursor === undefined ? {} : { cursor }) });
    rows.push(...page.items);
    if (page.nextCursor === null) return rows;
    cursor = page.nextCursor;
  }
  throw new Error('more than 100 pages');
}

describe.each(DIALECTS)('keyset pages on %s', (dialect) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await testApp(dialect);
    // Deployments: three share one start time (a tie on sort_ms), over two environments and
    // three regions; two are only requested (pending approval), three succeeded.
    const events = [];
    for (const [i, ms] of [T0, T0, T0, T0 + 1000, T0 + 2000].entries()) {
      for (const environment of ['production', 'staging']) {
        const common = {
          deployment: `d${i}-${environment}`,
          service: `svc-${i % 2}`,
          environment,
          region: ['eu-west-1', 'us-east-1', 'ap-south-1'][i % 3],
          version: `1.${i}.0`,
          actor: 'alice',
          time: iso(ms),
        };
        events.push({ ...common, type: i < 2 ? 'deployment.requested' : 'deployment.started' });
        if (i >= 2) events.push({ ...common, type: 'deployment.succeeded', time: iso(ms + 500) });
      }
    }
    expect((await t.call('POST', '/v1/events', { events })).status).toBe(201);
    // Sources: one per token that sent events.
    for (const name of ['ci-b', 'ci-a']) {
      const { secret } = await t.store.tokens.create({ name, role: 'deployer', createdBy: 'test' });
      const event = {
        type: 'deployment.started',
        deployment: name,
        service: 'svc-0',
        environment: 'dev',
        version: '1',
      };
      expect((await t.call('POST', '/v1/events', event, secret)).status).toBe(201);
    }
    // Approvals, gate decisions and dead letters: several rows share one created_ms.
    await t.store.writeTransaction(async (trx) => {
      for (const [i, ms] of [T0, T0, T0, T0 + 1, T0 + 2].entries()) {
        const base = { deployment: `d${i}-production`, service: `svc-${i % 2}`, environment: 'production' };
        await t.store.approvals.insert(
          {
            ...base,
            id: `apr_${i}`,
            version: `1.${i}.0`,
            approver: `approver-${i}`,
            approver_role: 'approver',
            decision: 'approve',
            comment: '',
            created_ms: ms,
            expires_ms: null,
          },
          trx,
        );
      }
      await t.store.gateDecisions.insert(
        [T0, T0, T0, T0 + 1, T0 + 2].map((ms, i) => ({
          id: `gate_${i}`,
          deployment: `d${i}-staging`,
          service: `svc-${i % 2}`,
          environment: 'staging',
          version: `1.${i}.0`,
          ticket: null,
          asked_by: 'ci',
          allow: 0,
          enforced: 0,
          overridden: 0,
          override_by: null,
          override_justification: null,
          reasons: '[]',
          created_ms: ms,
        })),
        trx,
      );
    });
    for (const [i, ms] of [T0, T0, T0, T0 + 1].entries()) {
      await t.store.deadLetters.insert({
        sink: 'sink',
        eventId: `e${i}`,
        type: 'dev.cdevents.service.deployed.0.2.0',
        headers: {},
        body: '{}',
        attempts: 5,
        lastError: 'HTTP 500',
        createdMs: ms,
      });
    }
  });
  afterAll(async () => t.close());

  const lists: Record<
    string,
    (app: TestApp, page: { limit: number; cursor?: string }) => Promise<Page<unknown>>
  > = {
    deployments: (app, page) => app.store.deployments.list(page),
    'state at an instant': (app, page) =>
      app.store.deployments.stateAt({ environment: 'production', atMs: T0 + 10_000, ...page }),
    environments: (app, page) => app.store.environments.list(page),
    sources: (app, page) => app.store.sources.list(page),
    'decided approvals': (app, page) => app.store.approvals.listDecided(page),
    'pending approvals': (app, page) =>
      app.store.approvals.listPending({ environments: ['production', 'staging'], ...page }),
    'gate decisions': (app, page) => app.store.gateDecisions.list(page),
    violations: (app, page) =>
      app.store.gateDecisions.listViolations({ protectedEnvironments: ['production', 'staging'], ...page }),
    'dead letters': (app, page) => app.store.deadLetters.list(page),
  };

  it.each(Object.keys(lists))('%s: small pages hold exactly the rows of one big page', async (name) => {
    const list = lists[name] as (typeof lists)[string];
    const all = (await list(t, { limit: 1000 })).items;
    expect(all.length, name).toBeGreaterThan(2);
    expect(await pageThrough((page) => list(t, page), 1)).toEqual(all);
    expect(await pageThrough((page) => list(t, page), 2)).toEqual(all);
  });

  it.each(Object.keys(lists))('%s: a forged cursor is refused', async (name) => {
    const list = lists[name] as (typeof lists)[string];
    for (const cursor of ['garbage', Buffer.from('[1,2,3,4]').toString('base64url')]) {
      await expect(list(t, { limit: 1, cursor })).rejects.toMatchObject({ code: 'SHIPLOG_INVALID_CURSOR' });
    }
  });

  it('orders ties on the time by the id, newest first', async () => {
    const ids = (await t.store.approvals.listDecided({ limit: 1000 })).items.map((a) => a.id);
    expect(ids).toEqual(['apr_4', 'apr_3', 'apr_2', 'apr_1', 'apr_0']);
    const gates = (await t.store.gateDecisions.list({ limit: 1000 })).items.map((g) => g.decisionId);
    expect(gates).toEqual(['gate_4', 'gate_3', 'gate_2', 'gate_1', 'gate_0']);
    const deployments = (await t.store.deployments.list({ limit: 1000 })).items.map((d) => d.deployment);
    expect(deployments.slice(-6)).toEqual([
      'd2-staging',
      'd2-production',
      'd1-staging',
      'd1-production',
      'd0-staging',
      'd0-production',
    ]);
  });
});
