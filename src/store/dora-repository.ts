/**
 * The reads behind DORA metrics (DESIGN.md §10), columns kept to what the arithmetic needs
 * (materialising a row's strings costs more than finding it): the changes of one environment
 * finished in a span, the first change after it per service, the deployments that declare a remediation or
 * roll back, and the incidents severe enough to make a change failed. Each walks an index
 * (migration 010: environment+finished_ms, remediates, kind+environment+sort_ms; 007:
 * incidents by start and by caused_by). The arithmetic is src/domain/dora.ts.
 */
import type { Kysely } from 'kysely';
import type { DoraChange, DoraIncident, DoraRemediation } from '../domain/dora.js';
import type { IncidentSeverity } from '../domain/incident.js';
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

export function createDoraRepository(db: Kysely<Database>): DoraRepository {
  async function changes(q: DoraQuery): Promise<DoraChange[]> {
    if (q.services !== null && q.services.length === 0) return [];
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
      .where('finished_ms', '>=', q.sinceMs)
      .where('finished_ms', '<', q.untilMs)
      .where('terminal_type', '=', SUCCEEDED);
    if (q.services !== null) query = query.where('service', 'in', [...q.services]);
    const rows = await query.execute();
    return rows.map((r) => ({
      deployment: r.deployment,
      service: r.service,
      environment: q.environment,
      region: r.region,
      version: r.version,
      ticket: r.ticket,
      kind: r.kind,
      intent: r.intent,
      remediates: r.remediates,
      firstMs: r.sort_ms,
      startedMs: r.started_ms,
      finishedMs: r.finished_ms ?? 0,
      rolledBackMs: r.rolled_back_ms,
      firstCommitMs: r.first_commit_ms,
    }));
  }

  async function nextChanges(q: DoraQuery): Promise<DoraFacts['nextChanges']> {
    if (q.services !== null && q.services.length === 0) return new Map();
    let firsts = db
      .selectFrom('deployments')
      .select(['service'])
      .select((eb) => eb.fn.min('finished_ms').as('first_ms'))
      .where('environment', '=', q.environment)
      .where('finished_ms', '>=', q.untilMs)
      .where('terminal_type', '=', SUCCEEDED)
      .groupBy('service');
    if (q.services !== null) firsts = firsts.where('service', 'in', [...q.services]);
    const rows = await db
      .selectFrom('deployments as d')
      .innerJoin(firsts.as('f'), (join) =>
        join.onRef('f.service', '=', 'd.service').onRef('f.first_ms', '=', 'd.finished_ms'),
      )
      .select(['d.service', 'd.deployment', 'd.finished_ms'])
      .where('d.environment', '=', q.environment)
      .where('d.terminal_type', '=', SUCCEEDED)
      .orderBy('d.deployment')
      .execute();
    const map: DoraFacts['nextChanges'] = new Map();
    for (const r of rows) {
      if (!map.has(r.service))
        map.set(r.service, { deployment: r.deployment, finishedMs: r.finished_ms ?? 0 });
    }
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
    const [declared, rollbacks] = await Promise.all([
      db
        .selectFrom('deployments')
        .select([...columns])
        // `>= ''` (every text): a range on deployments_by_remediates, where `is not null`
        // lets SQLite's planner walk the time index and look up every row since.
        .where('remediates', '>=', '')
        .where('sort_ms', '>=', q.remediationsFromMs)
        .execute(),
      db
        .selectFrom('deployments')
        .select([...columns])
        .where('kind', '=', 'rollback')
        .where('environment', '=', q.environment)
        .where('sort_ms', '>=', q.remediationsFromMs)
        .where('remediates', 'is', null)
        .execute(),
    ]);
    return [...declared, ...rollbacks].map((r) => ({
      deployment: r.deployment,
      service: r.service,
      environment: r.environment,
      region: r.region,
      kind: r.kind,
      remediates: r.remediates,
      firstMs: r.sort_ms,
    }));
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
    const [inSpan, explicit] = await Promise.all([
      base()
        .where('started_ms', '>=', q.incidentsFromMs)
        .where('started_ms', '<=', q.incidentsToMs)
        .execute(),
      base().where('caused_by', '>=', '').execute(),
    ]);
    const seen = new Set<string>();
    const found: DoraIncident[] = [];
    for (const r of [...inSpan, ...explicit]) {
      if (seen.has(r.key)) continue;
      seen.add(r.key);
      found.push({
        key: r.key,
        title: r.title,
        service: r.service,
        environment: r.environment,
        region: r.region,
        severity: r.severity as IncidentSeverity | null,
        startedMs: r.started_ms,
        resolvedMs: r.resolved_ms,
        ticket: r.ticket,
        causedBy: r.caused_by,
        labels: r.labels === null ? null : (JSON.parse(r.labels) as Record<string, string>),
      });
    }
    return found;
  }

  return {
    async read(q) {
      const [c, n, r, i] = await Promise.all([changes(q), nextChanges(q), remediations(q), incidents(q)]);
      return { changes: c, nextChanges: n, remediations: r, incidents: i };
    },
  };
}
