/**
 * Ingest benchmarks (issue 2):
 *  1. durable single-event ingest over HTTP, 50 concurrent clients, against a bare Fastify
 *     route that does no work (target: at least 0.25×);
 *  2. batch ingest, 1000 events per request, against raw better-sqlite3 inserts of the same
 *     rows into the same tables, one transaction per 1000 (target: at least 0.5×).
 */
import SQLite from 'better-sqlite3';
import path from 'node:path';
import { openStore } from '../src/store/database.js';
import { event, load, report, startChild, startShiplog, tempDir, TOKEN } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const auth = { authorization: `Bearer ${TOKEN}` };

export async function benchSingleEvent(): Promise<boolean> {
  const bare = await startChild([path.join(import.meta.dirname, 'bare-server.js')]);
  const baseline = await load(bare.url, {
    connections: 50,
    seconds: SECONDS,
    path: '/v1/events',
    body: (n) => JSON.stringify(event(n, 'b')),
  });
  await bare.stop();
  const shiplog = await startShiplog();
  const run = `s${Date.now()}`;
  const measured = await load(shiplog.url, {
    connections: 50,
    seconds: SECONDS,
    path: '/v1/events',
    headers: auth,
    body: (n) => JSON.stringify(event(n, run)),
  });
  await shiplog.stop();
  if (measured.non2xx + measured.errors > 0)
    throw new Error(`shiplog answered ${measured.non2xx} non-2xx, ${measured.errors} errors`);
  const ratio = measured.requestsPerSecond / baseline.requestsPerSecond;
  report(
    'single-event ingest over HTTP, 50 clients, answered after commit',
    `${measured.requestsPerSecond.toFixed(0)} req/s (p99 ${measured.p99Ms} ms)`,
    `${baseline.requestsPerSecond.toFixed(0)} req/s bare Fastify route (p99 ${baseline.p99Ms} ms)`,
    ratio,
    '>= 0.25',
    ratio >= 0.25,
  );
  return ratio >= 0.25;
}

/** Rows per second of POSTing `batches` batches of 1000 events, two clients at a time. */
export async function batchRate(url: string, batches: number, run: string): Promise<number> {
  const bodies = Array.from({ length: batches }, (_, b) =>
    JSON.stringify({ events: Array.from({ length: 1000 }, (_, i) => event(b * 1000 + i, run)) }),
  );
  let next = 0;
  const start = process.hrtime.bigint();
  const client = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const response = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body,
      });
      if (response.status !== 201)
        throw new Error(`batch answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all([client(), client()]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (batches * 1000) / seconds;
}

/** Raw better-sqlite3: the same event and deployment rows, prepared statements, one transaction per 1000. */
export async function rawInsertRate(batches: number): Promise<number> {
  const dir = tempDir('raw');
  const store = await openStore({ dataDir: dir });
  await store.close();
  const db = new SQLite(path.join(dir, 'shiplog.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const insertEvent = db.prepare(
    'insert into events (id, deployment, type, time_ms, received_ms, hlc, source, body, ledger_index) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const upsertDeployment =
    db.prepare(`insert into deployments (deployment, service, environment, region, kind, version, commit_sha, actor, status,
      head_type, head_ms, head_hlc, desc_type, desc_ms, desc_hlc, started_ms, finished_ms, duration_ms, sort_ms, updated_ms)
      values (?, ?, ?, ?, 'release', ?, ?, ?, ?, ?, ?, '', ?, ?, '', ?, ?, ?, ?, ?)
      on conflict (deployment) do update set status = excluded.status, head_type = excluded.head_type, head_ms = excluded.head_ms,
      finished_ms = excluded.finished_ms, duration_ms = excluded.duration_ms, updated_ms = excluded.updated_ms`);
  const rows = Array.from({ length: batches * 1000 }, (_, n) => event(n, 'raw'));
  const start = process.hrtime.bigint();
  const insertBatch = db.transaction((batch: Record<string, unknown>[]) => {
    for (const e of batch) {
      const t = Date.parse(e.time as string);
      insertEvent.run(e.id, e.deployment, e.type, t, Date.now(), String(t), 'bench', JSON.stringify(e), null);
      const done = e.type === 'deployment.succeeded';
      upsertDeployment.run(
        e.deployment,
        e.service,
        e.environment,
        e.region,
        e.version,
        e.commit,
        e.actor,
        done ? 'succeeded' : 'in_progress',
        e.type,
        t,
        e.type,
        t,
        done ? null : t,
        done ? t : null,
        done ? 1000 : null,
        t,
        Date.now(),
      );
    }
  });
  for (let b = 0; b < batches; b += 1) insertBatch(rows.slice(b * 1000, (b + 1) * 1000));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  return rows.length / seconds;
}

export async function benchBatch(): Promise<boolean> {
  const batches = Number(process.env.BENCH_BATCHES ?? 60);
  const raw = await rawInsertRate(batches);
  const shiplog = await startShiplog();
  await batchRate(shiplog.url, 2, 'warm');
  const measured = await batchRate(shiplog.url, batches, `b${Date.now()}`);
  await shiplog.stop();
  const ratio = measured / raw;
  report(
    'batch ingest, 1000 events per request over HTTP',
    `${measured.toFixed(0)} events/s`,
    `${raw.toFixed(0)} rows/s raw better-sqlite3 inserts into the same tables, one transaction per 1000`,
    ratio,
    '>= 0.5',
    ratio >= 0.5,
  );
  return ratio >= 0.5;
}
