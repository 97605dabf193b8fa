/**
 * Approving and rejecting a deployment (DESIGN.md §8). One write transaction checks the
 * deployment and the approver, stores the decision with its ledger entry and, when the
 * environment's required approvals are met, marks the deployment approved, so the decision and
 * the status it changes commit together.
 *
 * Separation of duties (SOX): nobody approves a deployment whose actor they are, under any
 * look-alike of the actor's name (src/domain/identity.ts). A scoped token decides only on
 * deployments of its services and environments.
 */
import { randomBytes } from 'node:crypto';
import { sameIdentity } from '../domain/identity.js';
import { ShiplogError } from '../errors.js';
import { parseDuration } from '../domain/duration.js';
import { toApprovalView, type ApprovalView } from '../store/approvals-repository.js';
import type { DeploymentRow } from '../domain/deployment-row.js';
import type { ApprovalsTable } from '../store/schema.js';
import type { Token } from '../store/tokens-repository.js';
import { approvalStateOf } from './approval-state.js';
import { appendToLedger, factsOf, policyOf, type GovernanceDeps } from './deps.js';

const FINISHED = ['succeeded', 'failed', 'canceled', 'rolled_back'];

export interface DecideInput {
  readonly deployment: string;
  readonly decision: 'approve' | 'reject';
  readonly comment: string;
  readonly token: Token;
}

export interface DecideResult {
  readonly approval: ApprovalView;
  /** The deployment's status after the decision. */
  readonly status: string;
  /** Whether the environment's required approvals are now met. */
  readonly approved: boolean;
  readonly ledgerIndex: number | null;
}

/** Records one approver's decision on a deployment. Throws 404, 403 or 409 catalog errors. */
export async function decideApproval(deps: GovernanceDeps, input: DecideInput): Promise<DecideResult> {
  const { token } = input;
  return deps.store.writeTransaction(async function decide(trx) {
    const row = await deps.store.deployments.find(input.deployment, trx);
    if (!row) throw new ShiplogError('SHIPLOG_NOT_FOUND', `No deployment "${input.deployment}"`);
    if (FINISHED.includes(row.status)) {
      throw new ShiplogError(
        'SHIPLOG_CONFLICT',
        `Deployment "${row.deployment}" is already ${row.status}: there is nothing left to approve or reject`,
      );
    }
    if (row.version === null) {
      throw new ShiplogError('SHIPLOG_CONFLICT', `Deployment "${row.deployment}" has no version to approve`);
    }
    requireDecisionScope(token, row);
    if (input.decision === 'approve' && sameIdentity(token.name, row.actor)) {
      throw new ShiplogError(
        'SHIPLOG_FORBIDDEN',
        `Separation of duties: ${token.name} is the actor of deployment "${row.deployment}" and may not approve it; ask another approver`,
      );
    }
    const nowMs = deps.now();
    const previous = await deps.store.approvals.of(row.deployment, trx);
    const already = previous.find(
      (a) =>
        sameIdentity(a.approver, token.name) &&
        a.version === row.version &&
        (a.expires_ms === null || a.expires_ms > nowMs),
    );
    if (already) {
      throw new ShiplogError(
        'SHIPLOG_CONFLICT',
        `${token.name} already decided on deployment "${row.deployment}" (${already.decision}, ${new Date(already.created_ms).toISOString()})`,
      );
    }

    const policy = policyOf(deps, row.environment);
    const ttl = policy?.approvalTtl === undefined ? undefined : parseDuration(policy.approvalTtl);
    const approval: ApprovalsTable = {
      id: `apr_${randomBytes(9).toString('base64url')}`,
      deployment: row.deployment,
      service: row.service,
      environment: row.environment,
      version: row.version,
      approver: token.name,
      approver_role: token.role,
      decision: input.decision,
      comment: input.comment,
      created_ms: nowMs,
      expires_ms: ttl === undefined ? null : nowMs + ttl,
    };
    await deps.store.approvals.insert(approval, trx);

    const { approved } = await approvalStateOf(deps, row.deployment, factsOf(row, row.version), nowMs, trx);
    let status = row.status;
    if (approved !== (row.approved === 1)) {
      if (row.status === 'requested' && approved) status = 'approved';
      if (row.status === 'approved' && !approved) status = 'requested';
      await deps.store.deployments.setApproval(row.deployment, { approved, status, updatedMs: nowMs }, trx);
    }
    const view = toApprovalView(approval);
    const ledgerIndex = await appendToLedger(deps, trx, { recordType: 'approval', ...view });
    // Audit reports cite this entry beside the deployment's events (src/reports/).
    if (ledgerIndex !== null) await deps.store.approvals.setLedgerIndex(approval.id, ledgerIndex, trx);
    return { approval: view, status, approved, ledgerIndex };
  });
}

/** Throws 403 when a scoped token's services or environments do not include the deployment's. */
function requireDecisionScope(token: Token, row: DeploymentRow): void {
  const scopes = token.scopes;
  if (scopes?.services && !scopes.services.includes(row.service)) {
    throw new ShiplogError(
      'SHIPLOG_FORBIDDEN',
      `Token "${token.name}" may not decide on deployments of service "${row.service}" (its services: ${scopes.services.join(', ')})`,
    );
  }
  if (scopes?.environments && !scopes.environments.includes(row.environment)) {
    throw new ShiplogError(
      'SHIPLOG_FORBIDDEN',
      `Token "${token.name}" may not decide on deployments to environment "${row.environment}" (its environments: ${scopes.environments.join(', ')})`,
    );
  }
}

/** Environments in which deployments wait for approvals (some approval count above 0). */
export function environmentsNeedingApproval(deps: GovernanceDeps): string[] {
  return Object.entries(deps.policy.environments)
    .filter(
      ([, env]) =>
        (env.approvals ?? 0) > 0 ||
        Object.values(env.require?.byKind ?? {}).some((rule) => (rule?.approvals ?? 0) > 0),
    )
    .map(([name]) => name);
}
