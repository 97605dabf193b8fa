/**
 * The real Prometheus and Alertmanager (Debian packages `prometheus`, `prometheus-alertmanager`;
 * .ci/run installs them) started on free ports with their own temporary config and data
 * folders, for the suppression and verification tests. A missing binary fails the test: it is
 * never skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const PROMETHEUS_BIN = process.env.SHIPLOG_TEST_PROMETHEUS ?? '/usr/bin/prometheus';
export const ALERTMANAGER_BIN = process.env.SHIPLOG_TEST_ALERTMANAGER ?? '/usr/bin/prometheus-alertmanager';

export interface Running {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A port nobody listens on now (the kernel's pick, released at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it answers a value (not undefined), for at most `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(
  bin: string,
  args: (dir: string, port: number) => string[],
  config: string,
  name: string,
  port?: number,
): Promise<Running> {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: install ${name} (.ci/run does)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `shiplog-${name}-`));
  fs.writeFileSync(path.join(dir, 'config.yml'), config);
  const listen = port ?? (await freePort());
  const child: ChildProcess = spawn(bin, args(dir, listen), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${listen}`;
  try {
    await waitFor(`${name} on ${url}`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr}`);
      const response = await fetch(`${url}/-/ready`);
      return response.ok ? true : undefined;
    });
  } catch (error) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port: listen,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Alertmanager with `config` (YAML), clustering off; on `port` when given. */
export function startAlertmanager(config: string, port?: number): Promise<Running> {
  return start(
    ALERTMANAGER_BIN,
    (dir, listen) => [
      `--config.file=${path.join(dir, 'config.yml')}`,
      `--storage.path=${dir}`,
      `--web.listen-address=127.0.0.1:${listen}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    config,
    'alertmanager',
    port,
  );
}

/** Prometheus with `config` (YAML). */
export function startPrometheus(config: string): Promise<Running> {
  return start(
    PROMETHEUS_BIN,
    (dir, listen) => [
      `--config.file=${path.join(dir, 'config.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${listen}`,
      '--log.level=warn',
    ],
    config,
    'prometheus',
  );
}
