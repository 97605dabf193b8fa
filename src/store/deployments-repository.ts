/**
 * Deployments: their rows (the state derived from their events), the list and one deployment
 * with its timeline, which version ran where at an instant, and the approval status the
 * governance code sets.
 */
import { upcastRecord } from '../domain/event-versions.js';
import { sql, type Kysely } from 'kysely';
import type { Status } from '../domain/lifecycle.js';
import type { DeploymentRow } from '../domain/deployment-row.js';
import type { EventRecord } from '../domain/event-record.js';
import { decodeCursor, keysetPage, pageOf, type Keyset, type Page, type PageRequest } from './cursor.js';
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

/** One side of a state diff: what ran in a service and region at one instant. */
export interface StateSideView {
  deployment: string;
  version: string | null;
}

/**
 * What changed for one service and region between two instants. `changedBy` is the deployment
 * that made the change: the deployment running at `to` when it finished after `from`; otherwise
 * (the version went back, or disappeared) the deployment running at `from`, rolled back in
 * between (its `rolledBackAt` says when).
 */
export interface StateDiffView {
  service: string;
  region: string | null;
  change: 'added' | 'removed' | 'changed';
  from: StateSideView | null;
  to: StateSideView | null;
  changedBy: { deployment: string; actor: string; finishedAt: string | null; rolledBackAt: string | null };
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
  /**
   * What changed in an environment between two instants (the `stateAt` rule at each): per
   * service and region whose version differs, by service then region. Reads every service and
   * region of the environment at both instants (one row each) and pages the differences.
   */
  stateDiff(f: {
    environment: string;
    fromMs: number;
    toMs: number;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<StateDiffView>>;
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
  /** Per service and region, the latest deployment succeeded by `atMs` and not rolled back by then. */
  const runningAt = (environment: string, atMs: number) =>
    db
      .selectFrom('deployments')
      .select(['service', 'region', 'deployment', 'version', 'finished_ms', 'rolled_back_ms', 'actor'])
      .select(
        sql<number>`row_number() over (partition by service, region order by finished_ms desc, deployment desc)`.as(
          'rank',
        ),
      )
      .where('environment', '=', environment)
      .where('finished_ms', '<=', atMs)
      .where('status', 'in', ['succeeded', 'rolled_back'])
      .where((eb) => eb.or([eb('rolled_back_ms', 'is', null), eb('rolled_back_ms', '>', atMs)]));
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
        // Records of any earlier schema version read as current ones.
        (e) => ({ ...upcastRecord(JSON.parse(e.body) as EventRecord), ledgerIndex: e.ledger_index }),
        (e) => [e.time_ms, e.hlc, e.seq],
      );
      return { ...toDeploymentView(row), events: events.items, eventsNextCursor: events.nextCursor };
    },

    async stateAt(f: { environment: string; atMs: number; limit: number; cursor?: string | undefined }) {
      const ranked = runningAt(f.environment, f.atMs);
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

    async stateDiff(f: {
      environment: string;
      fromMs: number;
      toMs: number;
      limit: number;
      cursor?: string | undefined;
    }) {
      const after = f.cursor ? (decodeCursor(f.cursor, ['s', 's']) as [string, string]) : undefined;
      const read = async (atMs: number) => {
        const rows = await db
          .selectFrom(runningAt(f.environment, atMs).as('r'))
          .selectAll()
          .where('rank', '=', 1)
          .execute();
        return new Map(rows.map((r) => [JSON.stringify([r.service, r.region]), r]));
      };
      const [before, now] = [await read(f.fromMs), await read(f.toMs)];
      const keys = [...new Set([...before.keys(), ...now.keys()])]
        .map((k) => JSON.parse(k) as [string, string])
        .filter((k) => !after || k[0] > after[0] || (k[0] === after[0] && k[1] > after[1]))
        .sort((x, y) => (x[0] === y[0] ? cmp(x[1], y[1]) : cmp(x[0], y[0])));
      const diffs: (StateDiffView & { key: [string, string] })[] = [];
      for (const key of keys) {
        const a = before.get(JSON.stringify(key));
        const b = now.get(JSON.stringify(key));
        if (a && b && a.version === b.version) continue;
        const by = b && (!a || Number(b.finished_ms) > f.fromMs) ? b : (a ?? b);
        if (!by) continue;
        diffs.push({
          key,
          service: key[0],
          region: key[1] || null,
          change: !a ? 'added' : !b ? 'removed' : 'changed',
          from: a ? { deployment: a.deployment, version: a.version } : null,
          to: b ? { deployment: b.deployment, version: b.version } : null,
          changedBy: {
            deployment: by.deployment,
            actor: by.actor,
            finishedAt: iso(by.finished_ms),
            rolledBackAt: iso(by.rolled_back_ms),
          },
        });
        if (diffs.length > f.limit) break;
      }
      return pageOf(
        diffs,
        f.limit,
        ({ key: _key, ...view }) => view,
        (d) => d.key,
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

/** Code-unit order: the diff pages in memory, the same order on both databases. */
const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** Newest first: the deployment's sort time, then its id. */
const BY_SORT_TIME = { columns: ['sort_ms', 'deployment'], shape: ['n', 's'], direction: 'desc' } as const;
