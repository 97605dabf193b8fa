/**
 * Regressions of the governance security review (issue 9), each reproducing the attack over
 * the real app on every dialect: approvals surviving a version swap, a gate decision made for
 * another kind, service or version standing in for the deployment that ran, unscoped
 * approvals, self-approval under a look-alike name, admission of unaccounted images, and a
 * backtracking ticket pattern.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config-file.js';
import { DIALECTS } from '../helpers/dialects.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { rawSql } from '../helpers/raw-sql.js';

const CONFIG = parseConfigFile(
  `
environments:
  production:
    protected: true
    approvals: 1
    requireTicket: '^[A-Z]+-[0-9]+$'
    require:
      byKind:
        hotfix: {approvals: 0}
  redos:
    protected: true
    requireTicket: '^([A-Z]+)+-[0-9]+$'
kubernetes:
  namespaces:
    prod: production
  repositories:
    checkout-api: [ghcr.io/acme/checkout-api]
    billing: [ghcr.io/acme/billing]
`,
  'shiplog.yaml',
);

type Answer = Awaited<ReturnType<TestApp['call']>>;

interface Review {
  response: { allowed: boolean; status?: { message: string } };
}

describe.each(DIALECTS)('governance security regressions on %s', (dialect) => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  let counter = 0;
  const key = (what: string) => `sec-${what}-${dialect}-${++counter}`;

  const token = async (name: string, role: string, scopes?: unknown) => {
    const created = await t.call('POST', '/v1/tokens', { name, role, ...(scopes ? { scopes } : {}) });
    expect(created.status).toBe(201);
    return (created.json() as { token: string }).token;
  };
  const event = async (body: Record<string, unknown>) => {
    const answer = await t.call('POST', '/v1/events', {
      service: 'checkout-api',
      environment: 'production',
      actor: 'alice',
      ...body,
    });
    expect(answer.status).toBe(201);
  };
  const decide = (deployment: string, who: string, decision = 'approve') =>
    t.call('POST', `/v1/deployments/${deployment}/approvals`, { decision, comment: 'ok' }, tokens[who]);
  const gate = (body: Record<string, unknown>, who = 'deployer') =>
    t.call(
      'POST',
      '/v1/gate',
      { service: 'checkout-api', environment: 'production', version: '1.0.0', ticket: 'OPS-1', ...body },
      tokens[who],
    );
  const codes = (answer: Answer) =>
    (answer.json() as { reasons: { code: string }[] }).reasons.map((r) => r.code);
  const admit = async (images: string[]) => {
    const answer = await t.call(
      'POST',
      '/v1/admission/kubernetes',
      {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: `uid-${++counter}`,
          kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
          operation: 'CREATE',
          namespace: 'prod',
          name: 'checkout-api',
          object: {
            metadata: { name: 'checkout-api', labels: { app: 'checkout-api' } },
            spec: {
              template: { spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } },
            },
          },
        },
      },
      tokens.viewer,
    );
    expect(answer.status).toBe(200);
    return (answer.json() as unknown as Review).response;
  };
  const violations = async () => {
    const answer = await t.call('GET', '/v1/violations?limit=1000', undefined, tokens.viewer);
    return (answer.json() as { items: { deployment: string }[] }).items.map((i) => i.deployment);
  };

  beforeAll(async () => {
    t = await testApp(dialect, { policy: CONFIG.policy, kubernetes: CONFIG.kubernetes });
    tokens.carol = await token('carol', 'approver');
    tokens.deployer = await token('ci', 'deployer');
    tokens.viewer = await token('vera', 'viewer');
    tokens.scoped = await token('checkout-approver', 'approver', { services: ['checkout-api'] });
    tokens.stagingOnly = await token('staging-approver', 'approver', { environments: ['staging'] });
    tokens.admin = 'test-admin-secret';
  });
  afterAll(async () => t.close());

  it('finding 4: an approval does not survive a backdated event that swaps the version (admission, gate)', async () => {
    const d = key('swap');
    const now = Date.now();
    await event({
      type: 'deployment.requested',
      deployment: d,
      version: '1.0.0',
      time: new Date(now).toISOString(),
    });
    expect((await decide(d, 'carol')).json()).toMatchObject({ approved: true });
    // A backdated first event carries another version: descriptive fields come from the earliest one.
    await event({
      type: 'deployment.requested',
      deployment: d,
      version: '6.6.6',
      time: new Date(now - 3600_000).toISOString(),
    });
    const shown = (await t.call('GET', `/v1/deployments/${d}`)).json() as { version: string };
    expect(shown.version).toBe('6.6.6');

    const review = await admit(['ghcr.io/acme/checkout-api:6.6.6']);
    expect(review.allowed).toBe(false);
    expect(review.status?.message).toContain('no shiplog deployment of checkout-api 6.6.6');
    expect(codes(await gate({ deployment: d, version: '6.6.6' }))).toEqual(['approval_missing']);
    // The approved version is no longer what this deployment deploys, so it is not admitted either.
    expect((await admit(['ghcr.io/acme/checkout-api:1.0.0'])).allowed).toBe(false);
  });

  it('finding 5: a decision allowed for a hotfix does not cover the release recorded under its key', async () => {
    const d = key('kind');
    const asked = await gate({ deployment: d, version: '2.0.0', kind: 'hotfix' });
    expect(asked.json()).toMatchObject({ allow: true, reasons: [] });
    await event({ type: 'deployment.started', deployment: d, version: '2.0.0' }); // kind: release
    expect(await violations()).toContain(d);
    expect((await admit(['ghcr.io/acme/checkout-api:2.0.0'])).allowed).toBe(false);
    // Now that shiplog knows it as a release, asking for it as a hotfix is a conflict.
    const relabel = await gate({ deployment: d, version: '2.0.0', kind: 'hotfix' });
    expect(relabel.status).toBe(409);
    const listed = await t.call('GET', `/v1/gate/decisions?deployment=${d}`);
    expect((listed.json() as { items: { kind: string }[] }).items.map((i) => i.kind)).toEqual(['hotfix']);
  });

  it('finding 5: a hotfix the gate allowed is admitted and not a violation', async () => {
    const d = key('hotfix');
    await event({ type: 'deployment.requested', deployment: d, version: '2.1.0', kind: 'hotfix' });
    expect((await gate({ deployment: d, version: '2.1.0' })).json()).toMatchObject({ allow: true });
    await event({ type: 'deployment.started', deployment: d });
    expect(await violations()).not.toContain(d);
    expect((await admit(['ghcr.io/acme/checkout-api:2.1.0'])).allowed).toBe(true);
  });

  it('finding 6: an approver scoped to checkout-api cannot approve a billing deployment', async () => {
    const billing = key('billing');
    await event({ type: 'deployment.requested', deployment: billing, service: 'billing', version: '1.0.0' });
    const refused = await decide(billing, 'scoped');
    expect(refused.status).toBe(403);
    expect(refused.json().error?.code).toBe('SHIPLOG_FORBIDDEN');
    expect((refused.json().error as unknown as { message: string }).message).toContain('service "billing"');
    const byEnvironment = await decide(billing, 'stagingOnly');
    expect(byEnvironment.status).toBe(403);
    const decided = await t.call('GET', '/v1/approvals?state=decided&limit=200');
    const deployments = (decided.json() as { items: { deployment: string }[] }).items.map(
      (i) => i.deployment,
    );
    expect(deployments).not.toContain(billing);

    const checkout = key('checkout');
    await event({ type: 'deployment.requested', deployment: checkout, version: '1.0.0' });
    expect((await decide(checkout, 'scoped')).status).toBe(201);
  });

  it('finding 7: look-alike names of the actor cannot approve (case, space, Cyrillic, zero-width, fullwidth)', async () => {
    const d = key('self');
    await event({ type: 'deployment.requested', deployment: d, version: '1.0.0', actor: 'appr' });
    for (const name of ['APPR', 'appr ', '\u0430ppr', 'appr\u200b', '\uff41ppr']) {
      const lookalike = await token(name, 'approver');
      const answer = await t.call(
        'POST',
        `/v1/deployments/${d}/approvals`,
        { decision: 'approve' },
        lookalike,
      );
      expect(answer.status, JSON.stringify(name)).toBe(403);
      expect((answer.json().error as unknown as { message: string }).message).toMatch(
        /separation of duties/i,
      );
    }
    expect(codes(await gate({ deployment: d }))).toEqual(['approval_missing']);
  });

  it('finding 7: one approver under two look-alike names decides once', async () => {
    const d = key('twice');
    await event({ type: 'deployment.requested', deployment: d, version: '1.0.0' });
    const carolCyrillic = await token('c\u0430rol', 'approver');
    expect((await decide(d, 'carol')).status).toBe(201);
    const again = await t.call(
      'POST',
      `/v1/deployments/${d}/approvals`,
      { decision: 'approve' },
      carolCyrillic,
    );
    expect(again.status).toBe(409);
  });

  it('finding 8: a decision for another version or service does not hide a violation', async () => {
    const otherVersion = key('version');
    await event({ type: 'deployment.requested', deployment: otherVersion, version: '1.0.0' });
    const override = { override: { justification: 'INC-1' } };
    expect(
      (await gate({ deployment: otherVersion, version: '9.9.9', ...override }, 'admin')).json(),
    ).toMatchObject({ allow: true, overridden: true });
    await event({ type: 'deployment.started', deployment: otherVersion });

    const otherService = key('service');
    expect(
      (await gate({ deployment: otherService, service: 'billing', ...override }, 'admin')).json(),
    ).toMatchObject({ allow: true });
    await event({ type: 'deployment.started', deployment: otherService, version: '1.0.0' });

    const flagged = await violations();
    expect(flagged).toContain(otherVersion);
    expect(flagged).toContain(otherService);
  });

  it('finding 11: admission denies a workload with an unaccounted image beside an approved one', async () => {
    const d = key('images');
    await event({ type: 'deployment.requested', deployment: d, version: '6.6.6' });
    expect((await decide(d, 'carol')).json()).toMatchObject({ approved: true });
    expect((await admit(['ghcr.io/acme/checkout-api:6.6.6'])).allowed).toBe(true);

    const mixed = await admit(['attacker/miner:latest', 'ghcr.io/acme/checkout-api:6.6.6']);
    expect(mixed.allowed).toBe(false);
    expect(mixed.status?.message).toContain(
      'attacker/miner:latest: repository docker.io/attacker/miner is not mapped to a service',
    );
    // The same name from another registry is another repository.
    expect((await admit(['evil.example/acme/checkout-api:6.6.6'])).allowed).toBe(false);
    // An oversized reference is denied unread, and recorded shortened.
    const huge = await admit([`ghcr.io/acme/checkout-api:${'1'.repeat(600)}`]);
    expect(huge.allowed).toBe(false);
    expect(huge.status?.message).toContain('longer than 512 characters');
    // With a digest the runtime ignores the tag: the digest must be the approved version.
    expect((await admit([`ghcr.io/acme/checkout-api:6.6.6@sha256:${'e'.repeat(64)}`])).allowed).toBe(false);

    const recorded = await t.call(
      'GET',
      '/v1/admission/decisions?allow=false&limit=1',
      undefined,
      tokens.viewer,
    );
    const [decision] = (
      recorded.json() as {
        items: {
          decisionId: string;
          allow: boolean;
          images: { image: string; accountedBy: string | null }[];
        }[];
      }
    ).items;
    expect(decision).toMatchObject({ allow: false });
    const entries = await rawSql(t.store)
      .selectFrom('ledger_entries')
      .select('data')
      .where('record_type', '=', 'admission_decision')
      .execute();
    expect(entries.some((e) => (e.data ?? '').includes(decision?.decisionId ?? 'none'))).toBe(true);
    const allowed = await t.call('GET', '/v1/admission/decisions?allow=true', undefined, tokens.viewer);
    const images = (allowed.json() as { items: { images: { accountedBy: string }[] }[] }).items.flatMap(
      (i) => i.images,
    );
    expect(images).toContainEqual(expect.objectContaining({ accountedBy: 'approvals', deployment: d }));
  });

  it('finding 15: a backtracking requireTicket pattern answers at once instead of blocking the server', async () => {
    const answer = await gate({
      deployment: key('redos'),
      environment: 'redos',
      ticket: `${'A'.repeat(32)}!`,
    });
    expect(answer.status).toBe(200);
    expect(codes(answer)).toEqual(['ticket_invalid']);
    expect(codes(await gate({ deployment: key('redos'), environment: 'redos', ticket: 'OPS-1' }))).toEqual(
      [],
    );
  });
});
