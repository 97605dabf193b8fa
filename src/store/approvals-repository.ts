/**
 * Approval decisions (docs/governance.md): append-only rows, one per decision, and the two
 * views of them: decisions given, and deployments still waiting for approval.
 */
import type { Kysely, Transaction } from 'kysely';
import { decodeCursor, pageOf } from './cursor.js';
import type { Page } from './deployments-repository.js';
import type { ApprovalsTable, Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface ApprovalView {
  id: string;
  deployment: string;
  service: string;
  environment: string;
  version: string;
  approver: string;
  approverRole: string;
  decision: 'approve' | 'reject';
  comment: string;
  createdAt: string;
  expiresAt: string | null;
}

export interface PendingApprovalView {
  deployment: string;
  service: string;
  environment: string;
  version: string | null;
  actor: string;
  requestedAt: string | null;
  /** Decisions given so far on this deployment's version. */
  decisions: number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toApprovalView(row: ApprovalsTable): ApprovalView {
  return {
    id: row.id,
    deployment: row.deployment,
    service: row.service,
    environment: row.environment,
    version: row.version,
    approver: row.approver,
    approverRole: row.approver_role,
    decision: row.decision,
    comment: row.comment,
    createdAt: new Date(row.created_ms).toISOString(),
    expiresAt: iso(row.expires_ms),
  };
}

export async function insertApproval(trx: Db, row: ApprovalsTable): Promise<void> {
  await trx.insertInto('approvals').values(row).execute();
}

/** Every decision on `deployment`, oldest first. */
export async function approvalsOf(db: Db, deployment: string): Promise<ApprovalsTable[]> {
  return db
    .selectFrom('approvals')
    .selectAll()
    .where('deployment', '=', deployment)
    .orderBy('created_ms')
    .orderBy('id')
    .execute();
}

/** Decisions given, newest first. */
export async function listDecidedApprovals(
  db: Db,
  f: { environment?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<ApprovalView>> {
  let q = db.selectFrom('approvals').selectAll();
  if (f.environment) q = q.where('environment', '=', f.environment);
  if (f.cursor) {
    const [ms, id] = decodeCursor(f.cursor, ['n', 's']) as [number, string];
    q = q.where((eb) =>
      eb.or([eb('created_ms', '<', ms), eb.and([eb('created_ms', '=', ms), eb('id', '<', id)])]),
    );
  }
  const rows = await q
    .orderBy('created_ms', 'desc')
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  return pageOf(rows, f.limit, toApprovalView, (last) => [last.created_ms, last.id]);
}

/**
 * Deployments that are requested but not approved yet, in the environments that require
 * approvals, newest first.
 */
export async function listPendingApprovals(
  db: Db,
  f: {
    environments: readonly string[];
    environment?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<Page<PendingApprovalView>> {
  const environments = f.environment
    ? f.environments.filter((e) => e === f.environment)
    : [...f.environments];
  if (environments.length === 0) return { items: [], nextCursor: null };
  let q = db
    .selectFrom('deployments as d')
    .select([
      'd.deployment',
      'd.service',
      'd.environment',
      'd.version',
      'd.actor',
      'd.requested_ms',
      'd.sort_ms',
    ])
    .select((eb) =>
      eb
        .selectFrom('approvals as a')
        .select((inner) => inner.fn.countAll<number>().as('n'))
        .whereRef('a.deployment', '=', 'd.deployment')
        .whereRef('a.version', '=', 'd.version')
        .as('decisions'),
    )
    .where('d.status', '=', 'requested')
    .where('d.environment', 'in', environments);
  if (f.cursor) {
    const [ms, deployment] = decodeCursor(f.cursor, ['n', 's']) as [number, string];
    q = q.where((eb) =>
      eb.or([
        eb('d.sort_ms', '<', ms),
        eb.and([eb('d.sort_ms', '=', ms), eb('d.deployment', '<', deployment)]),
      ]),
    );
  }
  const rows = await q
    .orderBy('d.sort_ms', 'desc')
    .orderBy('d.deployment', 'desc')
    .limit(f.limit + 1)
    .execute();
  return pageOf(
    rows,
    f.limit,
    (row) => ({
      deployment: row.deployment,
      service: row.service,
      environment: row.environment,
      version: row.version,
      actor: row.actor,
      requestedAt: iso(row.requested_ms),
      decisions: Number(row.decisions ?? 0),
    }),
    (last) => [last.sort_ms, last.deployment],
  );
}
