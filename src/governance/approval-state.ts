/**
 * Whether a deployment's approvals are met, derived every time from the approval decisions of
 * the exact version asked about. The gate, the admission webhook and the approval endpoint all
 * ask this one function, so they cannot disagree, and none of them trusts the stored
 * `deployments.approved` flag: a backdated event can change a deployment's version after its
 * approval, and an approval of one version never approves another.
 */
import {
  evaluateApprovals,
  type ApprovalRecord,
  type DeploymentFacts,
  type GateReason,
} from '../policy/index.js';
import type { WriteTransaction } from '../store/database.js';
import type { ApprovalsTable } from '../store/schema.js';
import { policyOf, type GovernanceDeps } from './deps.js';

export interface ApprovalState {
  /** The environment's required approvals are met for `facts.version` and nobody eligible rejected it. */
  readonly approved: boolean;
  /** `approval_missing`, `approval_rejected`, ... as the gate reports them; empty when approved. */
  readonly reasons: readonly GateReason[];
  /** Every decision on the deployment (any version), as the gate takes them. */
  readonly records: readonly ApprovalRecord[];
}

/**
 * The approval state of `deployment` for `facts.version` (and its kind, actor and environment)
 * at `nowMs`, from the approval decisions read in `trx` when the caller writes.
 */
export async function approvalStateOf(
  deps: GovernanceDeps,
  deployment: string,
  facts: DeploymentFacts,
  nowMs: number,
  trx?: WriteTransaction,
): Promise<ApprovalState> {
  const records = (await deps.store.approvals.of(deployment, trx)).map(toApprovalRecord);
  const reasons = evaluateApprovals(policyOf(deps, facts.environment), facts, records, nowMs);
  const approved = !reasons.some((r) => r.code === 'approval_missing' || r.code === 'approval_rejected');
  return { approved, reasons, records };
}

/** An approval row as the gate sees it. */
export function toApprovalRecord(row: ApprovalsTable): ApprovalRecord {
  return {
    approver: row.approver,
    role: row.approver_role,
    decision: row.decision,
    at: row.created_ms,
    version: row.version,
    ...(row.expires_ms === null ? {} : { expiresAt: row.expires_ms }),
  };
}
