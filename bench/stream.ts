/**
 * Live stream fan-out (issue 15): durable single-event ingest over HTTP (50 concurrent
 * clients) while 200 browsers (simulated SSE clients on GET /v1/stream) receive every event,
 * against the same ingest with no stream client, on the same server in the same run (target:
 * at least 0.9×). The baseline is the mean of a run before and a run after the streamed one,
 * so the database's growth does not favour either side. The clients ask for what browsers ask
 * (`Accept-Encoding: gzip, deflate, br, zstd`, so the stream is deflated); set
 * `BENCH_STREAM_ACCEPT=identity` to measure it uncompressed, `BENCH_STREAM_CLIENTS` for another
 * number of clients.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { event, load, report, startShiplog, TOKEN } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CLIENTS = Number(process.env.BENCH_STREAM_CLIENTS ?? 200);
/** The clients' Accept-Encoding: a browser's by default; `identity` measures the stream uncompressed. */
const ACCEPT = process.env.BENCH_STREAM_ACCEPT ?? 'gzip, deflate, br, zstd';
const auth = { authorization: `Bearer ${TOKEN}` };

interface Received {
  /** The events each of the first clients received (decoded, parsed). */
  readonly events: number[];
  /** The bytes each client received. */
  readonly bytes: number[];
  /** How many were disconnected. */
  readonly closed: number;
}

interface Clients {
  /** What the clients received so far; stops them. */
  finish(): Promise<Received>;
}

/** Starts the simulated browsers in their own process (bench/stream-clients.ts). */
async function startClients(url: string, count: number): Promise<Clients> {
  const child = fork(path.join(import.meta.dirname, 'stream-clients.js'), [
    url,
    TOKEN,
    String(count),
    ACCEPT,
  ]);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`stream clients exited with ${code}`)));
  });
  return {
    finish: () =>
      new Promise((resolve) => {
        child.once('message', (message) => resolve(message as Received));
        child.send('finish');
      }),
  };
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function benchStream(): Promise<boolean> {
  const shiplog = await startShiplog();
  try {
    const ingest = async (run: string) => {
      const cpu = cpuSeconds(shiplog.pid);
      const result = await load(shiplog.url, {
        connections: 50,
        seconds: SECONDS,
        path: '/v1/events',
        headers: auth,
        body: (n) => JSON.stringify(event(n, run)),
      });
      if (result.non2xx + result.errors > 0) {
        throw new Error(`shiplog answered ${result.non2xx} non-2xx, ${result.errors} errors`);
      }
      const perEventMs = ((cpuSeconds(shiplog.pid) - cpu) * 1000) / (result.requestsPerSecond * SECONDS);
      return { ...result, perEventMs };
    };
    // Warm-up, then before / with 200 streams / after.
    await ingest(`w${Date.now()}`);
    const before = await ingest(`a${Date.now()}`);
    const clients = await startClients(shiplog.url, CLIENTS);
    const streamed = await ingest(`s${Date.now()}`);
    // Let the last events reach every client before counting.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { events: received, bytes, closed: dropped } = await clients.finish();
    const sameBytes = Math.min(...bytes) === Math.max(...bytes);
    const after = await ingest(`b${Date.now()}`);
    const baseline = (before.requestsPerSecond + after.requestsPerSecond) / 2;
    const ratio = streamed.requestsPerSecond / baseline;
    const events = streamed.requestsPerSecond * SECONDS;
    report(
      `single-event ingest while ${CLIENTS} SSE clients (Accept-Encoding: ${ACCEPT}) receive every event`,
      `${streamed.requestsPerSecond.toFixed(0)} req/s (p99 ${streamed.p99Ms} ms); ${received.length} decoding clients received ${Math.min(...received)}–${Math.max(...received)} of ~${events.toFixed(0)} events; ${sameBytes ? `all ${CLIENTS} received the same` : `the ${CLIENTS} received ${Math.min(...bytes)}–${Math.max(...bytes)}`} ${(Math.max(...bytes) / 1e6).toFixed(1)} MB each; ${dropped} disconnected as too slow`,
      `${baseline.toFixed(0)} req/s with no stream client (before ${before.requestsPerSecond.toFixed(0)}, after ${after.requestsPerSecond.toFixed(0)}); server CPU per event ${streamed.perEventMs.toFixed(2)} ms streamed vs ${before.perEventMs.toFixed(2)} / ${after.perEventMs.toFixed(2)} ms`,
      ratio,
      '>= 0.9',
      ratio >= 0.9,
    );
    return ratio >= 0.9;
  } finally {
    await shiplog.stop();
  }
}
