/**
 * The reads behind DORA metrics (DESIGN.md §10), columns kept to what the arithmetic needs: the
 * changes of one environment finished in a span, the first change after it per service, the
 * deployments that declare a remediation or roll back, and the incidents severe enough to make
 * a change failed. The two large ones (the changes, a hundred thousand a month for a large
 * organisation, and the incidents) come back as lines of text (src/store/dora-lines.ts); the
 * changes fill a column table (src/domain/dora-changes.ts). Each walks an index (migration
 * 016: the changes and the remediations, covering every column read, so the table is not
 * touched; 010: kind+environment+sort_ms; 007: incidents by start and by caused_by). The
 * arithmetic is src/domain/dora.ts.
 */
import type { ExpressionBuilder, Kysely } from 'kysely';
import { ChangeTable } from '../domain/dora-changes.js';
import type { DoraIncident, DoraRemediation } from '../domain/dora.js';
import type { IncidentSeverity } from '../domain/incident.js';
import type { EachRow } from './array-rows.js';
import type { Dialect } from './database.js';
import {
  CHANGE_LINE,
  INCIDENT_LINE,
  REMEDIATION_LINE,
  linesOf,
  readChanges,
  readIncidents,
  readRemediations,
} from './dora-lines.js';
import type { Database } from './schema.js';

export interface DoraQuery {
  readonly environment: string;
  /** Only these services' changes (null: every service). */
  readonly services: readonly string[] | null;
  /** Changes finished in [sinceMs, untilMs). */
  readonly sinceMs: number;
  readonly untilMs: number;
  /** Incidents started in [incidentsFromMs, incidentsToMs], plus every incident naming a `causedBy`. */
  readonly incidentsFromMs: number;
  readonly incidentsToMs: number;
  /** Remediations whose first event is at or after this. */
  readonly remediationsFromMs: number;
  /** Severities that count (`dora.minSeverity` or worse). */
  readonly severities: readonly IncidentSeverity[];
}

export interface DoraFacts {
  readonly changes: ChangeTable;
  readonly nextChanges: Map<string, { deployment: string; finishedMs: number }>;
  readonly remediations: DoraRemediation[];
  readonly incidents: DoraIncident[];
}

export interface DoraRepository {
  read(q: DoraQuery): Promise<DoraFacts>;
}

const SUCCEEDED = 'deployment.succeeded';

/** The changes read groups a slice's changes by the names they repeat, a row per group. */
const GROUP_COLUMNS = ['service', 'region', 'kind', 'intent'] as const;

/** A row of the changes read: GROUP_COLUMNS, then the group's row count and lines. */
type ChangeGroupRow = [
  service: string,
  region: string | null,
  kind: string,
  intent: string | null,
  count: number,
  lines: string,
];

/** A row of a read of lines: how many rows, and their lines (null for none). */
type LinesRow = [count: number, lines: string | null];

/** The changes of a window are read a day at a time, so that one day's text is held at a time. */
const SLICE_MS = 86_400_000;

/**
 * `eachRow` runs a compiled query and hands over its rows one by one as arrays
 * (src/store/array-rows.ts).
 */
export function createDoraRepository(
  db: Kysely<Database>,
  dialect: Dialect,
  eachRow: EachRow,
): DoraRepository {
  async function changes(q: DoraQuery): Promise<ChangeTable> {
    if (q.services !== null && q.services.length === 0) return new ChangeTable();
    const changesIn = (fromMs: number, toMs: number) => {
      let query = db
        .selectFrom('deployments')
        .where('environment', '=', q.environment)
        .where('finished_ms', '>=', fromMs)
        .where('finished_ms', '<', toMs)
        .where('terminal_type', '=', SUCCEEDED);
      if (q.services !== null) query = query.where('service', 'in', [...q.services]);
      return query;
    };
    // Counted first (the index alone answers), so that the table's columns are made once.
    let count = 0;
    await eachRow(
      changesIn(q.sinceMs, q.untilMs)
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .compile(),
      ([n]) => {
        count = Number(n);
      },
    );
    const table = new ChangeTable(count);
    const environment = table.nameId(q.environment);
    const lines = linesOf(dialect, CHANGE_LINE).as('lines');
    const slice = (fromMs: number, toMs: number) =>
      changesIn(fromMs, toMs)
        .select(GROUP_COLUMNS)
        .select((eb) => [eb.fn.countAll<number>().as('count'), lines])
        .groupBy(GROUP_COLUMNS)
        .compile();
    for (let fromMs = q.sinceMs; fromMs < q.untilMs; fromMs += SLICE_MS) {
      await eachRow(slice(fromMs, Math.min(q.untilMs, fromMs + SLICE_MS)), (row) => {
        const [service, region, kind, intent, count, lines] = row as ChangeGroupRow;
        readChanges(
          lines,
          Number(count),
          {
            service: table.nameId(service),
            environment,
            region: table.nameId(region),
            kind: table.nameId(kind),
            intent: table.nameId(intent),
          },
          table,
        );
      });
    }
    return table;
  }

  async function nextChanges(q: DoraQuery): Promise<DoraFacts['nextChanges']> {
    if (q.services !== null && q.services.length === 0) return new Map();
    // Ranked per service by a window function over the changes after the range only (a
    // join back on the minimum walked every change of the environment).
    let ranked = db
      .selectFrom('deployments')
      .select(['service', 'deployment', 'finished_ms'])
      .select((eb) =>
        eb.fn
          .agg<number>('row_number')
          .over((ob) => ob.partitionBy('service').orderBy('finished_ms').orderBy('deployment'))
          .as('rank'),
      )
      .where('environment', '=', q.environment)
      .where('finished_ms', '>=', q.untilMs)
      .where('terminal_type', '=', SUCCEEDED);
    if (q.services !== null) ranked = ranked.where('service', 'in', [...q.services]);
    const map: DoraFacts['nextChanges'] = new Map();
    await eachRow(
      db
        .selectFrom(ranked.as('r'))
        .select(['r.service', 'r.deployment', 'r.finished_ms'])
        .where('r.rank', '=', 1)
        .compile(),
      (row) => {
        const [service, deployment, finishedMs] = row as [string, string, number | null];
        map.set(service, { deployment, finishedMs: finishedMs ?? 0 });
      },
    );
    return map;
  }

  async function remediations(q: DoraQuery): Promise<DoraRemediation[]> {
    const found: DoraRemediation[] = [];
    const add = (row: unknown[]) => {
      const [count, lines] = row as LinesRow;
      if (lines !== null) readRemediations(lines, Number(count), (r) => found.push(r));
    };
    const lines = (eb: ExpressionBuilder<Database, 'deployments'>) => [
      eb.fn.countAll<number>().as('count'),
      linesOf(dialect, REMEDIATION_LINE).as('lines'),
    ];
    await eachRow(
      db
        .selectFrom('deployments')
        .select(lines)
        // The condition of the partial index deployments_dora_remediations, word for word.
        .where('remediates', 'is not', null)
        .where('sort_ms', '>=', q.remediationsFromMs)
        .compile(),
      add,
    );
    await eachRow(
      db
        .selectFrom('deployments')
        .select(lines)
        .where('kind', '=', 'rollback')
        .where('environment', '=', q.environment)
        .where('sort_ms', '>=', q.remediationsFromMs)
        .where('remediates', 'is', null)
        .compile(),
      add,
    );
    return found;
  }

  async function incidents(q: DoraQuery): Promise<DoraIncident[]> {
    if (q.severities.length === 0) return [];
    const base = () =>
      db
        .selectFrom('incidents')
        .select((eb) => [eb.fn.countAll<number>().as('count'), linesOf(dialect, INCIDENT_LINE).as('lines')])
        .where('severity', 'in', [...q.severities])
        .where((eb) => eb.or([eb('environment', '=', q.environment), eb('environment', 'is', null)]));
    const seen = new Set<string>();
    const found: DoraIncident[] = [];
    const add = (row: unknown[]) => {
      const [count, lines] = row as LinesRow;
      if (lines === null) return;
      readIncidents(lines, Number(count), (incident) => {
        if (seen.has(incident.key)) return;
        seen.add(incident.key);
        found.push(incident);
      });
    };
    await eachRow(
      base()
        .where('started_ms', '>=', q.incidentsFromMs)
        .where('started_ms', '<=', q.incidentsToMs)
        .compile(),
      add,
    );
    await eachRow(base().where('caused_by', '>=', '').compile(), add);
    return found;
  }

  return {
    async read(q) {
      const [c, n, r, i] = await Promise.all([changes(q), nextChanges(q), remediations(q), incidents(q)]);
      return { changes: c, nextChanges: n, remediations: r, incidents: i };
    },
  };
}
