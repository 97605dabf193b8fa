/**
 * Approval decisions (docs/governance.md): append-only rows, one per decision, and the two
 * views of them: decisions given, and deployments still waiting for approval.
 */
import type { Kysely } from 'kysely';
import { keysetPage, type Page } from './cursor.js';
import type { WriteTransaction } from './database.js';
import type { ApprovalsTable, Database } from './schema.js';

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

export interface ApprovalsRepository {
  /** Stores one decision inside `trx`. */
  insert(row: ApprovalsTable, trx: WriteTransaction): Promise<void>;
  /** Records the ledger index of a decision's entry, in the transaction that appended it. */
  setLedgerIndex(id: string, ledgerIndex: number, trx: WriteTransaction): Promise<void>;
  /** Every decision on `deployment`, oldest first, read in `trx` when given. */
  of(deployment: string, trx?: WriteTransaction): Promise<ApprovalsTable[]>;
  /** Decisions given, newest first. */
  listDecided(f: {
    environment?: string | undefined;
    /** Only this deployment's decisions (the dashboard's deployment page). */
    deployment?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<ApprovalView>>;
  /**
   * Deployments that are requested but not approved yet, in the environments that require
   * approvals, newest first.
   */
  listPending(f: {
    environments: readonly string[];
    environment?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<PendingApprovalView>>;
}

export function createApprovalsRepository(db: Kysely<Database>): ApprovalsRepository {
  return Object.freeze({
    async insert(row: ApprovalsTable, trx: WriteTransaction) {
      await trx.insertInto('approvals').values(row).execute();
    },

    async setLedgerIndex(id: string, ledgerIndex: number, trx: WriteTransaction) {
      await trx.updateTable('approvals').set({ ledger_index: ledgerIndex }).where('id', '=', id).execute();
    },

    async of(deployment: string, trx?: WriteTransaction) {
      return (trx ?? db)
        .selectFrom('approvals')
        .selectAll()
        .where('deployment', '=', deployment)
        .orderBy('created_ms')
        .orderBy('id')
        .execute();
    },

    async listDecided(f: {
      environment?: string | undefined;
      deployment?: string | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      let q = db.selectFrom('approvals').selectAll();
      if (f.environment) q = q.where('environment', '=', f.environment);
      if (f.deployment) q = q.where('deployment', '=', f.deployment);
      return keysetPage(
        q,
        { columns: ['created_ms', 'id'], shape: ['n', 's'], direction: 'desc' },
        { limit: f.limit, cursor: f.cursor || undefined },
        toApprovalView,
        (last) => [last.created_ms, last.id],
      );
    },

    async listPending(f: {
      environments: readonly string[];
      environment?: string | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      const environments = f.environment
        ? f.environments.filter((e) => e === f.environment)
        : [...f.environments];
      if (environments.length === 0) return { items: [], nextCursor: null };
      const q = db
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
      return keysetPage(
        q,
        { columns: ['d.sort_ms', 'd.deployment'], shape: ['n', 's'], direction: 'desc' },
        { limit: f.limit, cursor: f.cursor || undefined },
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
    },
  });
}
