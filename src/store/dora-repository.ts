/**
 * The reads behind DORA metrics (DESIGN.md §10), columns kept to what the arithmetic needs
 * (materialising a row's strings costs more than finding it): the changes of one environment
 * finished in a span, the first change after it per service, the deployments that declare a remediation or
 * roll back, and the incidents severe enough to make a change failed. Each walks an index
 * (migration 016: the changes and the remediations, covering every column read, so the table
 * is not touched; 010: kind+environment+sort_ms; 007: incidents by start and by caused_by). The
 * arithmetic is src/domain/dora.ts.
 */
import type { Kysely } from 'kysely';
import type { DoraChange, DoraIncident, DoraRemediation } from '../domain/dora.js';
import type { IncidentSeverity } from '../domain/incident.js';
import type { EachRow } from './array-rows.js';
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
  readonly changes: DoraChange[];
  readonly nextChanges: Map<string, { deployment: string; finishedMs: number }>;
  readonly remediations: DoraRemediation[];
  readonly incidents: DoraIncident[];
}

export interface DoraRepository {
  read(q: DoraQuery): Promise<DoraFacts>;
}

const SUCCEEDED = 'deployment.succeeded';

/** The changes of a window are read a day at a time: each read's rows arrive in one go. */
const SLICE_MS = 86_400_000;

/** A change's row: the columns of the changes query, in its select order. */
type ChangeRow = [
  deployment: string,
  service: string,
  region: string | null,
  version: string | null,
  ticket: string | null,
  kind: string,
  intent: string | null,
  remediates: string | null,
  sortMs: number,
  startedMs: number | null,
  finishedMs: number | null,
  rolledBackMs: number | null,
  firstCommitMs: number | null,
];

type RemediationRow = [
  deployment: string,
  service: string,
  environment: string,
  region: string | null,
  kind: string,
  remediates: string | null,
  sortMs: number,
];

type IncidentRow = [
  key: string,
  title: string,
  service: string | null,
  environment: string | null,
  region: string | null,
  severity: string | null,
  startedMs: number,
  resolvedMs: number | null,
  ticket: string | null,
  causedBy: string | null,
  labels: string | null,
];

/**
 * `eachRow` runs a compiled query and hands over its rows one by one as arrays
 * (src/store/array-rows.ts): the changes of a window are read by the hundred thousand.
 */
export function createDoraRepository(db: Kysely<Database>, eachRow: EachRow): DoraRepository {
  async function changes(q: DoraQuery): Promise<DoraChange[]> {
    if (q.services !== null && q.services.length === 0) return [];
    const slice = (fromMs: number, toMs: number) => {
      let query = db
        .selectFrom('deployments')
        .select([
          'deployment',
          'service',
          'region',
          'version',
          'ticket',
          'kind',
          'intent',
          'remediates',
          'sort_ms',
          'started_ms',
          'finished_ms',
          'rolled_back_ms',
          'first_commit_ms',
        ])
        .where('environment', '=', q.environment)
        .where('finished_ms', '>=', fromMs)
        .where('finished_ms', '<', toMs)
        .where('terminal_type', '=', SUCCEEDED);
      if (q.services !== null) query = query.where('service', 'in', [...q.services]);
      return query.compile();
    };
    // A store hands over a fresh string per cell; the few names every change repeats are kept
    // once, so what stays in memory for the analysis is the change, not 165k copies of them.
    const names = new Map<string, string>();
    const name = (value: string): string => {
      const kept = names.get(value);
      if (kept !== undefined) return kept;
      names.set(value, value);
      return value;
    };
    const found: DoraChange[] = [];
    for (let fromMs = q.sinceMs; fromMs < q.untilMs; fromMs += SLICE_MS) {
      await eachRow(slice(fromMs, Math.min(q.untilMs, fromMs + SLICE_MS)), (row) => {
        const r = row as ChangeRow;
        found.push({
          deployment: r[0],
          service: name(r[1]),
          environment: q.environment,
          region: r[2] === null ? null : name(r[2]),
          version: r[3],
          ticket: r[4],
          kind: name(r[5]),
          intent: r[6] === null ? null : name(r[6]),
          remediates: r[7],
          firstMs: r[8],
          startedMs: r[9],
          finishedMs: r[10] ?? 0,
          rolledBackMs: r[11],
          firstCommitMs: r[12],
        });
      });
    }
    return found;
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
    const columns = [
      'deployment',
      'service',
      'environment',
      'region',
      'kind',
      'remediates',
      'sort_ms',
    ] as const;
    const found: DoraRemediation[] = [];
    const add = (row: unknown[]) => {
      const r = row as RemediationRow;
      found.push({
        deployment: r[0],
        service: r[1],
        environment: r[2],
        region: r[3],
        kind: r[4],
        remediates: r[5],
        firstMs: r[6],
      });
    };
    await eachRow(
      db
        .selectFrom('deployments')
        .select([...columns])
        // The condition of the partial index deployments_dora_remediations, word for word.
        .where('remediates', 'is not', null)
        .where('sort_ms', '>=', q.remediationsFromMs)
        .compile(),
      add,
    );
    await eachRow(
      db
        .selectFrom('deployments')
        .select([...columns])
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
        .select([
          'key',
          'title',
          'service',
          'environment',
          'region',
          'severity',
          'started_ms',
          'resolved_ms',
          'ticket',
          'caused_by',
          'labels',
        ])
        .where('severity', 'in', [...q.severities])
        .where((eb) => eb.or([eb('environment', '=', q.environment), eb('environment', 'is', null)]));
    const seen = new Set<string>();
    const found: DoraIncident[] = [];
    const add = (row: unknown[]) => {
      const r = row as IncidentRow;
      if (seen.has(r[0])) return;
      seen.add(r[0]);
      found.push({
        key: r[0],
        title: r[1],
        service: r[2],
        environment: r[3],
        region: r[4],
        severity: r[5] as IncidentSeverity | null,
        startedMs: r[6],
        resolvedMs: r[7],
        ticket: r[8],
        causedBy: r[9],
        labels: r[10] === null ? null : (JSON.parse(r[10]) as Record<string, string>),
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
