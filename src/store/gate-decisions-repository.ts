/**
 * Recorded gate decisions, and what is derived from them by query: unapproved changes
 * (`deployment.started` in a protected environment without an allowed decision) and the
 * deployments the Kubernetes admission webhook may admit; and recorded admission decisions.
 *
 * A decision allows exactly what it was made for: the same deployment, service, environment,
 * version and kind. Every join below matches all five, so a decision asked for another
 * service, version or kind (the gate judges unknown deployments from the request) never
 * stands in for the deployment that actually ran.
 */
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { DeploymentRow } from '../domain/deployment-row.js';
import type { GateReason } from '../policy/index.js';
import { keysetPage, type Page } from './cursor.js';
import type { WriteTransaction } from './database.js';
import type { AdmissionDecisionsTable, Database, DeploymentsTable, GateDecisionsTable } from './schema.js';

export interface GateDecisionView {
  decisionId: string;
  deployment: string;
  service: string;
  environment: string;
  version: string;
  kind: string;
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
    kind: row.kind,
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
   * deployment, service, environment, version and kind, newest first.
   */
  listViolations(f: {
    protectedEnvironments: readonly string[];
    environment?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<ViolationView>>;
  /**
   * Deployments of `service` to `environment` at one of `versions` that did not fail, get
   * canceled or rolled back, newest first (at most 20), each with whether the gate allowed
   * exactly it. Whether their approvals are met is for the caller to derive
   * (src/governance/approval-state.ts): the stored `approved` flag may be another version's.
   */
  findAdmissionCandidates(
    environment: string,
    service: string,
    versions: readonly string[],
  ): Promise<AdmissionCandidate[]>;
  /** Stores one admission decision inside `trx`. */
  insertAdmission(row: AdmissionDecisionsTable, trx: WriteTransaction): Promise<void>;
  /** Recorded admission decisions, newest first. */
  listAdmissions(f: {
    environment?: string | undefined;
    allow?: boolean | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<AdmissionDecisionView>>;
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
            .onRef('g.service', '=', 'd.service')
            .onRef('g.version', '=', 'd.version')
            .onRef('g.kind', '=', 'd.kind')
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

    async findAdmissionCandidates(environment: string, service: string, versions: readonly string[]) {
      if (versions.length === 0) return [];
      const rows = await db
        .selectFrom('deployments as d')
        .selectAll('d')
        .select((eb) => eb.case().when(allowedDecisionFor(eb)).then(1).else(0).end().as('gate_allowed'))
        .where('d.environment', '=', environment)
        .where('d.service', '=', service)
        .where('d.version', 'in', [...versions])
        .where('d.status', 'not in', ['failed', 'canceled', 'rolled_back'])
        .orderBy('d.sort_ms', 'desc')
        .limit(20)
        .execute();
      return rows.map(({ gate_allowed, ...row }) => ({ row, gateAllowed: Number(gate_allowed) === 1 }));
    },

    async insertAdmission(row: AdmissionDecisionsTable, trx: WriteTransaction) {
      await trx.insertInto('admission_decisions').values(row).execute();
    },

    async listAdmissions(f: {
      environment?: string | undefined;
      allow?: boolean | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      let q = db.selectFrom('admission_decisions').selectAll();
      if (f.environment) q = q.where('environment', '=', f.environment);
      if (f.allow !== undefined) q = q.where('allow', '=', f.allow ? 1 : 0);
      return keysetPage(
        q,
        { columns: ['created_ms', 'id'], shape: ['n', 's'], direction: 'desc' },
        { limit: f.limit, cursor: f.cursor || undefined },
        toAdmissionDecisionView,
        (last) => [last.created_ms, last.id],
      );
    },
  });
}

/** An allowed gate decision made for exactly this deployment row (all five keys). */
function allowedDecisionFor(eb: ExpressionBuilder<Database & { d: DeploymentsTable }, 'd'>) {
  return eb.exists(
    eb
      .selectFrom('gate_decisions as g')
      .select('g.id')
      .whereRef('g.deployment', '=', 'd.deployment')
      .whereRef('g.service', '=', 'd.service')
      .whereRef('g.environment', '=', 'd.environment')
      .whereRef('g.version', '=', 'd.version')
      .whereRef('g.kind', '=', 'd.kind')
      .where('g.allow', '=', 1),
  );
}

/** A deployment the admission webhook may admit an image for, and whether the gate allowed it. */
export interface AdmissionCandidate {
  readonly row: DeploymentRow;
  /** An allowed gate decision exists for exactly this deployment, service, version and kind. */
  readonly gateAllowed: boolean;
}

export interface AdmissionImageView {
  image: string;
  /** The service its repository maps to; null when it maps to none. */
  service: string | null;
  /** The tag or digest matched against deployments' versions; null when unpinned. */
  version: string | null;
  /** The shiplog deployment that accounts for it, if any. */
  deployment: string | null;
  /** `gate_decision`, `approvals` or `unchanged` (already running before this UPDATE); null: not accounted for. */
  accountedBy: string | null;
  /** Why it is not accounted for. */
  problem: string | null;
}

export interface AdmissionDecisionView {
  decisionId: string;
  uid: string;
  operation: string;
  namespace: string;
  environment: string;
  workload: { kind: string; name: string };
  allow: boolean;
  images: AdmissionImageView[];
  message: string | null;
  askedBy: string;
  decidedAt: string;
}

export function toAdmissionDecisionView(row: AdmissionDecisionsTable): AdmissionDecisionView {
  return {
    decisionId: row.id,
    uid: row.uid,
    operation: row.operation,
    namespace: row.namespace,
    environment: row.environment,
    workload: { kind: row.workload_kind, name: row.workload_name },
    allow: row.allow === 1,
    images: JSON.parse(row.images) as AdmissionImageView[],
    message: row.message,
    askedBy: row.asked_by,
    decidedAt: new Date(row.created_ms).toISOString(),
  };
}
