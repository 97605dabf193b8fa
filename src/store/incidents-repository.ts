/**
 * Incidents (DESIGN.md §9): the current record per key, one row per change (with its ledger
 * index, for post-mortem timelines), and the reads correlation needs: the candidate
 * deployments of one incident and the candidate incidents of one deployment, each bounded by
 * an indexed time span so a suspect list stays fast at millions of deployments.
 */
import type { Kysely, Transaction } from 'kysely';
import type { CandidateDeployment, IncidentFacts } from '../domain/correlation.js';
import type { Incident, IncidentKind, IncidentSeverity, IncidentStatus } from '../domain/incident.js';
import { decodeCursor, pageOf, type Page } from './cursor.js';
import type { CatalogServicesTable, Database, IncidentChangesTable, IncidentsTable } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface IncidentView {
  key: string;
  kind: IncidentKind;
  title: string;
  service: string | null;
  environment: string | null;
  region: string | null;
  severity: IncidentSeverity | null;
  status: IncidentStatus;
  startedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  url: string | null;
  ticket: string | null;
  causedBy: string | null;
  labels: Record<string, string> | null;
  source: string;
  createdAt: string;
  updatedAt: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toIncident(row: IncidentsTable): Incident {
  return {
    key: row.key,
    kind: row.kind as IncidentKind,
    title: row.title,
    service: row.service,
    environment: row.environment,
    region: row.region,
    severity: row.severity as IncidentSeverity | null,
    status: row.status as IncidentStatus,
    startedMs: Number(row.started_ms),
    acknowledgedMs: row.acknowledged_ms === null ? null : Number(row.acknowledged_ms),
    resolvedMs: row.resolved_ms === null ? null : Number(row.resolved_ms),
    url: row.url,
    ticket: row.ticket,
    causedBy: row.caused_by,
    labels: row.labels === null ? null : (JSON.parse(row.labels) as Record<string, string>),
    source: row.source,
    createdMs: Number(row.created_ms),
    updatedMs: Number(row.updated_ms),
  };
}

function toRow(incident: Incident): IncidentsTable {
  return {
    key: incident.key,
    kind: incident.kind,
    title: incident.title,
    service: incident.service,
    environment: incident.environment,
    region: incident.region,
    severity: incident.severity,
    status: incident.status,
    started_ms: incident.startedMs,
    acknowledged_ms: incident.acknowledgedMs,
    resolved_ms: incident.resolvedMs,
    url: incident.url,
    ticket: incident.ticket,
    caused_by: incident.causedBy,
    labels: incident.labels === null ? null : JSON.stringify(incident.labels),
    source: incident.source,
    created_ms: incident.createdMs,
    updated_ms: incident.updatedMs,
  };
}

export function toIncidentView(incident: Incident): IncidentView {
  return {
    key: incident.key,
    kind: incident.kind,
    title: incident.title,
    service: incident.service,
    environment: incident.environment,
    region: incident.region,
    severity: incident.severity,
    status: incident.status,
    startedAt: new Date(incident.startedMs).toISOString(),
    acknowledgedAt: iso(incident.acknowledgedMs),
    resolvedAt: iso(incident.resolvedMs),
    url: incident.url,
    ticket: incident.ticket,
    causedBy: incident.causedBy,
    labels: incident.labels === null ? null : { ...incident.labels },
    source: incident.source,
    createdAt: new Date(incident.createdMs).toISOString(),
    updatedAt: new Date(incident.updatedMs).toISOString(),
  };
}

export function toIncidentFacts(incident: Incident): IncidentFacts {
  return {
    key: incident.key,
    title: incident.title,
    service: incident.service,
    environment: incident.environment,
    region: incident.region,
    startedMs: incident.startedMs,
    ticket: incident.ticket,
    causedBy: incident.causedBy,
    labels: incident.labels,
  };
}

export async function findIncident(db: Db, key: string): Promise<Incident | undefined> {
  const row = await db.selectFrom('incidents').selectAll().where('key', '=', key).executeTakeFirst();
  return row ? toIncident(row) : undefined;
}

/** Several incidents by key, in one query. */
export async function findIncidents(db: Db, keys: readonly string[]): Promise<Map<string, Incident>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom('incidents')
    .selectAll()
    .where('key', 'in', [...keys])
    .execute();
  return new Map(rows.map((row) => [row.key, toIncident(row)]));
}

/** Inserts or replaces the incident and records the change. */
export async function saveIncident(
  trx: Transaction<Database>,
  incident: Incident,
  created: boolean,
  change: IncidentChangesTable,
): Promise<void> {
  const row = toRow(incident);
  if (created) await trx.insertInto('incidents').values(row).execute();
  else await trx.updateTable('incidents').set(row).where('key', '=', incident.key).execute();
  await trx.insertInto('incident_changes').values(change).execute();
}

export interface IncidentFilter {
  readonly service?: string | undefined;
  readonly environment?: string | undefined;
  readonly status?: string | undefined;
  readonly sinceMs?: number | undefined;
  readonly untilMs?: number | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** Incidents, newest start first. */
export async function listIncidents(db: Db, f: IncidentFilter): Promise<Page<IncidentView>> {
  let q = db.selectFrom('incidents').selectAll();
  if (f.service) q = q.where('service', '=', f.service);
  if (f.environment) q = q.where('environment', '=', f.environment);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.sinceMs !== undefined) q = q.where('started_ms', '>=', f.sinceMs);
  if (f.untilMs !== undefined) q = q.where('started_ms', '<', f.untilMs);
  if (f.cursor) {
    const [ms, key] = decodeCursor(f.cursor, ['n', 's']) as [number, string];
    q = q.where((eb) =>
      eb.or([eb('started_ms', '<', ms), eb.and([eb('started_ms', '=', ms), eb('key', '<', key)])]),
    );
  }
  const rows = await q
    .orderBy('started_ms', 'desc')
    .orderBy('key', 'desc')
    .limit(f.limit + 1)
    .execute();
  return pageOf(
    rows,
    f.limit,
    (row) => toIncidentView(toIncident(row)),
    (last) => [Number(last.started_ms), last.key],
  );
}

/**
 * The incidents of `service` open at `atMs`: started by then and not resolved by then (an
 * open incident now has no resolution; a what-if in the past sees the incidents open then).
 */
export async function openIncidentsAt(db: Db, service: string, atMs: number): Promise<Incident[]> {
  const rows = await db
    .selectFrom('incidents')
    .selectAll()
    .where('service', '=', service)
    .where('started_ms', '<=', atMs)
    .where((eb) => eb.or([eb('resolved_ms', 'is', null), eb('resolved_ms', '>', atMs)]))
    .orderBy('started_ms')
    .limit(1000)
    .execute();
  return rows.map(toIncident);
}

/** The changes of one incident, oldest first. */
export async function incidentChanges(db: Db, key: string): Promise<IncidentChangesTable[]> {
  return db
    .selectFrom('incident_changes')
    .selectAll()
    .where('incident_key', '=', key)
    .orderBy('at_ms')
    .orderBy('id')
    .execute();
}

const CANDIDATE_COLUMNS = [
  'deployment',
  'service',
  'environment',
  'region',
  'version',
  'ticket',
  'sort_ms',
  'started_ms',
  'finished_ms',
] as const;

type CandidateRow = Pick<Database['deployments'], (typeof CANDIDATE_COLUMNS)[number]>;

function toCandidate(row: CandidateRow): CandidateDeployment {
  return {
    deployment: row.deployment,
    service: row.service,
    environment: row.environment,
    region: row.region,
    version: row.version,
    ticket: row.ticket,
    firstMs: Number(row.sort_ms),
    startedMs: row.started_ms === null ? null : Number(row.started_ms),
    finishedMs: row.finished_ms === null ? null : Number(row.finished_ms),
  };
}

export interface CandidateQuery {
  /** The incident's service and its dependencies. */
  readonly services: readonly string[];
  /** Only this environment for `services` (null: all). */
  readonly environment: string | null;
  readonly ticket: string | null;
  /** Words of the incident that may be deployment keys. */
  readonly mentioned: readonly string[];
  readonly causedBy: string | null;
  /** First-event span (`sort_ms`), inclusive. */
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * The deployments that can be suspects of one incident: of its services (and environment) in
 * the span, carrying its ticket in the span, named by it in the span, and its `causedBy`. Each
 * part walks an index (service+environment+sort_ms, ticket, primary key).
 */
export async function candidateDeployments(db: Db, q: CandidateQuery): Promise<CandidateDeployment[]> {
  const parts: Promise<CandidateRow[]>[] = [];
  const base = () => db.selectFrom('deployments').select([...CANDIDATE_COLUMNS]);
  if (q.services.length > 0) {
    let query = base().where('service', 'in', [...q.services]);
    if (q.environment !== null) query = query.where('environment', '=', q.environment);
    parts.push(query.where('sort_ms', '>=', q.fromMs).where('sort_ms', '<=', q.toMs).execute());
  }
  if (q.ticket !== null) {
    parts.push(
      base()
        .where('ticket', '=', q.ticket)
        .where('sort_ms', '>=', q.fromMs)
        .where('sort_ms', '<=', q.toMs)
        .execute(),
    );
  }
  const keys = [...new Set([...q.mentioned.slice(0, 200), ...(q.causedBy === null ? [] : [q.causedBy])])];
  if (keys.length > 0) parts.push(base().where('deployment', 'in', keys).execute());
  const seen = new Map<string, CandidateDeployment>();
  for (const rows of await Promise.all(parts)) {
    for (const row of rows) if (!seen.has(row.deployment)) seen.set(row.deployment, toCandidate(row));
  }
  return [...seen.values()];
}

/** One deployment as a correlation candidate. */
export async function candidateOf(db: Db, deployment: string): Promise<CandidateDeployment | undefined> {
  const row = await db
    .selectFrom('deployments')
    .select([...CANDIDATE_COLUMNS])
    .where('deployment', '=', deployment)
    .executeTakeFirst();
  return row ? toCandidate(row) : undefined;
}

/**
 * Incidents that can have `deployment` among their suspects: those that name it as
 * `causedBy`, and those that started within `spanMs` after its first event.
 */
export async function candidateIncidents(
  db: Db,
  deployment: string,
  firstMs: number,
  spanMs: number,
): Promise<Incident[]> {
  const [explicit, inSpan] = await Promise.all([
    db.selectFrom('incidents').selectAll().where('caused_by', '=', deployment).execute(),
    db
      .selectFrom('incidents')
      .selectAll()
      .where('started_ms', '>=', firstMs)
      .where('started_ms', '<=', firstMs + spanMs)
      .orderBy('started_ms')
      .limit(5000)
      .execute(),
  ]);
  const seen = new Map<string, Incident>();
  for (const row of [...explicit, ...inSpan]) if (!seen.has(row.key)) seen.set(row.key, toIncident(row));
  return [...seen.values()];
}

/** The catalog's services (team, repository, dependencies). */
export async function catalogServices(db: Db): Promise<CatalogServicesTable[]> {
  return db.selectFrom('catalog_services').selectAll().orderBy('name').execute();
}

/** Replaces catalog entries (by name). */
export async function upsertCatalogServices(
  trx: Transaction<Database>,
  rows: readonly CatalogServicesTable[],
): Promise<void> {
  for (const row of rows) {
    await trx.deleteFrom('catalog_services').where('name', '=', row.name).execute();
    await trx.insertInto('catalog_services').values(row).execute();
  }
}

/** Which of `recordIds` are already turned into incidents. */
export async function linkedRecords(db: Db, recordIds: readonly string[]): Promise<Set<string>> {
  if (recordIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('incident_record_links')
    .select('record_id')
    .where('record_id', 'in', [...recordIds])
    .execute();
  return new Set(rows.map((r) => r.record_id));
}

export async function linkRecord(
  trx: Transaction<Database>,
  recordId: string,
  incidentKey: string,
  nowMs: number,
): Promise<void> {
  await trx
    .insertInto('incident_record_links')
    .values({ record_id: recordId, incident_key: incidentKey, created_ms: nowMs })
    .execute();
}

/** Stored records of `types` not yet turned into incidents, oldest first. */
export async function unlinkedRecords(
  db: Db,
  types: readonly string[],
  limit: number,
): Promise<{ id: string; record_type: string; time_ms: number; data: string }[]> {
  const rows = await db
    .selectFrom('webhook_records as r')
    .leftJoin('incident_record_links as l', 'l.record_id', 'r.id')
    .select(['r.id', 'r.record_type', 'r.time_ms', 'r.data'])
    .where('r.record_type', 'in', [...types])
    .where('l.record_id', 'is', null)
    .orderBy('r.time_ms')
    .orderBy('r.created_ms')
    .orderBy('r.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, time_ms: Number(r.time_ms) }));
}

/** The newest deployment running per service, environment and region (the environments summary). */
export async function currentDeployments(db: Db): Promise<
  {
    service: string;
    environment: string;
    region: string;
    deployment: string | null;
    version: string | null;
    since_ms: number | null;
  }[]
> {
  const rows = await db
    .selectFrom('environments')
    .select([
      'service',
      'environment',
      'region',
      'current_deployment as deployment',
      'current_version as version',
      'current_since_ms as since_ms',
    ])
    .orderBy('service')
    .orderBy('environment')
    .orderBy('region')
    .limit(100_000)
    .execute();
  return rows.map((r) => ({ ...r, since_ms: r.since_ms === null ? null : Number(r.since_ms) }));
}

/** One fact of a post-mortem timeline, as stored. */
export interface TimelineRow {
  readonly atMs: number;
  readonly kind: 'deployment_event' | 'approval' | 'gate_decision' | 'override' | 'incident_change';
  readonly what: string;
  readonly who: string;
  readonly ledgerIndex: number | null;
  readonly deployment?: string;
}

/**
 * Deployment events, approvals and gate decisions (overrides among them) of `services` in
 * [fromMs, toMs], oldest first. Approvals and gate decisions keep no ledger index of their
 * own, so theirs is found among the ledger entries of their record type in the same span.
 */
export async function timelineRows(
  db: Db,
  services: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<TimelineRow[]> {
  if (services.length === 0) return [];
  const [events, approvals, gates] = await Promise.all([
    db
      .selectFrom('events as e')
      .innerJoin('deployments as d', 'd.deployment', 'e.deployment')
      .select([
        'e.time_ms',
        'e.type',
        'e.deployment',
        'e.ledger_index',
        'd.service',
        'd.environment',
        'd.version',
        'd.actor',
      ])
      .where('d.service', 'in', [...services])
      .where('e.time_ms', '>=', fromMs)
      .where('e.time_ms', '<=', toMs)
      .orderBy('e.time_ms')
      .limit(5000)
      .execute(),
    db
      .selectFrom('approvals')
      .selectAll()
      .where('service', 'in', [...services])
      .where('created_ms', '>=', fromMs)
      .where('created_ms', '<=', toMs)
      .limit(1000)
      .execute(),
    db
      .selectFrom('gate_decisions')
      .selectAll()
      .where('service', 'in', [...services])
      .where('created_ms', '>=', fromMs)
      .where('created_ms', '<=', toMs)
      .limit(1000)
      .execute(),
  ]);
  const ids = [...approvals.map((a) => a.id), ...gates.map((g) => g.id)];
  const indexOf = await ledgerIndexesOf(db, ids);
  return [
    ...events.map((e): TimelineRow => ({
      atMs: Number(e.time_ms),
      kind: 'deployment_event',
      what: `${e.type} ${e.deployment}: ${e.service} ${e.version ?? ''} to ${e.environment}`.replace(
        '  ',
        ' ',
      ),
      who: e.actor,
      ledgerIndex: e.ledger_index === null ? null : Number(e.ledger_index),
      deployment: e.deployment,
    })),
    ...approvals.map((a): TimelineRow => ({
      atMs: Number(a.created_ms),
      kind: 'approval',
      what: `${a.decision} ${a.deployment}: ${a.service} ${a.version} to ${a.environment}`,
      who: a.approver,
      ledgerIndex: indexOf.get(a.id) ?? null,
      deployment: a.deployment,
    })),
    ...gates.map((g): TimelineRow => ({
      atMs: Number(g.created_ms),
      kind: g.overridden === 1 ? 'override' : 'gate_decision',
      what:
        g.overridden === 1
          ? `gate overridden for ${g.deployment}: ${g.override_justification ?? ''}`
          : `gate ${g.allow === 1 ? 'allowed' : 'denied'} ${g.deployment}: ${g.service} ${g.version} to ${g.environment}`,
      who: g.override_by ?? g.asked_by,
      ledgerIndex: indexOf.get(g.id) ?? null,
      deployment: g.deployment,
    })),
  ];
}

/** Ledger indexes of approvals and gate decisions by their id (read from the entries' JSON). */
async function ledgerIndexesOf(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (ids.length === 0) return found;
  const rows = await db
    .selectFrom('ledger_entries')
    .select(['idx', 'data'])
    .where('record_type', 'in', ['approval', 'gate_decision'])
    .where((eb) =>
      eb.or(
        ids.flatMap((id) => {
          const safe = id.replace(/[%\\]/g, '');
          return [eb('data', 'like', `%"id":"${safe}"%`), eb('data', 'like', `%"decisionId":"${safe}"%`)];
        }),
      ),
    )
    .limit(ids.length * 2)
    .execute();
  const wanted = new Set(ids);
  for (const row of rows) {
    // LIKE's `_` matches any character: keep only the entries whose id is one asked for.
    const record = row.data === null ? {} : (JSON.parse(row.data) as { id?: string; decisionId?: string });
    const id = record.id ?? record.decisionId;
    if (id !== undefined && wanted.has(id)) found.set(id, Number(row.idx));
  }
  return found;
}

/** Incidents, their changes, the catalog and the correlation reads, on the store. */
export interface IncidentsRepository {
  find(key: string): Promise<Incident | undefined>;
  findMany(keys: readonly string[], trx: Transaction<Database>): Promise<Map<string, Incident>>;
  save(
    incident: Incident,
    created: boolean,
    change: IncidentChangesTable,
    trx: Transaction<Database>,
  ): Promise<void>;
  list(f: IncidentFilter): Promise<Page<IncidentView>>;
  openAt(service: string, atMs: number): Promise<Incident[]>;
  changes(key: string): Promise<IncidentChangesTable[]>;
  candidateDeployments(q: CandidateQuery): Promise<CandidateDeployment[]>;
  candidateOf(deployment: string): Promise<CandidateDeployment | undefined>;
  candidateIncidents(deployment: string, firstMs: number, spanMs: number): Promise<Incident[]>;
  catalog(): Promise<CatalogServicesTable[]>;
  upsertCatalog(rows: readonly CatalogServicesTable[], trx: Transaction<Database>): Promise<void>;
  currentDeployments(): ReturnType<typeof currentDeployments>;
  timeline(services: readonly string[], fromMs: number, toMs: number): Promise<TimelineRow[]>;
  linkedRecords(recordIds: readonly string[], trx: Transaction<Database>): Promise<Set<string>>;
  linkRecord(recordId: string, incidentKey: string, nowMs: number, trx: Transaction<Database>): Promise<void>;
  unlinkedRecords(types: readonly string[], limit: number): ReturnType<typeof unlinkedRecords>;
}

export function createIncidentsRepository(db: Kysely<Database>): IncidentsRepository {
  return {
    find: (key) => findIncident(db, key),
    findMany: (keys, trx) => findIncidents(trx, keys),
    save: (incident, created, change, trx) => saveIncident(trx, incident, created, change),
    list: (f) => listIncidents(db, f),
    openAt: (service, atMs) => openIncidentsAt(db, service, atMs),
    changes: (key) => incidentChanges(db, key),
    candidateDeployments: (q) => candidateDeployments(db, q),
    candidateOf: (deployment) => candidateOf(db, deployment),
    candidateIncidents: (deployment, firstMs, spanMs) => candidateIncidents(db, deployment, firstMs, spanMs),
    catalog: () => catalogServices(db),
    upsertCatalog: (rows, trx) => upsertCatalogServices(trx, rows),
    currentDeployments: () => currentDeployments(db),
    timeline: (services, fromMs, toMs) => timelineRows(db, services, fromMs, toMs),
    linkedRecords: (ids, trx) => linkedRecords(trx, ids),
    linkRecord: (recordId, key, nowMs, trx) => linkRecord(trx, recordId, key, nowMs),
    unlinkedRecords: (types, limit) => unlinkedRecords(db, types, limit),
  };
}
