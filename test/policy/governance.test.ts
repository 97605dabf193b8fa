/**
 * Governance end to end over the real app on a fresh database (both dialects): policies,
 * approvals with separation of duties, the gate, overrides and unapproved changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { CONFIG } from './policy-config.js';
import { rawSql } from '../helpers/raw-sql.js';

type Answer = Awaited<ReturnType<TestApp['call']>>;

describe.each(DIALECTS)('governance on %s', (dialect) => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  let counter = 0;

  const token = async (name: string, role: string, scopes?: unknown) => {
    const created = await t.call('POST', '/v1/tokens', { name, role, ...(scopes ? { scopes } : {}) });
    expect(created.status).toBe(201);
    return (created.json() as { token: string }).token;
  };
  /** Records events for a new deployment by alice; returns its key. */
  const deploy = async (
    environment: string,
    types: string[] = ['deployment.requested'],
    extra: Record<string, unknown> = {},
  ) => {
    const deployment = `d-${dialect}-${++counter}`;
    for (const type of types) {
      const answer = await t.call('POST', '/v1/events', {
        type,
        deployment,
        service: 'checkout-api',
        environment,
        version: '1.0.0',
        actor: 'alice',
        ...extra,
      });
      expect(answer.status).toBe(201);
    }
    return deployment;
  };
  const decide = (deployment: string, decision: string, who: string, comment = 'ok') =>
    t.call('POST', `/v1/deployments/${deployment}/approvals`, { decision, comment }, tokens[who]);
  const gate = (body: Record<string, unknown>, who = 'deployer', query = '') =>
    t.call(
      'POST',
      `/v1/gate${query}`,
      { service: 'checkout-api', version: '1.0.0', environment: 'production', ...body },
      tokens[who],
    );
  const codes = (answer: Answer) =>
    (answer.json() as { reasons: { code: string }[] }).reasons.map((r) => r.code);

  beforeAll(async () => {
    t = await testApp(dialect, { policy: CONFIG.policy, kubernetes: CONFIG.kubernetes });
    tokens.carol = await token('carol', 'approver');
    tokens.dave = await token('dave', 'approver');
    tokens.alice = await token('alice', 'approver');
    tokens.deployer = await token('ci', 'deployer');
    tokens.viewer = await token('vera', 'viewer');
    tokens.auditor = await token('audrey', 'auditor');
    tokens.scoped = await token('staging-ci', 'deployer', {
      services: ['checkout-api'],
      environments: ['staging'],
    });
    tokens.admin = 'test-admin-secret';
  });
  afterAll(async () => t.close());

  describe('policies', () => {
    it('serves the loaded policy to every authenticated role, 401 without a token', async () => {
      for (const who of ['viewer', 'auditor', 'deployer', 'carol', 'admin']) {
        const answer = await t.call('GET', '/v1/policies', undefined, tokens[who]);
        expect(answer.status, who).toBe(200);
        const body = answer.json() as { environments: Record<string, { approvals?: number }> };
        expect(body.environments.production?.approvals).toBe(1);
      }
      expect((await t.call('GET', '/v1/policies', undefined, null)).status).toBe(401);
    });
  });

  describe('approvals', () => {
    it('forbids every role but approver and admin, and answers 401 without a token', async () => {
      const d = await deploy('production');
      for (const who of ['deployer', 'viewer', 'auditor', 'scoped']) {
        const answer = await decide(d, 'approve', who);
        expect(answer.status, who).toBe(403);
        expect(answer.json().error?.code).toBe('SHIPLOG_FORBIDDEN');
      }
      const anonymous = await t.call('POST', `/v1/deployments/${d}/approvals`, { decision: 'approve' }, null);
      expect(anonymous.status).toBe(401);
    });

    it('answers 404 for an unknown deployment and 400 for a bad decision', async () => {
      const unknown = await decide('no-such-deployment', 'approve', 'carol');
      expect(unknown.status).toBe(404);
      expect(unknown.json().error?.code).toBe('SHIPLOG_NOT_FOUND');
      const d = await deploy('production');
      expect((await decide(d, 'maybe', 'carol')).status).toBe(400);
    });

    it('refuses self-approval with 403 naming separation of duties', async () => {
      const d = await deploy('production');
      const answer = await decide(d, 'approve', 'alice');
      expect(answer.status).toBe(403);
      const message = (answer.json().error as unknown as { message: string }).message;
      expect(message).toMatch(/separation of duties/i);
      expect(message).toContain('alice');
    });

    it('approves: the deployment becomes approved in the same transaction, with a ledger entry', async () => {
      const d = await deploy('production');
      const answer = await decide(d, 'approve', 'carol', 'looks good');
      expect(answer.status).toBe(201);
      const body = answer.json() as {
        approved: boolean;
        status: string;
        ledgerIndex: number;
        approval: { approver: string; version: string; expiresAt: string };
      };
      expect(body).toMatchObject({ approved: true, status: 'approved' });
      expect(body.approval).toMatchObject({ approver: 'carol', version: '1.0.0' });
      expect(body.approval.expiresAt).not.toBeNull();
      expect(typeof body.ledgerIndex).toBe('number');
      const entry = await rawSql(t.store)
        .selectFrom('ledger_entries')
        .select(['record_type', 'data'])
        .where('idx', '=', body.ledgerIndex)
        .executeTakeFirstOrThrow();
      expect(entry.record_type).toBe('approval');
      expect(JSON.parse(entry.data ?? '{}')).toMatchObject({ approver: 'carol', deployment: d });
      const shown = await t.call('GET', `/v1/deployments/${d}`);
      expect((shown.json() as { status: string }).status).toBe('approved');
      // A later event keeps the approval: started, then still flagged approved underneath.
      await t.call('POST', '/v1/events', {
        type: 'deployment.started',
        deployment: d,
        service: 'checkout-api',
        environment: 'production',
        actor: 'alice',
      });
      expect(((await t.call('GET', `/v1/deployments/${d}`)).json() as { status: string }).status).toBe(
        'in_progress',
      );
    });

    it('answers 409 when the approver already decided, or the deployment is finished', async () => {
      const d = await deploy('production');
      expect((await decide(d, 'approve', 'carol')).status).toBe(201);
      const again = await decide(d, 'reject', 'carol');
      expect(again.status).toBe(409);
      expect((again.json().error as unknown as { message: string }).message).toMatch(/already decided/);
      const finished = await deploy('production', ['deployment.started', 'deployment.succeeded']);
      const late = await decide(finished, 'approve', 'dave');
      expect(late.status).toBe(409);
      expect((late.json().error as unknown as { message: string }).message).toMatch(/already succeeded/);
    });

    it('a rejection keeps the deployment requested and blocks the gate', async () => {
      const d = await deploy('production');
      const answer = await decide(d, 'reject', 'dave', 'not today');
      expect(answer.status).toBe(201);
      expect(answer.json()).toMatchObject({ approved: false, status: 'requested' });
      expect((await decide(d, 'approve', 'carol')).json()).toMatchObject({ approved: false });
      const decision = await gate({ deployment: d, ticket: 'OPS-1' });
      expect(codes(decision)).toContain('approval_rejected');
    });

    it('lists pending requests and decided approvals, paginated', async () => {
      const waiting = await deploy('production');
      const pending = await t.call('GET', '/v1/approvals?state=pending&environment=production&limit=100');
      expect(pending.status).toBe(200);
      const items = (pending.json() as { items: { deployment: string }[] }).items;
      expect(items.map((i) => i.deployment)).toContain(waiting);
      const decided = await t.call('GET', '/v1/approvals?state=decided&limit=1', undefined, tokens.viewer);
      const page = decided.json() as { items: { approver: string }[]; nextCursor: string | null };
      expect(page.items).toHaveLength(1);
      expect(page.nextCursor).not.toBeNull();
      const next = await t.call(
        'GET',
        `/v1/approvals?state=decided&limit=1&cursor=${encodeURIComponent(page.nextCursor ?? '')}`,
      );
      expect(next.status).toBe(200);
      expect((await t.call('GET', '/v1/approvals?state=bogus')).status).toBe(400);
    });
  });

  describe('the gate', () => {
    it('allows an approved deployment with a valid ticket, records it and lists it', async () => {
      const d = await deploy('production');
      await decide(d, 'approve', 'carol');
      const answer = await gate({ deployment: d, ticket: 'OPS-123' });
      expect(answer.status).toBe(200);
      const body = answer.json() as { allow: boolean; decisionId: string; reasons: unknown[] };
      expect(body.allow).toBe(true);
      expect(body.reasons).toEqual([]);
      expect(body.decisionId).toMatch(/^gate_/);
      const listed = await t.call('GET', `/v1/gate/decisions?deployment=${d}`, undefined, tokens.viewer);
      const items = (listed.json() as { items: { decisionId: string; allow: boolean }[] }).items;
      expect(items).toEqual([expect.objectContaining({ decisionId: body.decisionId, allow: true })]);
    });

    it('denies with every reason at once', async () => {
      const d = await deploy('windowed');
      // Inside the year-end freeze, outside the window (a Sunday), no ticket, no approval.
      const answer = await gate(
        { deployment: d, environment: 'windowed' },
        'deployer',
        '?at=2026-12-20T12:00:00Z',
      );
      expect(answer.status).toBe(200);
      expect(answer.json()).toMatchObject({ allow: false, simulated: true, decisionId: null });
      expect(codes(answer)).toEqual(['frozen', 'outside_window', 'ticket_missing', 'approval_missing']);
      const invalid = await gate(
        { deployment: d, environment: 'windowed', ticket: 'nope' },
        'deployer',
        '?at=2026-11-30T09:30:00Z',
      );
      expect(codes(invalid)).toEqual(['ticket_invalid', 'approval_missing']);
    });

    it('does not record a what-if, and records every real decision', async () => {
      const d = await deploy('production');
      const count = async () =>
        ((await t.call('GET', `/v1/gate/decisions?deployment=${d}`)).json() as { items: unknown[] }).items
          .length;
      await gate({ deployment: d }, 'deployer', '?at=2027-02-01T10:00:00Z');
      expect(await count()).toBe(0);
      const denied = await gate({ deployment: d });
      expect(denied.json()).toMatchObject({ allow: false });
      expect(await count()).toBe(1);
      const onlyDenied = await t.call('GET', `/v1/gate/decisions?deployment=${d}&allow=false`);
      expect((onlyDenied.json() as { items: unknown[] }).items).toHaveLength(1);
      expect((await gate({ deployment: d }, 'deployer', '?at=yesterday')).status).toBe(400);
    });

    it('does not count an approval of another version', async () => {
      const d = await deploy('production');
      await decide(d, 'approve', 'carol');
      const answer = await gate({ deployment: d, ticket: 'OPS-1', version: '2.0.0' });
      expect(answer.json()).toMatchObject({ allow: false });
      const reasons = (answer.json() as { reasons: { code: string; message: string }[] }).reasons;
      expect(reasons).toEqual([
        expect.objectContaining({
          code: 'approval_missing',
          message: expect.stringContaining('another version'),
        }),
      ]);
    });

    it('lets an approval expire (approvalTtl 1h)', async () => {
      const d = await deploy('production');
      await decide(d, 'approve', 'carol');
      const later = new Date(Date.now() + 2 * 3600_000).toISOString();
      const answer = await gate({ deployment: d, ticket: 'OPS-1' }, 'deployer', `?at=${later}`);
      expect(codes(answer)).toEqual(['approval_missing', 'approval_expired']);
      const soon = new Date(Date.now() + 30 * 60_000).toISOString();
      expect(
        (await gate({ deployment: d, ticket: 'OPS-1' }, 'deployer', `?at=${soon}`)).json(),
      ).toMatchObject({
        allow: true,
      });
    });

    it('lists a self-approval as ignored when approvals are short', async () => {
      // The actor's approval never counts, even when it got in some other way (an admin named alice).
      const d = await deploy('production');
      const aliceAdmin = await token('alice', 'admin');
      expect(
        (await t.call('POST', `/v1/deployments/${d}/approvals`, { decision: 'approve' }, aliceAdmin)).status,
      ).toBe(403);
      expect(codes(await gate({ deployment: d, ticket: 'OPS-1' }))).toEqual(['approval_missing']);
    });

    it('forbids other roles and scopes, and a mismatched deployment', async () => {
      const d = await deploy('production');
      for (const who of ['viewer', 'auditor', 'carol']) {
        const answer = await gate({ deployment: d }, who);
        expect(answer.status, who).toBe(403);
      }
      const anonymous = { deployment: d, service: 'checkout-api', environment: 'production', version: '1' };
      expect((await t.call('POST', '/v1/gate', anonymous, null)).status).toBe(401);
      expect((await gate({ deployment: d }, 'scoped')).status).toBe(403);
      const staging = await deploy('staging');
      const advisory = await gate({ deployment: staging, environment: 'staging' }, 'scoped');
      expect(advisory.status).toBe(200);
      expect(advisory.json()).toMatchObject({ allow: true, enforced: false });
      expect(codes(advisory)).toEqual(['approval_missing']);
      const mismatch = await gate({ deployment: d, environment: 'staging' }, 'deployer');
      expect(mismatch.status).toBe(409);
      expect((await gate({ deployment: d, extra: 1 })).status).toBe(400);
    });

    it('evaluates a deployment shiplog does not know from the request', async () => {
      const answer = await gate({ deployment: `unknown-${dialect}`, ticket: 'OPS-9' });
      expect(answer.json()).toMatchObject({ allow: false });
      expect(codes(answer)).toEqual(['approval_missing']);
      const unconfigured = await gate({ deployment: `unknown2-${dialect}`, environment: 'dev' });
      expect(unconfigured.json()).toMatchObject({ allow: true, enforced: false, reasons: [] });
    });

    it('allows an admin override with a justification and flags it everywhere', async () => {
      const d = await deploy('production');
      const answer = await gate(
        { deployment: d, override: { justification: 'payment outage, INC-7' } },
        'admin',
      );
      expect(answer.json()).toMatchObject({ allow: true, overridden: true });
      expect(codes(answer)).toEqual(['ticket_missing', 'approval_missing']);
      const listed = await t.call('GET', `/v1/gate/decisions?deployment=${d}&overridden=true`);
      expect((listed.json() as { items: unknown[] }).items).toEqual([
        expect.objectContaining({
          allow: true,
          overridden: true,
          override: { by: 'bootstrap', justification: 'payment outage, INC-7' },
        }),
      ]);
      const ledger = await rawSql(t.store)
        .selectFrom('ledger_entries')
        .select('data')
        .where('record_type', '=', 'gate_decision')
        .execute();
      expect(ledger.some((row) => (row.data ?? '').includes('payment outage, INC-7'))).toBe(true);
    });

    it('rejects an override by a deployer or without a justification', async () => {
      const d = await deploy('production');
      const byDeployer = await gate({ deployment: d, override: { justification: 'please' } });
      expect(byDeployer.json()).toMatchObject({ allow: false, overridden: false });
      expect(codes(byDeployer)).toContain('override_rejected');
      const blank = await gate({ deployment: d, override: { justification: ' ' } }, 'admin');
      expect(blank.json()).toMatchObject({ allow: false });
      expect(codes(blank)).toContain('override_rejected');
    });
  });

  describe('violations', () => {
    it('flags a start in a protected environment without an allowed gate decision', async () => {
      const unapproved = await deploy('production', ['deployment.started']);
      const denied = await deploy('production', ['deployment.requested']);
      await gate({ deployment: denied });
      await t.call('POST', '/v1/events', {
        type: 'deployment.started',
        deployment: denied,
        service: 'checkout-api',
        environment: 'production',
        actor: 'alice',
      });
      const gated = await deploy('production');
      await decide(gated, 'approve', 'carol');
      expect((await gate({ deployment: gated, ticket: 'OPS-5' })).json()).toMatchObject({ allow: true });
      await t.call('POST', '/v1/events', {
        type: 'deployment.started',
        deployment: gated,
        service: 'checkout-api',
        environment: 'production',
        actor: 'alice',
      });
      const staging = await deploy('staging', ['deployment.started']);

      const answer = await t.call('GET', '/v1/violations?limit=1000', undefined, tokens.auditor);
      expect(answer.status).toBe(200);
      const items = (answer.json() as { items: { deployment: string; rule: string }[] }).items;
      const flagged = items.map((i) => i.deployment);
      expect(flagged).toContain(unapproved);
      expect(flagged).toContain(denied);
      expect(flagged).not.toContain(gated);
      expect(flagged).not.toContain(staging);
      expect(items[0]?.rule).toBe('unapproved_change');

      const first = (await t.call('GET', '/v1/violations?limit=1')).json() as { nextCursor: string | null };
      expect(first.nextCursor).not.toBeNull();
      expect((await t.call('GET', '/v1/violations', undefined, null)).status).toBe(401);
    });
  });
});
