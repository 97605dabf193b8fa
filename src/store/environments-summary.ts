/**
 * Keeps the `environments` table: for each service × environment × region, the version running
 * now (the latest succeeded deployment, so a rollback falls back to the one before it) and the
 * deployment in progress. Updated incrementally inside the write transaction; it queries the
 * deployments only when the current or in-progress deployment leaves that state.
 */
import type { Transaction } from 'kysely';
import { bulkWrite, inList } from './bulk-write.js';
import type { Dialect } from './database.js';
import type { DeploymentRow } from '../domain/deployment-row.js';
import type { Database, EnvironmentsTable } from './schema.js';

type Key = string;
const keyOf = (r: { service: string; environment: string; region: string }): Key =>
  `${r.service}\u0000${r.environment}\u0000${r.region}`;

export async function updateEnvironments(
  trx: Transaction<Database>,
  dialect: Dialect,
  before: ReadonlyMap<string, DeploymentRow>,
  after: ReadonlyMap<string, DeploymentRow>,
): Promise<void> {
  const touched = new Map<Key, { service: string; environment: string; region: string }>();
  for (const row of after.values()) touched.set(keyOf(row), row);
  for (const [deployment, row] of before) if (after.has(deployment)) touched.set(keyOf(row), row);
  if (touched.size === 0) return;

  const services = [...new Set([...touched.values()].map((t) => t.service))];
  const loaded = await trx
    .selectFrom('environments')
    .selectAll()
    .where(inList(dialect, 'service', services))
    .execute();
  const summaries = new Map<Key, EnvironmentsTable>();
  for (const row of loaded) if (touched.has(keyOf(row))) summaries.set(keyOf(row), row);
  const recompute = new Set<Key>();
  const summaryOf = (r: { service: string; environment: string; region: string }): EnvironmentsTable => {
    let s = summaries.get(keyOf(r));
    if (!s) {
      s = {
        service: r.service,
        environment: r.environment,
        region: r.region,
        current_deployment: null,
        current_version: null,
        current_since_ms: null,
        current_actor: null,
        progress_deployment: null,
        progress_version: null,
        progress_since_ms: null,
        progress_actor: null,
        progress_count: 0,
      };
      summaries.set(keyOf(r), s);
    }
    return s;
  };

  for (const [deployment, next] of after) {
    const prev = before.get(deployment);
    if (prev && keyOf(prev) !== keyOf(next)) {
      leave(summaryOf(prev), prev, recompute);
      enter(summaryOf(next), null, next, recompute);
    } else {
      enter(summaryOf(next), prev ?? null, next, recompute);
    }
  }
  for (const key of recompute) await recomputeSummary(trx, summaries.get(key) as EnvironmentsTable);
  await bulkWrite(trx, dialect, 'environments', COLUMNS, [...summaries.values()], {
    target: ['service', 'environment', 'region'],
    update: COLUMNS.slice(3),
  });
}

const COLUMNS = [
  'service',
  'environment',
  'region',
  'current_deployment',
  'current_version',
  'current_since_ms',
  'current_actor',
  'progress_deployment',
  'progress_version',
  'progress_since_ms',
  'progress_actor',
  'progress_count',
] as const satisfies readonly (keyof EnvironmentsTable)[];

function leave(s: EnvironmentsTable, prev: DeploymentRow, recompute: Set<Key>): void {
  if (prev.status === 'in_progress') s.progress_count = Math.max(0, s.progress_count - 1);
  if (s.current_deployment === prev.deployment || s.progress_deployment === prev.deployment)
    recompute.add(keyOf(s));
}

function enter(
  s: EnvironmentsTable,
  prev: DeploymentRow | null,
  next: DeploymentRow,
  recompute: Set<Key>,
): void {
  const wasProgress = prev?.status === 'in_progress';
  const isProgress = next.status === 'in_progress';
  s.progress_count = Math.max(0, s.progress_count + Number(isProgress) - Number(wasProgress));
  if (isProgress && (s.progress_since_ms === null || (next.started_ms ?? 0) >= s.progress_since_ms)) {
    s.progress_deployment = next.deployment;
    s.progress_version = next.version;
    s.progress_since_ms = next.started_ms;
    s.progress_actor = next.actor;
  } else if (!isProgress && s.progress_deployment === next.deployment) {
    recompute.add(keyOf(s));
  }
  const isCurrent = next.status === 'succeeded';
  if (
    isCurrent &&
    (s.current_since_ms === null ||
      (next.finished_ms ?? 0) >= s.current_since_ms ||
      s.current_deployment === next.deployment)
  ) {
    s.current_deployment = next.deployment;
    s.current_version = next.version;
    s.current_since_ms = next.finished_ms;
    s.current_actor = next.actor;
  } else if (!isCurrent && s.current_deployment === next.deployment) {
    recompute.add(keyOf(s));
  }
}

async function recomputeSummary(trx: Transaction<Database>, s: EnvironmentsTable): Promise<void> {
  const scope = trx
    .selectFrom('deployments')
    .where('service', '=', s.service)
    .where('environment', '=', s.environment)
    .where('region', '=', s.region);
  const current = await scope
    .select(['deployment', 'version', 'finished_ms', 'actor'])
    .where('status', '=', 'succeeded')
    .orderBy('finished_ms', 'desc')
    .limit(1)
    .executeTakeFirst();
  s.current_deployment = current?.deployment ?? null;
  s.current_version = current?.version ?? null;
  s.current_since_ms = current?.finished_ms ?? null;
  s.current_actor = current?.actor ?? null;
  const progress = await scope
    .select(['deployment', 'version', 'started_ms', 'actor'])
    .where('status', '=', 'in_progress')
    .orderBy('started_ms', 'desc')
    .limit(1)
    .executeTakeFirst();
  const count = await scope
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'in_progress')
    .executeTakeFirst();
  s.progress_deployment = progress?.deployment ?? null;
  s.progress_version = progress?.version ?? null;
  s.progress_since_ms = progress?.started_ms ?? null;
  s.progress_actor = progress?.actor ?? null;
  s.progress_count = Number(count?.n ?? 0);
}
