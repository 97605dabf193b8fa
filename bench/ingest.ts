/**
 * Ingest benchmarks (issue 2):
 *  1. durable single-event ingest over HTTP, 50 concurrent clients, against a bare Fastify
 *     route that does no work (target: at least 0.25×);
 *  2. batch ingest, 1000 events per request, against raw better-sqlite3 inserts of the same
 *     rows into the same tables, one transaction per 1000 (target: at least 0.6×).
 */
import SQLite from 'better-sqlite3';
import path from 'node:path';
import { normalizeEvent, type EventInput } from '../src/domain/event.js';
import { leafHash } from '../src/ledger/merkle.js';
import { createRootBuilder } from '../src/ledger/root-builder.js';
import { openStore } from '../src/store/database.js';
import { applyToRow } from '../src/domain/deployment-row.js';
import { toEventRecord } from '../src/domain/event-record.js';
import { canonicalJson } from '../src/ledger/jcs.js';
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

/**
 * Raw better-sqlite3: the rows shiplog stores for the same events (events, deployments,
 * environments, sources, ledger entries and nodes, the ledger head; every column), computed
 * before the clock starts, inserted with prepared statements, one transaction per 1000.
 */
export async function rawInsertRate(batches: number): Promise<number> {
  const dir = tempDir('raw');
  const store = await openStore({ dataDir: dir });
  await store.close();
  const db = new SQLite(path.join(dir, 'shiplog.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const upsert = (table: string, row: Record<string, unknown>, key: string[]) => {
    const columns = Object.keys(row);
    const set = columns.filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`);
    return db.prepare(
      `insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})` +
        (key.length > 0 ? ` on conflict (${key.join(', ')}) do update set ${set.join(', ')}` : ''),
    );
  };
  const rows = Array.from({ length: batches * 1000 }, (_, n) => rowsOf(event(n, 'raw'), n));
  const first = rows[0] as ReturnType<typeof rowsOf>;
  const insertEvent = upsert('events', first.event, []);
  const upsertDeployment = upsert('deployments', first.deployment, ['deployment']);
  const upsertEnvironment = upsert('environments', first.environment, ['service', 'environment', 'region']);
  const upsertSource = upsert('sources', first.source, ['source']);
  const insertEntry = db.prepare(
    'insert into ledger_entries (idx, leaf_hash, data, record_type) values (?, ?, ?, ?)',
  );
  const insertNode = db.prepare('insert into ledger_nodes (level, idx, hash) values (?, ?, ?)');
  const setHead = db.prepare(
    'insert into ledger_head (id, size) values (1, ?) on conflict (id) do update set size = excluded.size',
  );
  const tree = createRootBuilder();
  const ledger = rows.map((r, index) => {
    const leaf = leafHash(Buffer.from(r.event.body, 'utf8'));
    const nodes = tree.append(leaf).filter((node) => node.key.level > 0);
    return {
      index,
      leaf: Buffer.from(leaf),
      nodes: nodes.map((n) => [n.key.level, n.key.index, Buffer.from(n.hash)] as const),
    };
  });
  const insertBatch = db.transaction((batch: typeof rows, offset: number) => {
    batch.forEach((r, i) => {
      insertEvent.run(r.event);
      upsertDeployment.run(r.deployment);
      upsertEnvironment.run(r.environment);
      upsertSource.run(r.source);
      const entry = ledger[offset + i] as (typeof ledger)[number];
      // The entry bytes are the event's body, stored once (shiplog does the same).
      insertEntry.run(entry.index, entry.leaf, null, 'event');
      for (const node of entry.nodes) insertNode.run(...node);
    });
    setHead.run(offset + batch.length);
  });
  const start = process.hrtime.bigint();
  for (let b = 0; b < batches; b += 1) insertBatch(rows.slice(b * 1000, (b + 1) * 1000), b * 1000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  return rows.length / seconds;
}

/** The rows shiplog stores for one event, built with its own pure functions. */
function rowsOf(input: Record<string, unknown>, n: number) {
  const event = normalizeEvent(input as EventInput, {
    nowMs: Date.now(),
    actor: 'bench',
    newId: () => `raw-${n}`,
  });
  const hlc = String(n).padStart(22, '0');
  const body = canonicalJson(toEventRecord(event, { receivedMs: Date.now(), hlc, source: 'bench' }));
  const deployment = applyToRow(null, event, hlc, Date.now());
  return {
    event: {
      id: event.id,
      scope: 'bench',
      deployment: event.deployment,
      type: event.type,
      time_ms: event.timeMs,
      received_ms: Date.now(),
      hlc,
      source: 'bench',
      body,
      ledger_index: null,
    },
    deployment: Object.fromEntries(Object.entries(deployment).map(([k, v]) => [k, v ?? null])),
    environment: {
      service: deployment.service,
      environment: deployment.environment,
      region: deployment.region,
      current_deployment: deployment.deployment,
      current_version: deployment.version,
      current_since_ms: deployment.finished_ms,
      current_actor: deployment.actor,
      progress_deployment: null,
      progress_version: null,
      progress_since_ms: null,
      progress_actor: null,
      progress_count: 0,
    },
    source: {
      source: 'bench',
      events: n + 1,
      skew_count: n + 1,
      skew_sum_ms: n,
      skew_min_ms: 0,
      skew_max_ms: n,
      skew_last_ms: n,
      last_seen_ms: Date.now(),
    },
  };
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
    'batch ingest, 1000 events per request over HTTP (validation, state, summaries, commit)',
    `${measured.toFixed(0)} events/s`,
    `${raw.toFixed(0)} events/s as raw better-sqlite3 inserts of the same rows into the same tables, one transaction per 1000`,
    ratio,
    '>= 0.6',
    ratio >= 0.6,
  );
  return ratio >= 0.6;
}
