/**
 * The gate over HTTP (DESIGN.md §8): gathers the environment's policy, the deployment's facts
 * (from its events when shiplog knows it, else from the request), its approvals, the ticket
 * provider's word on its ticket (when `tickets:` covers the environment) and the clock, asks
 * the pure `evaluateGate` and records the decision with its ledger entry. A what-if (`at`)
 * decision is evaluated the same way (the ticket as it stands now) and never recorded.
 */
import { randomBytes } from 'node:crypto';
import type { Kind } from '../domain/event.js';
import { ShiplogError } from '../errors.js';
import { canonicalJson } from '../ledger/jcs.js';
import {
  evaluateGate,
  ticketToVerify,
  type DeploymentFacts,
  type EnvironmentPolicy,
  type GateReason,
} from '../policy/index.js';
import { toGateDecisionView } from '../store/gate-decisions-repository.js';
import { createGroupCommit, type GroupCommit } from '../store/group-commit.js';
import type { GateDecisionsTable } from '../store/schema.js';
import type { Token } from '../store/tokens-repository.js';
import { approvalStateOf } from './approval-state.js';
import { factsOf, policyOf, type GovernanceDeps } from './deps.js';

export interface GateRequest {
  readonly deployment: string;
  readonly service: string;
  readonly environment: string;
  readonly version: string;
  readonly ticket?: string | undefined;
  readonly kind?: Kind | undefined;
  readonly override?: { readonly justification: string } | undefined;
  /** Evaluate as of this instant (epoch ms) without recording: a what-if. */
  readonly atMs?: number | undefined;
  readonly token: Token;
}

export interface GateAnswer {
  readonly allow: boolean;
  readonly reasons: readonly GateReason[];
  /** Null for a what-if, which is not recorded. */
  readonly decisionId: string | null;
  readonly enforced: boolean;
  readonly overridden: boolean;
  readonly evaluatedAt: string;
  readonly simulated?: true;
  readonly ledgerIndex?: number | null;
}

/** Decides, and records unless simulated. */
export async function askGate(deps: GovernanceDeps, req: GateRequest): Promise<GateAnswer> {
  const row = await deps.store.deployments.find(req.deployment);
  if (row && (row.service !== req.service || row.environment !== req.environment)) {
    throw new ShiplogError(
      'SHIPLOG_CONFLICT',
      `Deployment "${req.deployment}" is ${row.service} to ${row.environment}, not ${req.service} to ${req.environment}`,
    );
  }
  if (row && req.kind !== undefined && req.kind !== row.kind) {
    throw new ShiplogError(
      'SHIPLOG_CONFLICT',
      `Deployment "${req.deployment}" is a ${row.kind} deployment, not a ${req.kind}: its events decide its kind`,
    );
  }
  const facts: DeploymentFacts = row
    ? factsOf(row, req.version, req.ticket)
    : {
        service: req.service,
        environment: req.environment,
        version: req.version,
        actor: req.token.name,
        kind: req.kind ?? 'release',
        ...(req.ticket === undefined ? {} : { ticket: req.ticket }),
      };
  const simulated = req.atMs !== undefined;
  const nowMs = req.atMs ?? deps.now();
  const policy = policyOf(deps, req.environment);
  const [approvals, ticketProblem, incidents] = await Promise.all([
    row ? approvalStateOf(deps, row.deployment, facts, nowMs).then((state) => state.records) : [],
    ticketProblemOf(deps, policy, facts),
    policy?.incidentFreeze !== undefined || policy?.blockOnIncidentSeverity !== undefined
      ? deps.store.incidents.openAt(req.service, nowMs)
      : [],
  ]);
  const decision = evaluateGate({
    policy,
    deployment: facts,
    approvals,
    nowMs,
    openIncidents: incidents.flatMap((incident) =>
      incident.severity === null
        ? []
        : [
            {
              service: req.service,
              severity: incident.severity,
              id: incident.key,
              ...(incident.environment === null ? {} : { environment: incident.environment }),
            },
          ],
    ),
    ticketProblem,
    ...(req.override === undefined
      ? {}
      : {
          override: { by: req.token.name, role: req.token.role, justification: req.override.justification },
        }),
  });
  const base = {
    allow: decision.allow,
    reasons: decision.reasons,
    enforced: decision.enforced,
    overridden: decision.overridden,
    evaluatedAt: new Date(nowMs).toISOString(),
  };
  if (simulated) return { ...base, decisionId: null, simulated: true };

  const record: GateDecisionsTable = {
    id: `gate_${randomBytes(9).toString('base64url')}`,
    deployment: req.deployment,
    service: req.service,
    environment: req.environment,
    version: req.version,
    kind: facts.kind,
    ticket: facts.ticket ?? null,
    asked_by: req.token.name,
    allow: decision.allow ? 1 : 0,
    enforced: decision.enforced ? 1 : 0,
    overridden: decision.overridden ? 1 : 0,
    override_by: req.override === undefined ? null : req.token.name,
    override_justification: req.override?.justification ?? null,
    reasons: JSON.stringify(decision.reasons),
    created_ms: nowMs,
  };
  const ledgerIndex = await decisionRecorder(deps).submit(record);
  return { ...base, decisionId: record.id, ledgerIndex };
}

/**
 * Asks the ticket provider about the ticket when `tickets:` covers the environment and the
 * ticket is present and matches `requireTicket`; the reason it did not confirm it, if any.
 */
async function ticketProblemOf(
  deps: GovernanceDeps,
  policy: EnvironmentPolicy | undefined,
  facts: DeploymentFacts,
): Promise<GateReason | undefined> {
  const checker = deps.tickets;
  if (checker === undefined || policy === undefined || !checker.covers(facts.environment)) return undefined;
  const ticket = ticketToVerify(policy, facts);
  if (ticket === undefined) return undefined;
  const verdict = await checker.check(ticket);
  return verdict.ok ? undefined : verdict.reason;
}

const recorders = new WeakMap<GovernanceDeps, GroupCommit<GateDecisionsTable, number | null>>();

/**
 * Every pipeline asks the gate on every deploy: decisions asked at the same time are recorded
 * in one transaction (group commit), each with its ledger entry, and answered after the commit.
 */
function decisionRecorder(deps: GovernanceDeps): GroupCommit<GateDecisionsTable, number | null> {
  let recorder = recorders.get(deps);
  if (!recorder) {
    recorder = createGroupCommit(deps.store, async function recordDecisions(trx, rows) {
      if (!deps.ledger) {
        await deps.store.gateDecisions.insert(rows, trx);
        return rows.map(() => ({ value: null }));
      }
      const entries = rows.map((row) =>
        canonicalJson({ recordType: 'gate_decision', ...toGateDecisionView(row) }),
      );
      const first = await deps.ledger.append(trx, entries, 'gate_decision');
      // Each row knows its entry, so audit reports can cite it (src/reports/).
      await deps.store.gateDecisions.insert(
        rows.map((row, i) => ({ ...row, ledger_index: first + i })),
        trx,
      );
      return rows.map((_, i) => ({ value: first + i }));
    });
    recorders.set(deps, recorder);
  }
  return recorder;
}
