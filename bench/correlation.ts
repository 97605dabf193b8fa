/**
 * Correlation benchmark (DESIGN.md §9): the suspects of one incident, ranked at read time, on a
 * store of BENCH_DEPLOYMENTS deployments (default 1M) and BENCH_INCIDENTS incidents (default
 * 100k), against the bare SQL that reads the same candidate deployments (the incident's service
 * and its dependencies, in its environment, in the candidate span) with better-sqlite3 (target:
 * at most 3×). Both sides are measured in the same run over the same sampled incidents.
 *
 * The rows are written straight into the tables (the write path is measured by `scale`): 200
 * services, each depending on the next two, over 60 days, so an incident's service and its
 * dependencies have on the order of a hundred deployments in the span.
 */
import SQLite from 'better-sqlite3';
import path from 'node:path';
import { createIncidents, type ServiceConfig } from '../src/correlate/incidents.js';
import { DEFAULT_CORRELATION, candidateSpan } from '../src/domain/correlation.js';
import { openStore } from '../src/store/database.js';
import { medianMs, report, tempDir } from './lib.js';

const DEPLOYMENTS = Number(process.env.BENCH_DEPLOYMENTS ?? 1_000_000);
const INCIDENTS = Number(process.env.BENCH_INCIDENTS ?? 100_000);
const SERVICES = 200;
const ENVIRONMENTS = ['production', 'staging', 'dev'];
const REGIONS = ['eu-west-1', 'us-east-1'];
const T0 = Date.parse('2026-01-01T00:00:00Z');
const SPAN_MS = 60 * 24 * 3_600_000;

function services(): Record<string, ServiceConfig> {
  const map: Record<string, ServiceConfig> = {};
  for (let i = 0; i < SERVICES; i += 1) {
    map[`svc-${i}`] = { dependsOn: [`svc-${(i + 1) % SERVICES}`, `svc-${(i + 2) % SERVICES}`] };
  }
  return map;
}

function seed(file: string): void {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const deployment =
    db.prepare(`insert into deployments (deployment, service, environment, region, kind, version,
    actor, ticket, status, head_type, head_ms, head_hlc, terminal_type, terminal_ms, terminal_hlc, desc_type, desc_ms,
    desc_hlc, started_ms, finished_ms, duration_ms, approved, sort_ms, updated_ms, event_count)
    values (?, ?, ?, ?, 'release', ?, 'seeder', ?, 'succeeded', 'deployment.succeeded', ?, '0', 'deployment.succeeded',
    ?, '0', 'deployment.started', ?, '0', ?, ?, 300000, 0, ?, ?, 2)`);
  const incident =
    db.prepare(`insert into incidents (key, kind, title, service, environment, region, severity,
    status, started_ms, ticket, source, created_ms, updated_ms)
    values (?, 'incident', ?, ?, 'production', ?, 'sev2', 'resolved', ?, ?, 'seed', ?, ?)`);
  const fill = db.transaction(() => {
    for (let n = 0; n < DEPLOYMENTS; n += 1) {
      const start = T0 + Math.floor((n / DEPLOYMENTS) * SPAN_MS);
      const finish = start + 300_000;
      deployment.run(
        `seed-${n}`,
        `svc-${n % SERVICES}`,
        ENVIRONMENTS[n % 3],
        REGIONS[n % 2],
        `1.${n % 1000}.0`,
        n % 50 === 0 ? `OPS-${n % 5000}` : null,
        finish,
        finish,
        start,
        start,
        finish,
        start,
        finish,
      );
    }
    for (let k = 0; k < INCIDENTS; k += 1) {
      const start = T0 + 2 * 86_400_000 + Math.floor((k / INCIDENTS) * (SPAN_MS - 2 * 86_400_000));
      incident.run(
        `INC-${k}`,
        `svc-${(k * 7) % SERVICES} errors`,
        `svc-${(k * 7) % SERVICES}`,
        REGIONS[k % 2],
        start,
        k % 10 === 0 ? `OPS-${k % 5000}` : null,
        start,
        start,
      );
    }
  });
  fill();
  db.close();
}

export async function benchCorrelation(): Promise<boolean> {
  const dataDir = tempDir('correlation');
  const store = await openStore({ dataDir });
  await store.close();
  process.stderr.write(`seeding ${DEPLOYMENTS} deployments and ${INCIDENTS} incidents...\n`);
  const file = path.join(dataDir, 'shiplog.db');
  seed(file);

  const opened = await openStore({ dataDir });
  const catalog = services();
  const incidents = createIncidents({ store: opened, services: catalog });
  const raw = new SQLite(file, { readonly: true });
  const bare =
    raw.prepare(`select deployment, service, environment, region, version, ticket, sort_ms, started_ms,
    finished_ms from deployments where service in (?, ?, ?) and environment = ? and sort_ms >= ? and sort_ms <= ?`);
  const sample = Array.from({ length: 200 }, (_, i) => `INC-${Math.floor((i * INCIDENTS) / 200) + 7}`);
  const loaded = await Promise.all(sample.map((key) => incidents.get(key)));
  const cases = loaded.flatMap((i) => (i ? [i] : []));
  let candidates = 0;
  let suspects = 0;
  for (const incident of cases) suspects += (await incidents.suspects(incident)).length; // warm up
  let i = 0;
  const api = await medianMs(cases.length * 3, async () => {
    const incident = cases[i++ % cases.length];
    if (incident) await incidents.suspects(incident);
  });
  i = 0;
  const sql = await medianMs(cases.length * 3, () => {
    const incident = cases[i++ % cases.length];
    if (!incident?.service) return;
    const span = candidateSpan(incident.startedMs, DEFAULT_CORRELATION);
    const deps = catalog[incident.service]?.dependsOn ?? [];
    candidates += bare.all(incident.service, deps[0], deps[1], 'production', span.fromMs, span.toMs).length;
  });
  raw.close();
  await opened.close();
  const ratio = api / sql;
  report(
    `suspects of one incident at ${DEPLOYMENTS} deployments and ${INCIDENTS} incidents (median of ${cases.length * 3})`,
    `${api.toFixed(3)} ms (${(suspects / cases.length).toFixed(0)} suspects per incident on average)`,
    `${sql.toFixed(3)} ms bare SQL (better-sqlite3) reading the candidate deployments (${(candidates / (cases.length * 3)).toFixed(0)} rows on average)`,
    ratio,
    '<= 3',
    ratio <= 3,
  );
  return ratio <= 3;
}
