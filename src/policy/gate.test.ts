import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  REASON_CODES,
  evaluateApprovals,
  evaluateGate,
  type ApprovalRecord,
  type GateInput,
} from './gate.js';
import { loadPolicyFile } from './load-policy.js';
import type { EnvironmentPolicy } from './policy-schema.js';

const at = (iso: string) => Date.parse(iso);
/** Monday 2026-11-30 10:00 in Berlin: inside the office window, outside any freeze. */
const MONDAY_10 = at('2026-11-30T09:00:00Z');

const production: EnvironmentPolicy = {
  protected: true,
  approvals: 1,
  requireTicket: '^[A-Z]+-[0-9]+$',
  windows: [{ days: ['mon', 'tue', 'wed', 'thu'], from: '09:00', to: '16:00', timezone: 'Europe/Berlin' }],
  freezes: [{ from: '2026-12-20T00:00:00Z', to: '2027-01-04T00:00:00Z', reason: 'year-end' }],
};

const approval = (over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  approver: 'bob',
  role: 'approver',
  decision: 'approve',
  at: MONDAY_10 - 3_600_000,
  version: '1.42.0',
  ...over,
});

function gate(over: Partial<GateInput> = {}, policy: EnvironmentPolicy | 'unconfigured' = production) {
  return evaluateGate({
    policy: policy === 'unconfigured' ? undefined : policy,
    deployment: {
      service: 'checkout-api',
      environment: 'production',
      version: '1.42.0',
      actor: 'alice',
      kind: 'release',
      ticket: 'OPS-123',
    },
    approvals: [approval()],
    nowMs: MONDAY_10,
    openIncidents: [],
    ...over,
  });
}

const codes = (decision: ReturnType<typeof gate>) => decision.reasons.map((reason) => reason.code);
const facts = {
  service: 'checkout-api',
  environment: 'production',
  version: '1.42.0',
  actor: 'alice',
} as const;

describe('evaluateGate: the DESIGN.md §8 rules', () => {
  it('allows a deployment that meets every rule', () => {
    expect(gate()).toEqual({ allow: true, reasons: [], overridden: false, enforced: true });
  });

  it('allows anything in an environment without a policy, and says it is not enforced', () => {
    expect(gate({ approvals: [] }, 'unconfigured')).toEqual({
      allow: true,
      reasons: [],
      overridden: false,
      enforced: false,
    });
  });

  it('approval_missing: no approval', () => {
    const decision = gate({ approvals: [] });
    expect(decision.allow).toBe(false);
    expect(decision.reasons).toEqual([{ code: 'approval_missing', message: '0 of 1 approvals of 1.42.0' }]);
  });

  it('outside_window: names the next opening in the window’s zone', () => {
    const thursday = at('2026-11-26T15:30:00Z'); // Thu 16:30 Berlin
    const decision = gate({ nowMs: thursday, approvals: [approval({ at: thursday - 60_000 })] });
    expect(decision.reasons).toEqual([
      {
        code: 'outside_window',
        message: 'outside every change window; next window opens Mon 2026-11-30 09:00 Europe/Berlin',
      },
    ]);
  });

  it('frozen: says why and until when', () => {
    const decision = gate({ nowMs: at('2026-12-21T09:00:00Z') }); // Monday, inside the window
    expect(decision.reasons).toEqual([
      { code: 'frozen', message: 'frozen (year-end) until 2027-01-04T00:00:00Z' },
    ]);
  });

  it('ticket_missing and ticket_invalid', () => {
    expect(gate({ deployment: { ...facts, kind: 'release' } }).reasons).toEqual([
      { code: 'ticket_missing', message: 'a change ticket is required' },
    ]);
    expect(gate({ deployment: { ...facts, kind: 'release', ticket: '  ' } }).reasons[0]?.code).toBe(
      'ticket_missing',
    );
    expect(gate({ deployment: { ...facts, kind: 'release', ticket: 'ops-1' } }).reasons).toEqual([
      { code: 'ticket_invalid', message: 'ticket "ops-1" does not match ^[A-Z]+-[0-9]+$' },
    ]);
  });

  it('returns every reason at once, in a stable order', () => {
    const decision = gate({
      nowMs: at('2026-12-26T20:00:00Z'), // Saturday evening, frozen
      deployment: { ...facts, kind: 'release', ticket: 'nope' },
      approvals: [approval({ approver: 'alice' })],
    });
    expect(decision.allow).toBe(false);
    expect(codes(decision)).toEqual([
      'frozen',
      'outside_window',
      'ticket_invalid',
      'approval_missing',
      'self_approval_ignored',
    ]);
  });
});

describe('evaluateGate: approvals', () => {
  it('ignores the actor’s own approval and says so', () => {
    const decision = gate({ approvals: [approval({ approver: 'alice' })] });
    expect(decision.reasons).toEqual([
      { code: 'approval_missing', message: '0 of 1 approvals of 1.42.0' },
      {
        code: 'self_approval_ignored',
        message: 'alice cannot approve their own deployment; approval ignored',
      },
    ]);
  });

  it('does not mention self-approval when others approved enough', () => {
    expect(gate({ approvals: [approval({ approver: 'alice' }), approval()] }).allow).toBe(true);
  });

  it('counts only approvals of the same version', () => {
    const decision = gate({ approvals: [approval({ version: '1.41.0' })] });
    expect(decision.reasons).toEqual([
      { code: 'approval_missing', message: '0 of 1 approvals of 1.42.0 (1 for another version)' },
    ]);
  });

  it('needs as many distinct approvers as required', () => {
    const policy = { ...production, approvals: 2 };
    expect(
      gate({ approvals: [approval(), approval({ at: MONDAY_10 - 1000 })] }, policy).reasons[0]?.message,
    ).toBe('1 of 2 approvals of 1.42.0');
    expect(gate({ approvals: [approval(), approval({ approver: 'carol' })] }, policy).allow).toBe(true);
  });

  it('approval_expired: by the policy’s approvalTtl and by the approval’s own expiresAt', () => {
    const ttl = { ...production, approvalTtl: '24h' };
    expect(gate({ approvals: [approval({ at: MONDAY_10 - 23 * 3_600_000 })] }, ttl).allow).toBe(true);
    const old = gate({ approvals: [approval({ at: MONDAY_10 - 24 * 3_600_000 })] }, ttl);
    expect(old.reasons).toEqual([
      { code: 'approval_missing', message: '0 of 1 approvals of 1.42.0' },
      { code: 'approval_expired', message: 'expired approvals: bob' },
    ]);
    expect(codes(gate({ approvals: [approval({ expiresAt: MONDAY_10 })] }))).toEqual([
      'approval_missing',
      'approval_expired',
    ]);
    expect(gate({ approvals: [approval({ expiresAt: MONDAY_10 + 1 })] }).allow).toBe(true);
  });

  it('does not know approvals given after the evaluated instant (what-if with ?at=)', () => {
    expect(codes(gate({ approvals: [approval({ at: MONDAY_10 + 1 })] }))).toEqual(['approval_missing']);
  });

  it('approval_rejected: a rejection blocks even when enough others approved', () => {
    const decision = gate({ approvals: [approval(), approval({ approver: 'dave', decision: 'reject' })] });
    expect(decision.reasons).toEqual([{ code: 'approval_rejected', message: 'rejected by dave' }]);
  });

  it('takes each approver’s latest decision', () => {
    const changedMind = [approval({ decision: 'reject', at: MONDAY_10 - 7200_000 }), approval()];
    expect(gate({ approvals: changedMind }).allow).toBe(true);
    const withdrew = [approval({ at: MONDAY_10 - 7200_000 }), approval({ decision: 'reject' })];
    expect(codes(gate({ approvals: withdrew }))).toEqual(['approval_rejected', 'approval_missing']);
  });

  it('counts only approvers matching `approvers.roles` or `approvers.names`', () => {
    const policy: EnvironmentPolicy = {
      ...production,
      approvers: { roles: ['release-manager'], names: ['carol'] },
    };
    const decision = gate({ approvals: [approval()] }, policy);
    expect(decision.reasons).toEqual([
      {
        code: 'approval_missing',
        message: '0 of 1 approvals of 1.42.0 from role release-manager or carol (not eligible: bob)',
      },
    ]);
    expect(gate({ approvals: [approval({ role: 'release-manager' })] }, policy).allow).toBe(true);
    expect(gate({ approvals: [approval({ approver: 'carol', role: 'approver' })] }, policy).allow).toBe(true);
    // A rejection by someone who could not approve does not block.
    expect(
      gate({ approvals: [approval({ approver: 'carol' }), approval({ decision: 'reject' })] }, policy).allow,
    ).toBe(true);
  });

  it('needs no approval when approvals is 0 or absent', () => {
    expect(gate({ approvals: [] }, { protected: true }).allow).toBe(true);
    expect(gate({ approvals: [] }, { ...production, approvals: 0 }).allow).toBe(true);
  });
});

describe('evaluateGate: required fields, kinds and incidents', () => {
  const strict: EnvironmentPolicy = {
    protected: true,
    require: {
      fields: ['ticket', 'labels.sprint'],
      byKind: {
        hotfix: {
          fields: ['justification'],
          approvals: 0,
          allowOutsideWindows: true,
          allowDuringIncident: true,
        },
      },
    },
    approvals: 1,
    windows: production.windows ?? [],
    freezes: production.freezes ?? [],
    blockOnIncidentSeverity: 'high',
  };

  it('field_missing: one reason per missing field; a required ticket is ticket_missing', () => {
    const decision = gate({ deployment: { ...facts, kind: 'release' } }, strict);
    expect(decision.reasons).toEqual([
      { code: 'ticket_missing', message: 'a change ticket is required' },
      { code: 'field_missing', message: 'labels.sprint is required for release deployments here' },
    ]);
    const labelled = { ...facts, kind: 'release' as const, ticket: 'X-1', labels: { sprint: '2026-S23' } };
    expect(gate({ deployment: labelled }, strict).allow).toBe(true);
  });

  it('a hotfix follows its own rule: justification, fewer approvals, any time but not in a freeze', () => {
    const hotfix = { ...facts, kind: 'hotfix' as const };
    const night = at('2026-11-28T02:00:00Z'); // Saturday night
    expect(gate({ deployment: hotfix, nowMs: night, approvals: [] }, strict).reasons).toEqual([
      { code: 'field_missing', message: 'justification is required for hotfix deployments here' },
    ]);
    const justified = { ...hotfix, justification: 'payments down, INC-9' };
    expect(gate({ deployment: justified, nowMs: night, approvals: [] }, strict).allow).toBe(true);
    expect(
      codes(gate({ deployment: justified, nowMs: at('2026-12-26T02:00:00Z'), approvals: [] }, strict)),
    ).toEqual(['frozen']);
  });

  it('incident_open: open incidents of this service at the threshold or worse block', () => {
    const labelled = { ...facts, kind: 'release' as const, ticket: 'X-1', labels: { sprint: 'S1' } };
    const incidents = [
      { service: 'checkout-api', severity: 'critical' as const, id: 'INC-9' },
      { service: 'checkout-api', severity: 'medium' as const, id: 'INC-10' },
      { service: 'search', severity: 'critical' as const, id: 'INC-11' },
    ];
    expect(gate({ deployment: labelled, openIncidents: incidents }, strict).reasons).toEqual([
      {
        code: 'incident_open',
        message: 'checkout-api has open incidents at high or worse: INC-9 (critical)',
      },
    ]);
    expect(gate({ deployment: labelled, openIncidents: incidents.slice(1) }, strict).allow).toBe(true);
    const hotfix = { ...labelled, kind: 'hotfix' as const, justification: 'fix INC-9' };
    expect(gate({ deployment: hotfix, openIncidents: incidents }, strict).allow).toBe(true);
    expect(
      gate(
        { deployment: labelled, openIncidents: incidents },
        { ...strict, blockOnIncidentSeverity: undefined },
      ).allow,
    ).toBe(true);
  });
});

describe('evaluateGate: incidentFreeze (sev1..sev5)', () => {
  const frozen: EnvironmentPolicy = { protected: true, incidentFreeze: 'sev2' };
  const release = { ...facts, kind: 'release' as const };
  it('blocks on an open incident of the service in this environment at the threshold or worse', () => {
    const incidents = [
      { service: 'checkout-api', severity: 'sev2' as const, id: 'A', environment: 'production' },
      { service: 'checkout-api', severity: 'sev1' as const, id: 'B', environment: 'staging' },
      { service: 'checkout-api', severity: 'sev3' as const, id: 'C' },
    ];
    expect(gate({ deployment: release, openIncidents: incidents }, frozen).reasons).toEqual([
      { code: 'incident_open', message: 'checkout-api has open incidents at sev2 or worse: A (sev2)' },
    ]);
    expect(gate({ deployment: release, openIncidents: incidents.slice(1) }, frozen).allow).toBe(true);
    // Incidents without an environment hurt every environment of the service.
    expect(
      gate({ deployment: release, openIncidents: [{ service: 'checkout-api', severity: 'sev1' }] }, frozen)
        .allow,
    ).toBe(false);
  });
});

describe('evaluateGate: precedence', () => {
  it('a freeze beats a window: inside the window but frozen is denied', () => {
    const frozenMonday = at('2026-12-21T09:00:00Z');
    const decision = gate({ nowMs: frozenMonday });
    expect(decision.allow).toBe(false);
    expect(codes(decision)).toEqual(['frozen']);
  });

  it('an admin override with a justification allows, keeps the reasons and says it was overridden', () => {
    const decision = gate({
      nowMs: at('2026-12-26T20:00:00Z'),
      approvals: [],
      override: { by: 'root', role: 'admin', justification: 'card payments failing' },
    });
    expect(decision).toMatchObject({ allow: true, overridden: true, enforced: true });
    expect(codes(decision)).toEqual(['frozen', 'outside_window', 'approval_missing']);
  });

  it('an override by a non-admin or without a justification is refused, and says why', () => {
    const byApprover = gate({
      approvals: [],
      override: { by: 'bob', role: 'approver', justification: 'please' },
    });
    expect(byApprover.allow).toBe(false);
    expect(byApprover.reasons.at(-1)).toEqual({
      code: 'override_rejected',
      message: 'override by bob ignored: bob has role approver, not admin',
    });
    const unjustified = gate({ approvals: [], override: { by: 'root', role: 'admin', justification: '  ' } });
    expect(unjustified).toMatchObject({ allow: false, overridden: false });
    expect(unjustified.reasons.at(-1)?.message).toBe('override by root ignored: it has no justification');
  });

  it('an override of an allowed deployment changes nothing', () => {
    expect(gate({ override: { by: 'root', role: 'admin', justification: 'x' } })).toEqual({
      allow: true,
      reasons: [],
      overridden: false,
      enforced: true,
    });
  });

  it('`protected: false` makes the rules advice: allowed, with the reasons listed', () => {
    const decision = gate({ approvals: [] }, { ...production, protected: false });
    expect(decision).toEqual({
      allow: true,
      reasons: [{ code: 'approval_missing', message: '0 of 1 approvals of 1.42.0' }],
      overridden: false,
      enforced: false,
    });
  });

  it('DST: the gate follows the Berlin wall clock across the spring-forward change', () => {
    const sunday: EnvironmentPolicy = {
      protected: true,
      windows: [{ days: ['sun'], from: '02:30', to: '04:00', timezone: 'Europe/Berlin' }],
    };
    expect(gate({ nowMs: at('2026-03-29T00:59:00Z') }, sunday).reasons[0]?.message).toBe(
      'outside every change window; next window opens Sun 2026-03-29 03:00 Europe/Berlin',
    );
    expect(gate({ nowMs: at('2026-03-29T01:00:00Z') }, sunday).allow).toBe(true);
  });
});

describe('docs/governance.md', () => {
  it('documents every reason code', () => {
    const doc = readFileSync(new URL('../../docs/governance.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('### Reason codes'), doc.indexOf('## Time zones'));
    const documented = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual([...REASON_CODES].sort());
  });

  it('shows an example configuration that loads', () => {
    const doc = readFileSync(new URL('../../docs/governance.md', import.meta.url), 'utf8');
    const example = /```yaml\n(environments:[\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const policy = loadPolicyFile(example, 'docs/governance.md');
    expect(Object.keys(policy.environments)).toEqual(['production', 'staging']);
  });
});

describe('evaluateApprovals: identities', () => {
  const policy: EnvironmentPolicy = { protected: true, approvals: 2 };
  const deployment = { ...facts, kind: 'release' as const };

  it('regression: an approval by a look-alike of the actor is a self-approval and does not count', () => {
    const reasons = evaluateApprovals(
      policy,
      deployment,
      [
        approval({ approver: '\u0430lice' }),
        approval({ approver: 'ALICE\u200b' }),
        approval({ approver: 'bob' }),
      ],
      MONDAY_10,
    );
    expect(reasons.map((r) => r.code)).toEqual(['approval_missing', 'self_approval_ignored']);
    expect(reasons[0]?.message).toContain('1 of 2 approvals');
  });

  it('regression: one person approving under two look-alike names counts once', () => {
    const twice = [approval({ approver: 'bob' }), approval({ approver: 'b\u043eb' })];
    expect(evaluateApprovals(policy, deployment, twice, MONDAY_10).map((r) => r.code)).toEqual([
      'approval_missing',
    ]);
    const two = [approval({ approver: 'bob' }), approval({ approver: 'carol' })];
    expect(evaluateApprovals(policy, deployment, two, MONDAY_10)).toEqual([]);
  });

  it('counts only approvals of the version asked about', () => {
    const other = [
      approval({ approver: 'bob', version: '6.6.6' }),
      approval({ approver: 'carol', version: '6.6.6' }),
    ];
    expect(evaluateApprovals(policy, deployment, other, MONDAY_10).map((r) => r.code)).toEqual([
      'approval_missing',
    ]);
  });
});
