/**
 * Ledger benchmarks (issue 3):
 *  - batch ingest with the ledger against the same write path without it (target >= 0.7×);
 *  - `shiplog verify` (the offline audit) over BENCH_LEDGER stored events (default 1M) against
 *    a baseline that makes the same hash calls (every leaf hash and the interior-node hashes
 *    the tree needs) over the same bytes, in one process with no database (target >= 0.8×);
 *  - an inclusion proof at 1M entries against one at 1k entries (target <= 3× the latency).
 */
import { leafHash } from '../src/ledger/merkle.js';
import { generateSigner } from '../src/ledger/note.js';
import { createRootBuilder } from '../src/ledger/root-builder.js';
import { buildApp } from '../src/server/app.js';
import { openStore, type Store } from '../src/store/database.js';
import { createEventWriter } from '../src/store/event-writer.js';
import { auditLedger } from '../src/store/ledger-audit.js';
import { createLedger, type Ledger } from '../src/store/ledger-repository.js';
import type { DeploymentEvent } from '../src/domain/event.js';
import { medianMs, report, tempDir, TOKEN } from './lib.js';

const ENTRIES = Number(process.env.BENCH_LEDGER ?? 1_000_000);

function events(batch: number, run: string): DeploymentEvent[] {
  return Array.from({ length: 1000 }, (_, i) => {
    const n = batch * 1000 + i;
    return {
      id: `${run}-${n}`,
      type: n % 2 === 0 ? 'deployment.started' : 'deployment.succeeded',
      timeMs: 1_790_000_000_000 + n * 1000,
      deployment: `${run}-d${Math.floor(n / 2)}`,
      service: `svc-${Math.floor(n / 2) % 200}`,
      environment: 'production',
      version: '1.0.0',
      actor: 'alice',
      kind: 'release',
    };
  });
}

function newLedger(store: Store): Ledger {
  return createLedger(store, {
    signer: generateSigner('bench.shiplog.local').signer,
    origin: 'bench.shiplog.local/ledger',
  });
}

/** Events per second through the durable write path, in process, 1000 per transaction. */
async function writeRate(withLedger: boolean, batches: number): Promise<number> {
  const store = await openStore({ dataDir: tempDir(withLedger ? 'with' : 'without') });
  const writer = createEventWriter(store, { ledger: withLedger ? newLedger(store) : undefined });
  const submit = (b: number, run: string) => {
    const list = events(b, run);
    return writer.write({
      events: list,
      source: 'bench',
      receivedMs: Date.now(),
      timed: list.map(() => true),
      pointers: list.map(() => ''),
    });
  };
  await submit(0, 'warm');
  const start = process.hrtime.bigint();
  for (let b = 0; b < batches; b += 1) await submit(b, 'run');
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await store.close();
  return (batches * 1000) / seconds;
}

export async function benchLedgerIngest(): Promise<boolean> {
  const batches = Number(process.env.BENCH_BATCHES ?? 40);
  // Alternate the two so that a noisy neighbour hurts both alike.
  const without = [await writeRate(false, batches), await writeRate(false, batches)];
  const withLedger = [await writeRate(true, batches), await writeRate(true, batches)];
  const a = Math.max(...withLedger);
  const b = Math.max(...without);
  const ratio = a / b;
  report(
    'batch ingest with the ledger (1000 events per transaction)',
    `${a.toFixed(0)} events/s`,
    `${b.toFixed(0)} events/s without the ledger`,
    ratio,
    '>= 0.7',
    ratio >= 0.7,
  );
  return ratio >= 0.7;
}

/** Appends `count` ledger entries shaped like stored events, 10 000 per transaction. */
async function fillLedger(store: Store, ledger: Ledger, count: number): Promise<void> {
  const start = Date.now();
  for (let n = 0; n < count; n += 10_000) {
    const entries = Array.from({ length: Math.min(10_000, count - n) }, (_, i) =>
      JSON.stringify({
        recordType: 'bench',
        id: `e-${n + i}`,
        deployment: `d-${n + i}`,
        service: 'checkout-api',
        environment: 'production',
        version: '1.42.0',
        time: new Date(1_790_000_000_000 + (n + i) * 1000).toISOString(),
      }),
    );
    await store.writeTransaction((trx) => ledger.append(trx, entries));
    if (n > 0 && n % 200_000 === 0)
      process.stderr.write(`  appended ${n} entries (${Math.round((Date.now() - start) / 1000)} s)\n`);
  }
}

/** Stores `count` events through the real write path (the ledger included), 5000 per group. */
async function fillEvents(store: Store, ledger: Ledger, count: number): Promise<void> {
  const writer = createEventWriter(store, { ledger });
  const start = Date.now();
  for (let b = 0; b * 1000 < count; b += 5) {
    await Promise.all(
      Array.from({ length: 5 }, (_, k) => {
        const list = events(b + k, 'fill');
        return writer.write({
          events: list,
          source: 'bench',
          receivedMs: Date.now(),
          timed: list.map(() => true),
          pointers: list.map(() => ''),
        });
      }),
    );
    if (b > 0 && (b * 1000) % 200_000 === 0)
      process.stderr.write(`  stored ${b * 1000} events (${Math.round((Date.now() - start) / 1000)} s)\n`);
  }
}

export async function benchVerify(): Promise<boolean> {
  const dataDir = tempDir('verify');
  const store = await openStore({ dataDir });
  const ledger = newLedger(store);
  process.stderr.write(`storing ${ENTRIES} events...\n`);
  await fillEvents(store, ledger, ENTRIES);
  await ledger.cutCheckpoint();
  const size = await ledger.size();

  const bytes: Uint8Array[] = [];
  const utf8 = new TextEncoder();
  for (let start = 0; start < size; start += 1000) {
    for (const e of await ledger.entries(start, start + 1000)) bytes.push(utf8.encode(e.data ?? ''));
  }
  // The baseline: the hash calls verify makes (each leaf, and the interior nodes the tree
  // needs), over the same bytes, no database.
  const hashStart = process.hrtime.bigint();
  const tree = createRootBuilder();
  for (const b of bytes) tree.append(leafHash(b));
  tree.root();
  const hashSeconds = Number(process.hrtime.bigint() - hashStart) / 1e9;

  const auditStart = process.hrtime.bigint();
  const result = await auditLedger(store, { verifiers: [ledger.signer.verifier] });
  const auditSeconds = Number(process.hrtime.bigint() - auditStart) / 1e9;
  await store.close();
  if (!result.ok) throw new Error(`the audit failed: ${JSON.stringify(result.problems)}`);
  const ratio = hashSeconds / auditSeconds;
  report(
    `shiplog verify over ${size} entries (reads, leaf and node hashes, every stored node compared)`,
    `${(size / auditSeconds).toFixed(0)} entries/s`,
    `${(size / hashSeconds).toFixed(0)} entries/s making the same hash calls over the same bytes, no database`,
    ratio,
    '>= 0.8',
    ratio >= 0.8,
  );
  return ratio >= 0.8;
}

/** Median latency of GET /v1/ledger/proof/inclusion on a ledger of `size` entries. */
async function proofLatency(size: number): Promise<number> {
  const store = await openStore({ dataDir: tempDir(`proof-${size}`) });
  await store.tokens.ensureBootstrap(TOKEN);
  const ledger = newLedger(store);
  await fillLedger(store, ledger, size);
  const { server } = await buildApp({ store, ledger });
  let i = 0;
  const ask = async () => {
    const index = (i++ * 7919) % size;
    const answer = await server.inject({
      url: `/v1/ledger/proof/inclusion?index=${index}&size=${size}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    if (answer.statusCode !== 200) throw new Error(answer.body);
  };
  await medianMs(20, ask);
  const ms = await medianMs(300, ask);
  await server.close();
  await store.close();
  return ms;
}

export async function benchInclusionProof(): Promise<boolean> {
  const small = await proofLatency(1000);
  const large = await proofLatency(ENTRIES);
  const ratio = large / small;
  report(
    `inclusion proof over HTTP (inject) at ${ENTRIES} entries`,
    `${large.toFixed(3)} ms`,
    `${small.toFixed(3)} ms at 1000 entries`,
    ratio,
    '<= 3',
    ratio <= 3,
  );
  return ratio <= 3;
}
