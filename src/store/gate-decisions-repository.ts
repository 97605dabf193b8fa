/**
 * Recorded gate decisions, and what is derived from them by query: unapproved changes
 * (`deployment.started` in a protected environment without an allowed decision) and the
 * approved deployments the Kubernetes admission webhook admits.
 */
import type { Kysely } from 'kysely';
import type { GateReason } from '../policy/index.js';
import { keysetPage, type Page } from './cursor.js';
import type { WriteTransaction } from './database.js';
import type { Database, GateDecisionsTable } from './schema.js';

export interface GateDecisionView {
  decisionId: string;
  deployment: string;
  service: string;
  environment: string;
  version: string;
  ticket: string | null;
  askedBy: string;
  allow: boolean;
  enforced: boolean;
  overridden: boolean;
  override: { by: string; justification: string } | null;
  reasons: GateReason[];
  decidedAt: string;
}

export interface ViolationView {
  rule: 'unapproved_change';
  deployment: string;
  service: string;
  environment: string;
  version: string | null;
  actor: string;
  status: string;
  startedAt: string;
  message: string;
}

export function toGateDecisionView(row: GateDecisionsTable): GateDecisionView {
  return {
    decisionId: row.id,
    deployment: row.deployment,
    service: row.service,
    environment: row.environment,
    version: row.version,
    ticket: row.ticket,
    askedBy: row.asked_by,
    allow: row.allow === 1,
    enforced: row.enforced === 1,
    overridden: row.overridden === 1,
    override:
      row.override_by === null
        ? null
        : { by: row.override_by, justification: row.override_justification ?? '' },
    reasons: JSON.parse(row.reasons) as GateReason[],
    decidedAt: new Date(row.created_ms).toISOString(),
  };
}

export interface GateDecisionFilter {
  readonly deployment?: string | undefined;
  readonly environment?: string | undefined;
  readonly allow?: boolean | undefined;
  readonly overridden?: boolean | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface GateDecisionsRepository {
  /** Stores a group of decisions inside `trx`, in one INSERT. */
  insert(rows: readonly GateDecisionsTable[], trx: WriteTransaction): Promise<void>;
  /** Recorded decisions, newest first. */
  list(f: GateDecisionFilter): Promise<Page<GateDecisionView>>;
  /**
   * Started deployments in `protectedEnvironments` with no allowed gate decision for the same
   * deployment and environment, newest first.
   */
  listViolations(f: {
    protectedEnvironments: readonly string[];
    environment?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<ViolationView>>;
  /**
   * The first deployment to `environment` of one of `services` at one of `versions` that is
   * approved or was allowed by the gate, and did not fail, get canceled or rolled back.
   */
  findAdmissible(
    environment: string,
    services: readonly string[],
    versions: readonly string[],
  ): Promise<{ deployment: string; service: string; version: string | null } | undefined>;
}

export function createGateDecisionsRepository(db: Kysely<Database>): GateDecisionsRepository {
  return Object.freeze({
    async insert(rows: readonly GateDecisionsTable[], trx: WriteTransaction) {
      if (rows.length > 0)
        await trx
          .insertInto('gate_decisions')
          .values([...rows])
          .execute();
    },

    async list(f: GateDecisionFilter) {
      let q = db.selectFrom('gate_decisions').selectAll();
      if (f.deployment) q = q.where('deployment', '=', f.deployment);
      if (f.environment) q = q.where('environment', '=', f.environment);
      if (f.allow !== undefined) q = q.where('allow', '=', f.allow ? 1 : 0);
      if (f.overridden !== undefined) q = q.where('overridden', '=', f.overridden ? 1 : 0);
      return keysetPage(
        q,
        { columns: ['created_ms', 'id'], shape: ['n', 's'], direction: 'desc' },
        { limit: f.limit, cursor: f.cursor || undefined },
        toGateDecisionView,
        (last) => [last.created_ms, last.id],
      );
    },

    async listViolations(f: {
      protectedEnvironments: readonly string[];
      environment?: string | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      const environments = f.environment
        ? f.protectedEnvironments.filter((e) => e === f.environment)
        : [...f.protectedEnvironments];
      if (environments.length === 0) return { items: [], nextCursor: null };
      const q = db
        .selectFrom('deployments as d')
        .leftJoin('gate_decisions as g', (join) =>
          join
            .onRef('g.deployment', '=', 'd.deployment')
            .onRef('g.environment', '=', 'd.environment')
            .on('g.allow', '=', 1),
        )
        .select([
          'd.deployment',
          'd.service',
          'd.environment',
          'd.version',
          'd.actor',
          'd.status',
          'd.started_ms',
          'd.sort_ms',
        ])
        .where('d.started_ms', 'is not', null)
        .where('d.environment', 'in', environments)
        .where('g.id', 'is', null);
      return keysetPage(
        q,
        { columns: ['d.sort_ms', 'd.deployment'], shape: ['n', 's'], direction: 'desc' },
        { limit: f.limit, cursor: f.cursor || undefined },
        (row) => ({
          rule: 'unapproved_change' as const,
          deployment: row.deployment,
          service: row.service,
          environment: row.environment,
          version: row.version,
          actor: row.actor,
          status: row.status,
          startedAt: new Date(row.started_ms ?? 0).toISOString(),
          message: `${row.service} ${row.version ?? ''} started in protected environment ${row.environment} without an allowed gate decision`,
        }),
        (last) => [last.sort_ms, last.deployment],
      );
    },

    async findAdmissible(environment: string, services: readonly string[], versions: readonly string[]) {
      if (services.length === 0 || versions.length === 0) return undefined;
      return db
        .selectFrom('deployments as d')
        .select(['d.deployment', 'd.service', 'd.version'])
        .where('d.environment', '=', environment)
        .where('d.service', 'in', [...services])
        .where('d.version', 'in', [...versions])
        .where('d.status', 'not in', ['failed', 'canceled', 'rolled_back'])
        .where((eb) =>
          eb.or([
            eb('d.approved', '=', 1),
            eb.exists(
              eb
                .selectFrom('gate_decisions as g')
                .select('g.id')
                .whereRef('g.deployment', '=', 'd.deployment')
                .whereRef('g.environment', '=', 'd.environment')
                .whereRef('g.version', '=', 'd.version')
                .where('g.allow', '=', 1),
            ),
          ]),
        )
        .orderBy('d.sort_ms', 'desc')
        .limit(1)
        .executeTakeFirst();
    },
  });
}
