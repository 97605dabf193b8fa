/**
 * Deployments: their rows (the state derived from their events), the list and one deployment
 * with its timeline, which version ran where at an instant, and the approval status the
 * governance code sets.
 */
import { sql, type Kysely } from 'kysely';
import type { Status } from '../domain/lifecycle.js';
import type { DeploymentRow } from '../domain/deployment-row.js';
import type { EventRecord } from '../domain/event-record.js';
import { keysetPage, type Keyset, type Page, type PageRequest } from './cursor.js';
import type { WriteTransaction } from './database.js';
import type { Database } from './schema.js';

export type { Page };

export interface DeploymentFilter {
  readonly service?: string | undefined;
  readonly environment?: string | undefined;
  readonly region?: string | undefined;
  readonly status?: Status | undefined;
  readonly kind?: string | undefined;
  readonly actor?: string | undefined;
  readonly sinceMs?: number | undefined;
  readonly untilMs?: number | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface DeploymentView {
  deployment: string;
  service: string;
  environment: string;
  region: string | null;
  instance: string | null;
  cohort: string | null;
  traffic: number | null;
  kind: string;
  version: string | null;
  commit: string | null;
  actor: string;
  ticket: string | null;
  build: { id?: string; url?: string; provider?: string } | null;
  labels: Record<string, string> | null;
  status: string;
  requestedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  rolledBackAt: string | null;
  durationMs: number | null;
  updatedAt: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toDeploymentView(row: DeploymentRow): DeploymentView {
  const build =
    row.build_id || row.build_url || row.build_provider
      ? {
          ...(row.build_id ? { id: row.build_id } : {}),
          ...(row.build_url ? { url: row.build_url } : {}),
          ...(row.build_provider ? { provider: row.build_provider } : {}),
        }
      : null;
  return {
    deployment: row.deployment,
    service: row.service,
    environment: row.environment,
    region: row.region || null,
    instance: row.instance,
    cohort: row.cohort,
    traffic: row.traffic,
    kind: row.kind,
    version: row.version,
    commit: row.commit_sha,
    actor: row.actor,
    ticket: row.ticket,
    build,
    labels: row.labels ? (JSON.parse(row.labels) as Record<string, string>) : null,
    status: row.status,
    requestedAt: iso(row.requested_ms),
    startedAt: iso(row.started_ms),
    finishedAt: iso(row.finished_ms),
    rolledBackAt: iso(row.rolled_back_ms),
    durationMs: row.duration_ms,
    updatedAt: new Date(row.updated_ms).toISOString(),
  };
}

export interface StateAtView {
  service: string;
  region: string | null;
  deployment: string;
  version: string | null;
  since: string | null;
  deployedBy: string;
}

/**
 * A deployment with one page of its event timeline, each event with its ledger index;
 * `eventsNextCursor` asks for the next page (null: the timeline is complete).
 */
export type DeploymentDetail = DeploymentView & {
  events: (EventRecord & { ledgerIndex: number | null })[];
  eventsNextCursor: string | null;
};

export interface DeploymentLedgerEntry {
  readonly eventId: string;
  readonly index: number;
  readonly leafHash: Uint8Array;
  readonly data: string | null;
}

export interface DeploymentsRepository {
  /** The stored row of `deployment`, read in `trx` when given. */
  find(deployment: string, trx?: WriteTransaction): Promise<DeploymentRow | undefined>;
  /** Deployments matching `filter`, newest first. */
  list(filter: DeploymentFilter): Promise<Page<DeploymentView>>;
  /**
   * One deployment with a page of its timeline (ordered by event time, then hybrid logical
   * clock): a deployment may hold thousands of events, and one answer holds at most `limit`.
   */
  get(deployment: string, timeline?: PageRequest): Promise<DeploymentDetail | undefined>;
  /**
   * Which version of each service ran in an environment at an instant: per service and region,
   * the latest deployment that had succeeded by then and had not been rolled back by then.
   */
  stateAt(f: {
    environment: string;
    atMs: number;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<StateAtView>>;
  /** The ledger entries of the events of `deployment`, in ledger order (its evidence). */
  ledgerEntries(deployment: string): Promise<DeploymentLedgerEntry[]>;
  /** Sets the approval of `deployment` (and the status it implies) inside `trx`. */
  setApproval(
    deployment: string,
    change: { approved: boolean; status: string; updatedMs: number },
    trx: WriteTransaction,
  ): Promise<void>;
}

/** The most timeline events one answer holds. */
export const MAX_TIMELINE_PAGE = 1000;
const TIMELINE_ORDER: Keyset = {
  columns: ['time_ms', 'hlc', 'seq'],
  shape: ['n', 's', 'n'],
  direction: 'asc',
};

export function createDeploymentsRepository(db: Kysely<Database>): DeploymentsRepository {
  return Object.freeze({
    async find(deployment: string, trx?: WriteTransaction) {
      return (trx ?? db)
        .selectFrom('deployments')
        .selectAll()
        .where('deployment', '=', deployment)
        .executeTakeFirst();
    },

    async list(f: DeploymentFilter) {
      let q = db.selectFrom('deployments').selectAll();
      if (f.service) q = q.where('service', '=', f.service);
      if (f.environment) q = q.where('environment', '=', f.environment);
      if (f.region) q = q.where('region', '=', f.region);
      if (f.status) q = q.where('status', '=', f.status);
      if (f.kind) q = q.where('kind', '=', f.kind);
      if (f.actor) q = q.where('actor', '=', f.actor);
      if (f.sinceMs !== undefined) q = q.where('sort_ms', '>=', f.sinceMs);
      if (f.untilMs !== undefined) q = q.where('sort_ms', '<', f.untilMs);
      return keysetPage(
        q,
        BY_SORT_TIME,
        { limit: f.limit, cursor: f.cursor || undefined },
        toDeploymentView,
        (last) => [last.sort_ms, last.deployment],
      );
    },

    async get(deployment: string, timeline: PageRequest = { limit: MAX_TIMELINE_PAGE }) {
      const row = await db
        .selectFrom('deployments')
        .selectAll()
        .where('deployment', '=', deployment)
        .executeTakeFirst();
      if (!row) return undefined;
      const events = await keysetPage(
        db
          .selectFrom('events')
          .select(['body', 'ledger_index', 'time_ms', 'hlc', 'seq'])
          .where('deployment', '=', deployment),
        TIMELINE_ORDER,
        timeline,
        (e) => ({ ...(JSON.parse(e.body) as EventRecord), ledgerIndex: e.ledger_index }),
        (e) => [e.time_ms, e.hlc, e.seq],
      );
      return { ...toDeploymentView(row), events: events.items, eventsNextCursor: events.nextCursor };
    },

    async stateAt(f: { environment: string; atMs: number; limit: number; cursor?: string | undefined }) {
      const ranked = db
        .selectFrom('deployments')
        .select(['service', 'region', 'deployment', 'version', 'finished_ms', 'actor'])
        .select(
          sql<number>`row_number() over (partition by service, region order by finished_ms desc, deployment desc)`.as(
            'rank',
          ),
        )
        .where('environment', '=', f.environment)
        .where('finished_ms', '<=', f.atMs)
        .where('status', 'in', ['succeeded', 'rolled_back'])
        .where((eb) => eb.or([eb('rolled_back_ms', 'is', null), eb('rolled_back_ms', '>', f.atMs)]));
      return keysetPage(
        db.selectFrom(ranked.as('r')).selectAll().where('rank', '=', 1),
        { columns: ['service', 'region'], shape: ['s', 's'], direction: 'asc' },
        { limit: f.limit, cursor: f.cursor || undefined },
        (r) => ({
          service: r.service,
          region: r.region || null,
          deployment: r.deployment,
          version: r.version,
          since: iso(r.finished_ms),
          deployedBy: r.actor,
        }),
        (last) => [last.service, last.region],
      );
    },

    async ledgerEntries(deployment: string) {
      const rows = await db
        .selectFrom('events')
        .innerJoin('ledger_entries', 'ledger_entries.idx', 'events.ledger_index')
        .select(['events.id', 'ledger_entries.idx', 'ledger_entries.leaf_hash', 'events.body as data'])
        .where('events.deployment', '=', deployment)
        .orderBy('ledger_entries.idx')
        .execute();
      return rows.map((r) => ({ eventId: r.id, index: Number(r.idx), leafHash: r.leaf_hash, data: r.data }));
    },

    async setApproval(
      deployment: string,
      change: { approved: boolean; status: string; updatedMs: number },
      trx: WriteTransaction,
    ) {
      await trx
        .updateTable('deployments')
        .set({ approved: change.approved ? 1 : 0, status: change.status, updated_ms: change.updatedMs })
        .where('deployment', '=', deployment)
        .execute();
    },
  });
}

/** Newest first: the deployment's sort time, then its id. */
const BY_SORT_TIME = { columns: ['sort_ms', 'deployment'], shape: ['n', 's'], direction: 'desc' } as const;
