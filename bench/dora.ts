/**
 * DORA benchmark (DESIGN.md §10): one `GET /v1/metrics/dora` computation (minus HTTP) of the
 * production environment over the last 30 days, on a store of BENCH_DEPLOYMENTS deployments
 * (default 1M) and BENCH_INCIDENTS incidents (default 100k), against the bare SQL that reads
 * the same rows (the changes, the remediations and rollbacks, the incidents severe enough) with
 * better-sqlite3 in raw mode (rows as arrays, its fastest way) and does nothing with them
 * (targets: at most 3×, and under 1 s). Both sides are measured in the same run, alternately.
 *
 * The rows are written straight into the tables (the write path is measured by `scale`): 200
 * services in 3 environments over 60 days (about 167k production changes in the window), with
 * commits, failed deployments, rollbacks, hotfixes that remediate, and incidents of sev1..sev4
 * of which some name their cause or a ticket.
 */
import SQLite from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { createIncidents, type ServiceConfig } from '../src/correlate/incidents.js';
import { DEFAULT_CORRELATION } from '../src/domain/correlation.js';
import { createDoraMetrics } from '../src/metrics/dora.js';
import { openStore } from '../src/store/database.js';
import { medianMs, memoryOf, report, startShiplog, tempDir, TOKEN } from './lib.js';

const DEPLOYMENTS = Number(process.env.BENCH_DEPLOYMENTS ?? 1_000_000);
const INCIDENTS = Number(process.env.BENCH_INCIDENTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SERVICES = 200;
const ENVIRONMENTS = ['production', 'staging', 'dev'];
const REGIONS = ['eu-west-1', 'us-east-1'];
const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'];
const T0 = Date.parse('2026-01-01T00:00:00Z');
const DAY_MS = 86_400_000;
const SPAN_MS = 60 * DAY_MS;

function services(): Record<string, ServiceConfig> {
  const map: Record<string, ServiceConfig> = {};
  for (let i = 0; i < SERVICES; i += 1) {
    map[`svc-${i}`] = {
      team: `team-${i % 20}`,
      dependsOn: [`svc-${(i + 1) % SERVICES}`, `svc-${(i + 2) % SERVICES}`],
    };
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
    desc_hlc, started_ms, finished_ms, rolled_back_ms, duration_ms, approved, sort_ms, updated_ms, event_count,
    first_commit_ms, commit_count, intent, remediates)
    values (?, ?, ?, ?, ?, ?, 'seeder', ?, ?, ?, ?, '0', ?, ?, '0', 'deployment.started', ?, '0', ?, ?, ?, 300000, 0, ?, ?, 2,
    ?, ?, ?, ?)`);
  const incident =
    db.prepare(`insert into incidents (key, kind, title, service, environment, region, severity,
    status, started_ms, resolved_ms, ticket, caused_by, source, created_ms, updated_ms)
    values (?, 'incident', ?, ?, 'production', ?, ?, 'resolved', ?, ?, ?, ?, 'seed', ?, ?)`);
  const fill = db.transaction(() => {
    for (let n = 0; n < DEPLOYMENTS; n += 1) {
      const start = T0 + Math.floor((n / DEPLOYMENTS) * SPAN_MS);
      const finish = start + 300_000;
      const failed = n % 97 === 0;
      const rolledBack = !failed && n % 33 === 0 ? finish + 600_000 : null;
      const hotfix = n % 40 === 1 && n > 600;
      const kind = n % 100 === 0 ? 'rollback' : hotfix ? 'hotfix' : 'release';
      const terminal = failed ? 'deployment.failed' : 'deployment.succeeded';
      deployment.run(
        `seed-${n}`,
        `svc-${n % SERVICES}`,
        ENVIRONMENTS[n % 3],
        REGIONS[n % 2],
        kind,
        `1.${n % 1000}.0`,
        n % 50 === 0 ? `OPS-${n % 5000}` : null,
        failed ? 'failed' : rolledBack !== null ? 'rolled_back' : 'succeeded',
        rolledBack !== null ? 'deployment.rolled_back' : terminal,
        rolledBack ?? finish,
        terminal,
        finish,
        start,
        start,
        finish,
        rolledBack,
        start,
        finish,
        n % 5 === 0 ? null : start - (n % 48) * 3_600_000,
        n % 5 === 0 ? null : 1 + (n % 7),
        hotfix ? 'remediation' : null,
        hotfix ? `seed-${n - 600}` : null,
      );
    }
    for (let k = 0; k < INCIDENTS; k += 1) {
      const start = T0 + 2 * DAY_MS + Math.floor((k / INCIDENTS) * (SPAN_MS - 2 * DAY_MS));
      incident.run(
        `INC-${k}`,
        `svc-${(k * 7) % SERVICES} errors`,
        `svc-${(k * 7) % SERVICES}`,
        REGIONS[k % 2],
        SEVERITIES[k % 4],
        start,
        start + ((k % 10) + 1) * 600_000,
        k % 10 === 0 ? `OPS-${k % 5000}` : null,
        k % 20 === 3 ? `seed-${Math.floor((k / INCIDENTS) * DEPLOYMENTS) - 30}` : null,
        start,
        start,
      );
    }
  });
  fill();
  db.close();
}

export async function benchDora(): Promise<boolean> {
  // BENCH_DORA_DATA: a folder seeded by an earlier run (its path is printed), to measure again
  // without seeding again.
  const reuse = process.env.BENCH_DORA_DATA;
  const dataDir = reuse ?? tempDir('dora');
  const file = path.join(dataDir, 'shiplog.db');
  if (!reuse) {
    const store = await openStore({ dataDir });
    await store.close();
    process.stderr.write(
      `seeding ${DEPLOYMENTS} deployments and ${INCIDENTS} incidents into ${dataDir}...\n`,
    );
    seed(file);
  }

  const opened = await openStore({ dataDir });
  const incidents = createIncidents({ store: opened, services: services() });
  const dora = createDoraMetrics({ store: opened, incidents, services: services() });
  const untilMs = T0 + SPAN_MS;
  const sinceMs = untilMs - 30 * DAY_MS;
  const lookbackMs = DEFAULT_CORRELATION.lookbackHours * 3_600_000;

  const raw = new SQLite(file, { readonly: true });
  // Raw mode (rows as arrays, as the store reads them): the fastest way better-sqlite3 reads them.
  const [changes, declared, rollbacks, incidentsInSpan, incidentsNamed] = [
    raw.prepare(`select deployment, service, region, version, ticket, kind, intent, remediates,
      sort_ms, started_ms, finished_ms, rolled_back_ms, first_commit_ms from deployments
      where environment = ? and finished_ms >= ? and finished_ms < ? and terminal_type = 'deployment.succeeded'`),
    raw.prepare(`select deployment, service, environment, region, kind, remediates, sort_ms from deployments
      where remediates is not null and sort_ms >= ?`),
    raw.prepare(`select deployment, service, environment, region, kind, remediates, sort_ms from deployments
      where kind = 'rollback' and environment = ? and sort_ms >= ? and remediates is null`),
    raw.prepare(`select key, title, service, environment, region, severity, started_ms, resolved_ms, ticket,
      caused_by, labels from incidents where severity in ('sev1', 'sev2')
      and (environment = ? or environment is null) and started_ms >= ? and started_ms <= ?`),
    raw.prepare(`select key, title, service, environment, region, severity, started_ms, resolved_ms, ticket,
      caused_by, labels from incidents where severity in ('sev1', 'sev2')
      and (environment = ? or environment is null) and caused_by >= ''`),
  ].map((statement) => statement.raw(true)) as [
    SQLite.Statement,
    SQLite.Statement,
    SQLite.Statement,
    SQLite.Statement,
    SQLite.Statement,
  ];
  let rows = 0;
  const bare = () => {
    rows =
      changes.all('production', sinceMs, untilMs).length +
      declared.all(sinceMs - 2 * lookbackMs).length +
      rollbacks.all('production', sinceMs - 2 * lookbackMs).length +
      incidentsInSpan.all('production', sinceMs - 2 * lookbackMs, untilMs + lookbackMs).length +
      incidentsNamed.all('production').length;
  };
  let figures = await dora.summary({ sinceMs, untilMs }); // warm up
  bare();
  const apiTimes: number[] = [];
  const sqlTimes: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    apiTimes.push(
      await medianMs(1, async () => {
        figures = await dora.summary({ sinceMs, untilMs });
      }),
    );
    sqlTimes.push(await medianMs(1, bare));
  }
  await opened.close();

  // The same question asked of the real server over HTTP, as users run it (bin/shiplog.js,
  // with its heap flags), with the same service catalog, alternately with the bare SQL.
  const config = path.join(dataDir, 'shiplog.yaml');
  fs.writeFileSync(config, JSON.stringify({ services: services() }));
  const server = await startShiplog(dataDir, ['--config', config]);
  const query = `/v1/metrics/dora?environment=production&since=${new Date(sinceMs).toISOString()}&until=${new Date(untilMs).toISOString()}`;
  let answered: unknown = null;
  const ask = async () => {
    const response = await fetch(`${server.url}${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    answered = await response.json();
    if (!response.ok) throw new Error(`GET ${query}: ${response.status} ${JSON.stringify(answered)}`);
  };
  const httpTimes: number[] = [];
  const httpSqlTimes: number[] = [];
  let memory = { rssMb: 0, peakMb: 0 };
  try {
    await ask(); // warm up
    for (let i = 0; i < RUNS; i += 1) {
      httpTimes.push(await medianMs(1, ask));
      httpSqlTimes.push(await medianMs(1, bare));
    }
    memory = memoryOf(server.pid);
  } finally {
    await server.stop();
    raw.close();
  }
  const served = answered as { deploymentFrequency: { count: number } };
  if (served.deploymentFrequency.count !== figures.deploymentFrequency.count)
    throw new Error(
      `the server counted ${served.deploymentFrequency.count} changes, the library ${figures.deploymentFrequency.count}`,
    );

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const api = median(apiTimes);
  const sql = median(sqlTimes);
  const ratio = api / sql;
  const pass = ratio <= 3 && api < 1000;
  report(
    `DORA metrics of production over 30 days at ${DEPLOYMENTS} deployments and ${INCIDENTS} incidents (median of ${RUNS})`,
    `${api.toFixed(1)} ms (${figures.deploymentFrequency.count} changes, ${figures.changeFailureRate.failed} failed, ${figures.recoveryTime.count} recoveries, ${figures.leadTime.count} lead times)`,
    `${sql.toFixed(1)} ms bare SQL (better-sqlite3) reading the same ${rows} rows`,
    ratio,
    '<= 3, and under 1000 ms',
    pass,
  );
  const http = median(httpTimes);
  const httpSql = median(httpSqlTimes);
  const httpPass = http / httpSql <= 3 && http < 1000;
  report(
    `the same as GET ${query.split('?')[0]} of the server (bin/shiplog.js, its heap flags) over HTTP (median of ${RUNS})`,
    `${http.toFixed(1)} ms (server ${memory.rssMb.toFixed(0)} MB resident, peak ${memory.peakMb.toFixed(0)} MB)`,
    `${httpSql.toFixed(1)} ms bare SQL, measured alternately`,
    http / httpSql,
    '<= 3, and under 1000 ms',
    httpPass,
  );
  return pass && httpPass;
}
