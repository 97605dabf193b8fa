/**
 * Scale benchmarks (issue 2), on a store holding BENCH_DEPLOYMENTS deployments (default 1M):
 *  - listing a page of deployments and of GET /v1/environments, each within 3× of the bare SQL
 *    query returning the same rows (in-process `inject`, so both sides skip the socket);
 *  - batch ingest at that size within 0.8× of the rate on an empty store;
 *  - the server process under 200 MB resident.
 * The store is filled through shiplog's own write path, so every table is as ingest leaves it.
 */
import SQLite from 'better-sqlite3';
import path from 'node:path';
import { buildApp } from '../src/server/app.js';
import { openStore } from '../src/store/database.js';
import { createEventWriter } from '../src/store/event-writer.js';
import type { DeploymentEvent } from '../src/domain/event.js';
import { batchRate } from './ingest.js';
import { medianMs, memoryOf, report, startShiplog, tempDir, TOKEN } from './lib.js';

const TOTAL = Number(process.env.BENCH_DEPLOYMENTS ?? 1_000_000);

function seedEvent(n: number): DeploymentEvent {
  const t = 1_700_000_000_000 + n * 60_000;
  return {
    id: `seed-${n}`,
    type: 'deployment.succeeded',
    timeMs: t,
    deployment: `seed-${n}`,
    service: `svc-${n % 500}`,
    environment: ['production', 'staging', 'dev', 'qa'][n % 4] as string,
    region: ['eu-west-1', 'us-east-1', 'ap-south-1'][n % 3] as string,
    version: `1.${n % 1000}.0`,
    actor: 'seeder',
    kind: 'release',
  };
}

async function seed(dataDir: string): Promise<void> {
  const store = await openStore({ dataDir });
  await store.tokens.ensureBootstrap(TOKEN);
  const writer = createEventWriter(store);
  const start = Date.now();
  for (let n = 0; n < TOTAL; n += 1000) {
    const events = Array.from({ length: Math.min(1000, TOTAL - n) }, (_, i) => seedEvent(n + i));
    await writer.write({
      events,
      source: 'seed',
      receivedMs: Date.now(),
      timed: events.map(() => false),
      pointers: events.map(() => ''),
    });
    if (n % 100_000 === 0 && n > 0)
      process.stderr.write(`  seeded ${n} deployments (${Math.round((Date.now() - start) / 1000)} s)\n`);
  }
  await store.close();
}

export async function benchScale(): Promise<boolean> {
  const dataDir = tempDir('scale');
  process.stderr.write(`seeding ${TOTAL} deployments through the write path...\n`);
  await seed(dataDir);

  let ok = true;
  const store = await openStore({ dataDir });
  const { server } = await buildApp({ store });
  const raw = new SQLite(path.join(dataDir, 'shiplog.db'), { readonly: true });
  const get = async (url: string) => {
    const response = await server.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
    return response.body;
  };
  const cases = [
    {
      name: 'GET /v1/deployments?limit=1000 (newest first)',
      url: '/v1/deployments?limit=1000',
      sql: raw.prepare('select * from deployments order by sort_ms desc, deployment desc limit 1001'),
    },
    {
      name: 'GET /v1/deployments?service=svc-8&environment=production&limit=100',
      url: '/v1/deployments?service=svc-8&environment=production&limit=100',
      sql: raw.prepare(
        "select * from deployments where service = 'svc-8' and environment = 'production' order by sort_ms desc, deployment desc limit 101",
      ),
    },
    {
      name: 'GET /v1/environments?limit=1000',
      url: '/v1/environments?limit=1000',
      sql: raw.prepare('select * from environments order by service, environment, region limit 1001'),
    },
  ];
  for (const c of cases) {
    await get(c.url);
    const api = await medianMs(50, () => get(c.url));
    const bare = await medianMs(50, () => c.sql.all());
    const ratio = api / bare;
    const pass = ratio <= 3;
    ok &&= pass;
    report(
      `${c.name} at ${TOTAL} deployments`,
      `${api.toFixed(2)} ms`,
      `${bare.toFixed(2)} ms bare SQL (better-sqlite3) for the same rows`,
      ratio,
      '<= 3',
      pass,
    );
  }
  raw.close();
  await server.close();
  await store.close();

  // Both servers run side by side and are measured in alternation, three rounds each, so
  // that a noisy neighbour hurts both alike; the medians are compared.
  const empty = await startShiplog();
  const full = await startShiplog(dataDir);
  await batchRate(empty.url, 2, 'warm-empty');
  await batchRate(full.url, 2, 'warm-full');
  const emptyRates: number[] = [];
  const fullRates: number[] = [];
  for (let round = 0; round < 3; round += 1) {
    emptyRates.push(await batchRate(empty.url, 20, `empty-${round}`));
    fullRates.push(await batchRate(full.url, 20, `full-${round}`));
  }
  const memory = memoryOf(full.pid);
  await empty.stop();
  await full.stop();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] as number;
  const emptyRate = median(emptyRates);
  const fullRate = median(fullRates);
  const ratio = fullRate / emptyRate;
  ok &&= ratio >= 0.8 && memory.peakMb < 200;
  report(
    `batch ingest at ${TOTAL} deployments vs empty store (median of 3 alternating rounds)`,
    `${fullRate.toFixed(0)} events/s (rounds: ${fullRates.map((r) => r.toFixed(0)).join(', ')})`,
    `${emptyRate.toFixed(0)} events/s on an empty store (rounds: ${emptyRates.map((r) => r.toFixed(0)).join(', ')})`,
    ratio,
    '>= 0.8',
    ratio >= 0.8,
  );
  process.stdout.write(
    `server memory at ${TOTAL} deployments after ingest: ${memory.rssMb.toFixed(0)} MB resident, peak ${memory.peakMb.toFixed(0)} MB (target < 200 MB) ${memory.peakMb < 200 ? 'ok' : 'ABOVE TARGET'}\n`,
  );
  return ok;
}
