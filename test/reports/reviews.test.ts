/**
 * The access review (tokens, their use counted in batches, findings, approvers) and the
 * coverage review (silent services and sources, unregistered environments, missing tags) on
 * both databases, through the real app.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_CSV_COLUMNS, type AccessReview } from '../../src/reports/access-review.js';
import type { CoverageReview } from '../../src/reports/coverage-review.js';
import { createTokenUsageRecorder } from '../../src/reports/token-usage.js';
import { DIALECTS } from '../helpers/dialects.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { rawSql } from '../helpers/raw-sql.js';

const DAY = 24 * 60 * 60 * 1000;

describe.each(DIALECTS)('access and coverage reviews on %s', (dialect) => {
  let t: TestApp;
  let auditor: string;
  let scoped: string;
  let wide: string;

  const token = async (body: Record<string, unknown>) => {
    const response = await t.call('POST', '/v1/tokens', body);
    expect(response.status).toBe(201);
    return response.json().token as string;
  };
  const usageRows = async () =>
    Number(
      (
        await rawSql(t.store)
          .selectFrom('token_usage')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    t = await testApp(dialect, {
      tokenUsageFlushMs: 0,
      policy: {
        environments: {
          production: { requireTicket: '^[A-Z]+-[0-9]+$', require: { fields: ['labels.change'] } },
          staging: {},
        },
      },
    });
    auditor = await token({ name: 'auditor-ann', role: 'auditor' });
    scoped = await token({ name: 'ci-checkout', role: 'deployer', scopes: { services: ['checkout-api'] } });
    wide = await token({ name: 'ci-wide', role: 'deployer' });
    await token({ name: 'idle-admin', role: 'admin' });
    await token({ name: 'bob', role: 'approver' });
  });
  afterAll(async () => t.close());

  it('counts token use in memory and writes it in one batch, not per request', async () => {
    const before = await usageRows();
    for (let i = 0; i < 5; i += 1) {
      const answer = await t.call('GET', '/v1/deployments', undefined, scoped);
      expect(answer.status).toBe(200);
    }
    // Five authenticated requests, no write yet.
    expect(await usageRows()).toBe(before);
    const review = (
      await t.call('GET', '/v1/reports/access', undefined, auditor)
    ).json() as unknown as AccessReview;
    const used = review.tokens.find((x) => x.name === 'ci-checkout');
    expect(used?.usesLast90Days).toBe(5);
    expect(used?.lastUsedAt).not.toBeNull();
    expect(used?.findings).toEqual([]);
  });

  it('lists every token without its secret, with the findings', async () => {
    await t.call(
      'POST',
      '/v1/events',
      {
        type: 'deployment.started',
        deployment: 'cov-1',
        service: 'checkout-api',
        environment: 'production',
        version: '1',
      },
      wide,
    );
    // A token last used long ago.
    const response = await t.call('GET', '/v1/reports/access', undefined, auditor);
    const text = JSON.stringify(response.json());
    expect(text).not.toMatch(/shiplog_[A-Za-z0-9_-]{20,}/);
    expect(text).not.toContain('"hash"');
    await rawSql(t.store)
      .updateTable('tokens')
      .set({ last_used_ms: Date.now() - 120 * DAY })
      .where('name', '=', 'bob')
      .execute();
    const review = (
      await t.call('GET', '/v1/reports/access', undefined, auditor)
    ).json() as unknown as AccessReview;
    const findings = Object.fromEntries(review.tokens.map((x) => [x.name, x.findings]));
    expect(findings['idle-admin']).toEqual(['never_used', 'admin_token']);
    expect(findings['ci-wide']).toEqual(['broad_scope']);
    expect(findings['bob']).toEqual(['unused_90d']);
    expect(findings['bootstrap']).toEqual(['admin_token']);
    const wideRow = review.tokens.find((x) => x.name === 'ci-wide');
    expect(wideRow).toMatchObject({
      role: 'deployer',
      scopes: null,
      createdBy: 'bootstrap',
      usesLast90Days: 1,
    });
    expect(review.summary).toMatchObject({ never_used: 1, admin_token: 2, broad_scope: 1, unused_90d: 1 });
  });

  it('gives every approver with their approvals, and a CSV of the tokens', async () => {
    await t.call('POST', '/v1/events', {
      type: 'deployment.requested',
      deployment: 'cov-2',
      service: 'checkout-api',
      environment: 'staging',
      version: '2',
      actor: 'alice',
    });
    const bob = await token({ name: 'bob2', role: 'approver' });
    expect(
      (await t.call('POST', '/v1/deployments/cov-2/approvals', { decision: 'approve', comment: 'ok' }, bob))
        .status,
    ).toBe(201);
    const review = (
      await t.call('GET', '/v1/reports/access', undefined, auditor)
    ).json() as unknown as AccessReview;
    expect(review.approvers).toEqual([
      expect.objectContaining({ approver: 'bob2', approvals: 1, rejections: 0 }),
    ]);
    const csv = await t.app.server.inject({
      method: 'GET',
      url: '/v1/reports/access?format=csv',
      headers: { authorization: `Bearer ${auditor}` },
    });
    const records = parse(csv.body) as string[][];
    expect(records[0]).toEqual([...ACCESS_CSV_COLUMNS]);
    expect(records.length).toBe(1 + review.tokens.length);
    expect(records.find((r) => r[1] === 'ci-checkout')?.[3]).toBe('checkout-api');
  });

  it('finds coverage gaps: silent services and sources, unregistered environments, missing tags', async () => {
    expect(
      (
        await t.call('POST', '/v1/catalog', {
          entities: [{ name: 'checkout-api' }, { name: 'ledger-svc', team: 'core' }],
        })
      ).status,
    ).toBeLessThan(300);
    await t.call('POST', '/v1/events', {
      type: 'deployment.started',
      deployment: 'cov-3',
      service: 'checkout-api',
      environment: 'production',
      version: '3',
      ticket: 'OPS-3',
      labels: { change: 'CHG-1' },
    });
    await rawSql(t.store)
      .updateTable('sources')
      .set({ last_seen_ms: Date.now() - 40 * DAY })
      .where('source', '=', 'ci-wide')
      .execute();
    // An environment only the admission webhook ever saw.
    await rawSql(t.store)
      .insertInto('admission_decisions')
      .values({
        id: 'adm-1',
        uid: 'u-1',
        operation: 'CREATE',
        namespace: 'shadow',
        environment: 'shadow-prod',
        workload_kind: 'Deployment',
        workload_name: 'x',
        allow: 1,
        images: '[]',
        message: null,
        asked_by: 'kube',
        created_ms: Date.now(),
      })
      .execute();
    const review = (
      await t.call('GET', '/v1/reports/coverage?days=30', undefined, auditor)
    ).json() as unknown as CoverageReview;
    expect(review.days).toBe(30);
    expect(review.services).toEqual([{ service: 'ledger-svc', team: 'core', lastDeploymentAt: null }]);
    expect(review.sources.map((s) => s.source)).toEqual(['ci-wide']);
    expect(review.unregisteredEnvironments).toEqual([
      { environment: 'shadow-prod', seenBy: ['admission'], lastSeenAt: expect.any(String) },
    ]);
    expect(review.missingTags.items).toEqual([
      expect.objectContaining({ deployment: 'cov-1', missing: ['ticket', 'labels.change'] }),
    ]);
    expect((await t.call('GET', '/v1/reports/coverage?days=0', undefined, auditor)).status).toBe(400);
  });
});

describe('token use recorder', () => {
  it('adds counts per token and day, keeps the latest use, and puts a failed batch back', async () => {
    const written: { tokenId: string; day: number; uses: number; lastMs: number }[][] = [];
    let fail = true;
    const recorder = createTokenUsageRecorder(
      {
        async recordTokenUse(uses) {
          if (fail) {
            fail = false;
            throw new Error('database away');
          }
          written.push([...uses]);
        },
      },
      { intervalMs: 0 },
    );
    recorder.record('a', 10 * DAY + 5);
    recorder.record('a', 10 * DAY + 9);
    recorder.record('b', 11 * DAY);
    await expect(recorder.flush()).rejects.toThrow('database away');
    recorder.record('a', 10 * DAY + 7);
    await recorder.close();
    expect(written).toEqual([
      expect.arrayContaining([
        { tokenId: 'a', day: 10, uses: 3, lastMs: 10 * DAY + 9 },
        { tokenId: 'b', day: 11, uses: 1, lastMs: 11 * DAY },
      ]),
    ]);
  });
});
