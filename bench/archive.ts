/**
 * Retention benchmarks (issue 14), over BENCH_ARCHIVE events received in January (default 1M)
 * and a quarter as many in February:
 *  - archiving the month (`runArchive`: read the entries and deployments, write the gzip JSONL
 *    and the manifest, prove the leaf hashes made while writing against the checkpoint and
 *    check the stored objects) against gzip-writing the same JSONL from a file in the same
 *    process, at zlib's default level like the archive (target >= 0.5×);
 *  - the write path's ingest rate while the archiver runs against its rate alone, both in the
 *    process that archives, as the leader runs it (target >= 0.8×).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { DeploymentEvent } from '../src/domain/event.js';
import { generateSigner } from '../src/ledger/note.js';
import { createRetention, productionRule } from '../src/retention/archiver.js';
import { DEFAULT_RETENTION } from '../src/retention/retention-config.js';
import { createFolderStorage } from '../src/retention/segment-storage.js';
import { openStore, type Store } from '../src/store/database.js';
import { createEventWriter, type EventWriter } from '../src/store/event-writer.js';
import { createLedger, type Ledger } from '../src/store/ledger-repository.js';
import { report, tempDir } from './lib.js';

const EVENTS = Number(process.env.BENCH_ARCHIVE ?? 1_000_000);
/** February, the month archived while ingest runs, is a quarter of January. */
const FEBRUARY = Math.ceil(EVENTS / 4000) * 1000;
const JANUARY = Date.parse('2026-01-01T00:00:00Z');
const MARCH = Date.parse('2026-03-01T00:00:00Z');

function batch(b: number, run: string, receivedMs: number): DeploymentEvent[] {
  return Array.from({ length: 1000 }, (_, i) => {
    const n = b * 1000 + i;
    const d = Math.floor(n / 2);
    return {
      id: `${run}-${n}`,
      type: n % 2 === 0 ? 'deployment.started' : 'deployment.succeeded',
      timeMs: receivedMs,
      deployment: `${run}-d${d}`,
      service: `svc-${d % 200}`,
      environment: 'production',
      region: ['eu-west-1', 'us-east-1'][d % 2] ?? 'eu-west-1',
      version: `1.${d % 50}.0`,
      commit: '9f2c1e0a7b3d',
      actor: 'alice',
      kind: 'release',
    };
  });
}

function submit(writer: EventWriter, list: DeploymentEvent[], receivedMs: number) {
  return writer.write({
    events: list,
    source: 'bench',
    receivedMs,
    timed: list.map(() => true),
    pointers: list.map(() => ''),
  });
}

/** `count` events received evenly over [fromMs, toMs), under run name `run`. */
async function fill(store: Store, ledger: Ledger, run: string, count: number, fromMs: number, toMs: number) {
  const writer = createEventWriter(store, { ledger });
  const batches = Math.ceil(count / 1000);
  const start = Date.now();
  for (let b = 0; b < batches; b += 5) {
    await Promise.all(
      Array.from({ length: Math.min(5, batches - b) }, (_, k) => {
        const receivedMs = fromMs + Math.floor(((b + k) / batches) * (toMs - fromMs - 60_000));
        return submit(writer, batch(b + k, run, receivedMs), receivedMs);
      }),
    );
    if (b > 0 && (b * 1000) % 200_000 === 0)
      process.stderr.write(`  stored ${b * 1000} events (${Math.round((Date.now() - start) / 1000)} s)\n`);
  }
  await ledger.cutCheckpoint();
}

/** Ingest rate (events/s) of 1000-event batches, one after another, until `stop()`. */
async function ingestRate(writer: EventWriter, run: string, stop: () => boolean): Promise<number> {
  let n = 0;
  const start = process.hrtime.bigint();
  while (!stop()) {
    await submit(writer, batch(n, run, Date.now()), Date.now());
    n += 1;
  }
  return (n * 1000) / (Number(process.hrtime.bigint() - start) / 1e9);
}

export async function benchArchive(): Promise<boolean> {
  const dataDir = tempDir('archive');
  const store = await openStore({ dataDir });
  const ledger = createLedger(store, {
    signer: generateSigner('bench.shiplog.local').signer,
    origin: 'bench.shiplog.local/ledger',
  });
  process.stderr.write(`storing ${EVENTS} events received in 2026-01 and ${FEBRUARY} in 2026-02...\n`);
  const february = Date.parse('2026-02-01T00:00:00Z');
  await fill(store, ledger, 'jan', EVENTS, JANUARY, february);
  await fill(store, ledger, 'feb', FEBRUARY, february, MARCH);
  const storage = createFolderStorage(path.join(dataDir, 'archive'));
  const retention = createRetention({
    store,
    storage,
    config: { ...DEFAULT_RETENTION, archiveMs: 100 * 366 * 86_400_000 },
    checkpoint: () => ledger.cutCheckpoint(),
    verifierKey: ledger.verifierKey,
    verifiers: [ledger.signer.verifier],
    isProduction: productionRule([]),
  });

  // January alone (hot: 30 days; early March leaves February hot).
  const started = process.hrtime.bigint();
  const january = await retention.runArchive(Date.parse('2026-03-05T00:00:00Z'));
  const archiveSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (january.failures.length > 0 || january.archived.map((a) => a.month).join() !== '2026-01') {
    throw new Error('January was not archived alone');
  }

  // Ingest alone, then while February is archived (same process, same database).
  const writer = createEventWriter(store, { ledger });
  const aloneUntil = Date.now() + 8000;
  const alone = await ingestRate(writer, 'alone', () => Date.now() > aloneUntil);
  let archiving = true;
  const archived = retention
    .runArchive(Date.parse('2026-04-05T00:00:00Z'))
    .finally(() => (archiving = false));
  // As long as the archiver runs, at most 8 s: under a steady stream of commits the archiver
  // gets the event loop between them, so it takes longer than alone; ingest is what must hold.
  const duringUntil = Date.now() + 8000;
  const during = await ingestRate(writer, 'during', () => !archiving || Date.now() > duringUntil);
  const result = await archived;
  if (result.failures.length > 0 || result.archived.map((a) => a.month).join() !== '2026-02') {
    throw new Error('February was not archived');
  }

  // The same JSONL, uncompressed to a file, then gzip-written again: the baseline.
  const jsonl = path.join(dataDir, 'segment.jsonl');
  await pipeline(
    fs.createReadStream(path.join(storage.location, '2026-01.jsonl.gz')),
    createGunzip(),
    fs.createWriteStream(jsonl),
  );
  const gzipOnce = async () => {
    const t = process.hrtime.bigint();
    await pipeline(
      fs.createReadStream(jsonl, { highWaterMark: 1 << 20 }),
      createGzip(),
      fs.createWriteStream(`${jsonl}.gz`),
    );
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const gzipSeconds = Math.min(await gzipOnce(), await gzipOnce());
  const mb = fs.statSync(jsonl).size / 1e6;

  const speed = gzipSeconds / archiveSeconds;
  report(
    `archiving a month of ${EVENTS} events (write + prove the segment, ${mb.toFixed(0)} MB of JSONL)`,
    `${archiveSeconds.toFixed(1)} s (${(EVENTS / archiveSeconds).toFixed(0)} events/s)`,
    `${gzipSeconds.toFixed(1)} s to gzip-write the same JSONL`,
    speed,
    '>= 0.5',
    speed >= 0.5,
  );
  const share = during / alone;
  report(
    `ingest while the archiver runs (a month of ${FEBRUARY} events; 1000-event batches, same process and database)`,
    `${during.toFixed(0)} events/s while archiving`,
    `${alone.toFixed(0)} events/s alone`,
    share,
    '>= 0.8',
    share >= 0.8,
  );
  await store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  return speed >= 0.5 && share >= 0.8;
}
