/**
 * Shared pieces of the benchmarks. Every benchmark measures shiplog and a baseline in the same
 * run on the same machine and prints their ratio: the machine is shared and noisy, so an
 * absolute figure alone would mean little.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/shiplog.js');
export const TOKEN = 'bench-admin-token';
/** The heap flags of bin/shiplog.js's shebang and `npm start`: the server as users run it. */
export const HEAP_FLAGS = ['--max-semi-space-size=4', '--max-old-space-size=256'];

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `shiplog-bench-${prefix}-`));
}

export interface Child {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts a node script as a child process and waits for it to print `listening on <url>`. */
export async function startChild(args: string[], env: Record<string, string> = {}): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(err);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`child exited with ${code}: ${err}`)));
  });
  return {
    url,
    pid: child.pid as number,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The real server on a fresh SQLite folder (or `dataDir`), logging at its default level. */
/**
 * A limit no benchmark reaches: one token sends thousands of requests a second, and the
 * limiter's own cost stays in what is measured.
 */
export const BENCH_RATE_LIMIT = '1000000000/1m';

export function startShiplog(dataDir = tempDir('data'), args: string[] = []): Promise<Child> {
  return startChild([...HEAP_FLAGS, BIN, 'serve', '--port', '0', '--data', dataDir, ...args], {
    SHIPLOG_BOOTSTRAP_TOKEN: TOKEN,
    SHIPLOG_RATE_LIMIT: BENCH_RATE_LIMIT,
  });
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly p99Ms: number;
}

/** autocannon against `url` with a body made per request. */
export async function load(
  url: string,
  options: {
    connections: number;
    seconds: number;
    path: string;
    body: (n: number) => string;
    headers?: Record<string, string>;
  },
): Promise<LoadResult> {
  let n = 0;
  const result = await autocannon({
    url: `${url}${options.path}`,
    connections: options.connections,
    duration: options.seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        setupRequest: (request) => ({ ...request, body: options.body(n++) }),
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p99Ms: result.latency.p99,
  };
}

/** Resident and peak memory of a process, from /proc. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** Median wall time of `fn` over `runs`, in ms. */
export async function medianMs(runs: number, fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

export function report(
  name: string,
  measured: string,
  baseline: string,
  ratio: number,
  target: string,
  pass: boolean,
): void {
  process.stdout.write(
    `${name}\n  shiplog:  ${measured}\n  baseline: ${baseline}\n  ratio:    ${ratio.toFixed(2)} (target ${target}) ${pass ? 'ok' : 'BELOW TARGET'}\n`,
  );
}

/** An event for deployment `n`: started for even n, succeeded for odd n (same deployment). */
export function event(n: number, run = 'r'): Record<string, unknown> {
  const d = Math.floor(n / 2);
  return {
    id: `${run}-${n}`,
    type: n % 2 === 0 ? 'deployment.started' : 'deployment.succeeded',
    deployment: `${run}-d${d}`,
    service: `svc-${d % 200}`,
    environment: ['production', 'staging', 'dev'][d % 3],
    region: ['eu-west-1', 'us-east-1'][d % 2],
    version: `1.${d % 50}.0`,
    commit: '9f2c1e0a7b3d',
    actor: 'alice',
    time: new Date(1_790_000_000_000 + n * 1000).toISOString(),
  };
}
