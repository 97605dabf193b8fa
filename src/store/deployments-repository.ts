/** Reads of deployments, their timelines, the environments summary and past state. */
import { sql, type Kysely } from 'kysely';
import type { Status } from '../domain/lifecycle.js';
import { decodeCursor, pageOf, type Page } from './cursor.js';
import type { DeploymentRow } from '../domain/deployment-row.js';
import type { EventRecord } from '../domain/event-record.js';
import type { Database, EnvironmentsTable } from './schema.js';

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

export async function listDeployments(
  db: Kysely<Database>,
  f: DeploymentFilter,
): Promise<Page<DeploymentView>> {
  let q = db.selectFrom('deployments').selectAll();
  if (f.service) q = q.where('service', '=', f.service);
  if (f.environment) q = q.where('environment', '=', f.environment);
  if (f.region) q = q.where('region', '=', f.region);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.actor) q = q.where('actor', '=', f.actor);
  if (f.sinceMs !== undefined) q = q.where('sort_ms', '>=', f.sinceMs);
  if (f.untilMs !== undefined) q = q.where('sort_ms', '<', f.untilMs);
  if (f.cursor) {
    const [sortMs, deployment] = decodeCursor(f.cursor, ['n', 's']) as [number, string];
    q = q.where((eb) =>
      eb.or([
        eb('sort_ms', '<', sortMs),
        eb.and([eb('sort_ms', '=', sortMs), eb('deployment', '<', deployment)]),
      ]),
    );
  }
  const rows = await q
    .orderBy('sort_ms', 'desc')
    .orderBy('deployment', 'desc')
    .limit(f.limit + 1)
    .execute();
  return pageOf(rows, f.limit, toDeploymentView, (last) => [last.sort_ms, last.deployment]);
}

export async function getDeployment(
  db: Kysely<Database>,
  deployment: string,
): Promise<(DeploymentView & { events: (EventRecord & { ledgerIndex: number | null })[] }) | undefined> {
  const row = await db
    .selectFrom('deployments')
    .selectAll()
    .where('deployment', '=', deployment)
    .executeTakeFirst();
  if (!row) return undefined;
  const events = await db
    .selectFrom('events')
    .select(['body', 'ledger_index'])
    .where('deployment', '=', deployment)
    .orderBy('time_ms')
    .orderBy('hlc')
    .execute();
  return {
    ...toDeploymentView(row),
    events: events.map((e) => ({ ...(JSON.parse(e.body) as EventRecord), ledgerIndex: e.ledger_index })),
  };
}

export interface EnvironmentView {
  service: string;
  environment: string;
  region: string | null;
  current: {
    deployment: string;
    version: string | null;
    since: string | null;
    deployedBy: string | null;
  } | null;
  inProgress: {
    deployment: string;
    version: string | null;
    since: string | null;
    deployedBy: string | null;
    count: number;
  } | null;
}

function toEnvironmentView(row: EnvironmentsTable): EnvironmentView {
  return {
    service: row.service,
    environment: row.environment,
    region: row.region || null,
    current: row.current_deployment
      ? {
          deployment: row.current_deployment,
          version: row.current_version,
          since: iso(row.current_since_ms),
          deployedBy: row.current_actor,
        }
      : null,
    inProgress: row.progress_deployment
      ? {
          deployment: row.progress_deployment,
          version: row.progress_version,
          since: iso(row.progress_since_ms),
          deployedBy: row.progress_actor,
          count: row.progress_count,
        }
      : null,
  };
}

export async function listEnvironments(
  db: Kysely<Database>,
  f: {
    service?: string | undefined;
    environment?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<Page<EnvironmentView>> {
  let q = db.selectFrom('environments').selectAll();
  if (f.service) q = q.where('service', '=', f.service);
  if (f.environment) q = q.where('environment', '=', f.environment);
  if (f.cursor) {
    const [s, e, r] = decodeCursor(f.cursor, ['s', 's', 's']) as [string, string, string];
    q = q.where((eb) => eb(eb.refTuple('service', 'environment', 'region'), '>', eb.tuple(s, e, r)));
  }
  const rows = await q
    .orderBy('service')
    .orderBy('environment')
    .orderBy('region')
    .limit(f.limit + 1)
    .execute();
  return pageOf(rows, f.limit, toEnvironmentView, (last) => [last.service, last.environment, last.region]);
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
 * Which version of each service ran in an environment at an instant: per service and region,
 * the latest deployment that had succeeded by then and had not been rolled back by then.
 */
export async function stateAt(
  db: Kysely<Database>,
  f: { environment: string; atMs: number; limit: number; cursor?: string | undefined },
): Promise<Page<StateAtView>> {
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
  let q = db.selectFrom(ranked.as('r')).selectAll().where('rank', '=', 1);
  if (f.cursor) {
    const [s, r] = decodeCursor(f.cursor, ['s', 's']) as [string, string];
    q = q.where((eb) => eb(eb.refTuple('service', 'region'), '>', eb.tuple(s, r)));
  }
  const rows = await q
    .orderBy('service')
    .orderBy('region')
    .limit(f.limit + 1)
    .execute();
  return pageOf(
    rows,
    f.limit,
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
}

export interface SourceView {
  source: string;
  events: number;
  lastSeenAt: string;
  skew: {
    samples: number;
    lastMs: number | null;
    meanMs: number | null;
    minMs: number | null;
    maxMs: number | null;
  };
}

export async function listSources(
  db: Kysely<Database>,
  f: { limit: number; cursor?: string | undefined },
): Promise<Page<SourceView>> {
  let q = db.selectFrom('sources').selectAll();
  if (f.cursor) {
    const [s] = decodeCursor(f.cursor, ['s']) as [string];
    q = q.where('source', '>', s);
  }
  const rows = await q
    .orderBy('source')
    .limit(f.limit + 1)
    .execute();
  return pageOf(
    rows,
    f.limit,
    (r) => ({
      source: r.source,
      events: r.events,
      lastSeenAt: new Date(r.last_seen_ms).toISOString(),
      skew: {
        samples: r.skew_count,
        lastMs: r.skew_last_ms,
        meanMs: r.skew_count > 0 ? Math.round(r.skew_sum_ms / r.skew_count) : null,
        minMs: r.skew_min_ms,
        maxMs: r.skew_max_ms,
      },
    }),
    (last) => [last.source],
  );
}
