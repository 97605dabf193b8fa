/**
 * The README's settings table through the real CLI (built `bin/shiplog.js serve`): each setting
 * given by its flag, by its environment variable and by the `server:` section of the file takes
 * effect, in that order of precedence (DESIGN.md §5). Regression: `shiplog serve` ignored
 * SHIPLOG_PORT, SHIPLOG_HOST and SHIPLOG_DATA because commander's defaults always won.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SIGNING_KEY_FILE } from '../../src/store/ledger-keys.js';
import { POSTGRES_URL, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { BIN } from '../helpers/server-process.js';

const TOKEN = 'settings-admin-token';

interface Run {
  readonly url: string;
  /** Stops the server and resolves with everything it printed. */
  stop(): Promise<string>;
}

/** The environment without any SHIPLOG_ setting of the test runner's own. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('SHIPLOG_')) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs `shiplog serve ARGS` in `cwd`; resolves once it listens, rejects with its output if it exits. */
function serve(args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    cwd,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise<Run>((resolve, reject) => {
    child.stderr.on('data', () => {
      const url = /shiplog listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        resolve({
          url,
          async stop() {
            child.kill('SIGTERM');
            await closed;
            return output;
          },
        });
      }
    });
    void closed.then((code) => reject(new Error(`shiplog serve exited with ${code}:\n${output}`)));
  });
}

/** Runs `shiplog serve ARGS`, which must refuse to start; resolves with what it printed. */
async function refused(args: string[], env: Record<string, string>, cwd: string): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    cwd,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  expect(code, output).toBe(1);
  return output;
}

/** A port that was free a moment ago (the server must be given a known one to show it took effect). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function get(url: string, token: string | null = TOKEN): Promise<Response> {
  return fetch(url, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

/** What a running server shows of its settings. */
async function observe(run: Run) {
  const ready = (await (await get(`${run.url}/readyz`, null)).json()) as { database: string };
  const deployments = await get(`${run.url}/v1/deployments`);
  const policies = (await (await get(`${run.url}/v1/policies`)).json()) as {
    environments: Record<string, unknown>;
  };
  const url = new URL(run.url);
  return {
    host: url.hostname,
    port: Number(url.port),
    database: ready.database,
    bootstrapToken: deployments.status,
    rateLimit: deployments.headers.get('x-ratelimit-limit'),
    environments: Object.keys(policies.environments),
  };
}

describe('the settings table of the README, through `shiplog serve`', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-settings-'));
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const database of databases) await database.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const folder = (name: string) => path.join(dir, name);
  const configFile = (name: string, environment: string, server: string[] = []) => {
    const file = folder(`${name}.yaml`);
    const lines = ['environments:', `  ${environment}: {protected: false}`];
    if (server.length > 0) lines.push('server:', ...server.map((line) => `  ${line}`));
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };
  /** A fresh PostgreSQL database when the suite runs on PostgreSQL. */
  const postgres = async () => {
    if (POSTGRES_URL === undefined) return undefined;
    const database = await freshDatabase('postgres');
    databases.push(database);
    return database.databaseUrl;
  };
  const expectedDatabase = POSTGRES_URL === undefined ? 'sqlite' : 'postgres';

  it('takes every setting from its environment variable, before the file', async () => {
    const port = await freePort();
    const databaseUrl = await postgres();
    const file = configFile('env', 'from-env-config', [
      'port: 1',
      'host: 127.0.0.3',
      `data: ${folder('file-data-unused')}`,
      'logLevel: warn',
      'rateLimit: {requests: 1000, per: 1m}',
      ...(databaseUrl === undefined ? [] : ['database: postgres://127.0.0.1:1/unused']),
    ]);
    const run = await serve(
      [],
      {
        SHIPLOG_PORT: String(port),
        SHIPLOG_HOST: '127.0.0.2',
        SHIPLOG_DATA: folder('env-data'),
        SHIPLOG_CONFIG: file,
        SHIPLOG_BOOTSTRAP_TOKEN: TOKEN,
        SHIPLOG_LOG_LEVEL: 'info',
        SHIPLOG_RATE_LIMIT: '3/1m',
        ...(databaseUrl === undefined ? {} : { SHIPLOG_DATABASE_URL: databaseUrl }),
      },
      dir,
    );
    const seen = await observe(run);
    const output = await run.stop();
    expect(seen).toEqual({
      host: '127.0.0.2',
      port,
      database: expectedDatabase,
      bootstrapToken: 200,
      rateLimit: '3',
      environments: ['from-env-config'],
    });
    expect(fs.existsSync(path.join(folder('env-data'), SIGNING_KEY_FILE))).toBe(true);
    expect(fs.existsSync(folder('file-data-unused'))).toBe(false);
    expect(output).toContain('"msg":"shiplog listening"');
  });

  it('takes every setting from its flag, before the environment', async () => {
    const port = await freePort();
    const databaseUrl = await postgres();
    const file = configFile('flags', 'from-flag-config');
    const run = await serve(
      [
        ...['--port', String(port), '--host', '127.0.0.2', '--data', folder('flag-data')],
        ...['--config', file, '--log-level', 'warn', '--rate-limit', '5/1m'],
        ...(databaseUrl === undefined ? [] : ['--database', databaseUrl]),
      ],
      {
        SHIPLOG_PORT: '1',
        SHIPLOG_HOST: '127.0.0.3',
        SHIPLOG_DATA: folder('env-data-unused'),
        SHIPLOG_CONFIG: configFile('env-unused', 'from-env-config'),
        SHIPLOG_BOOTSTRAP_TOKEN: TOKEN,
        SHIPLOG_LOG_LEVEL: 'debug',
        SHIPLOG_RATE_LIMIT: '1000/1m',
        ...(databaseUrl === undefined ? {} : { SHIPLOG_DATABASE_URL: 'postgres://127.0.0.1:1/unused' }),
      },
      dir,
    );
    const seen = await observe(run);
    const output = await run.stop();
    expect(seen).toEqual({
      host: '127.0.0.2',
      port,
      database: expectedDatabase,
      bootstrapToken: 200,
      rateLimit: '5',
      environments: ['from-flag-config'],
    });
    expect(fs.existsSync(path.join(folder('flag-data'), SIGNING_KEY_FILE))).toBe(true);
    expect(fs.existsSync(folder('env-data-unused'))).toBe(false);
    expect(output).not.toContain('"msg":"shiplog listening"');
  });

  it('takes every setting with a file key from the server: section, and limits past its rateLimit', async () => {
    const port = await freePort();
    const databaseUrl = await postgres();
    const file = configFile('file', 'from-file', [
      `port: ${port}`,
      'host: 127.0.0.2',
      `data: ${folder('file-data')}`,
      'logLevel: warn',
      'rateLimit: {requests: 2, per: 1m}',
      ...(databaseUrl === undefined ? [] : [`database: ${databaseUrl}`]),
    ]);
    const run = await serve(['--config', file], { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN }, dir);
    const seen = await observe(run);
    // /readyz is never limited; /v1/deployments and /v1/policies were the token's 2 requests.
    const limited = await get(`${run.url}/v1/deployments`);
    const output = await run.stop();
    expect(seen).toEqual({
      host: '127.0.0.2',
      port,
      database: expectedDatabase,
      bootstrapToken: 200,
      rateLimit: '2',
      environments: ['from-file'],
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('SHIPLOG_RATE_LIMITED');
    expect(fs.existsSync(path.join(folder('file-data'), SIGNING_KEY_FILE))).toBe(true);
    expect(output).not.toContain('"msg":"shiplog listening"');
  });

  it('falls back to the defaults (data in ./.shiplog, 127.0.0.1, 600 a minute, SQLite, info)', async () => {
    const cwd = folder('defaults');
    fs.mkdirSync(cwd);
    // The port alone is given: the default 7350 is not free to take in a test.
    const run = await serve(['--port', '0'], { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN }, cwd);
    const seen = await observe(run);
    const output = await run.stop();
    expect(seen).toMatchObject({ host: '127.0.0.1', database: 'sqlite', rateLimit: '600', environments: [] });
    expect(fs.existsSync(path.join(cwd, '.shiplog', 'shiplog.db'))).toBe(true);
    expect(output).toContain('"msg":"shiplog listening"');
  });

  it('refuses a bad value naming the flag, the variable or the file line it came from', async () => {
    expect(await refused(['--port', 'http'], {}, dir)).toContain('--port must be a whole number');
    expect(await refused([], { SHIPLOG_DATABASE_URL: 'mysql://db/x' }, dir)).toContain(
      'SHIPLOG_DATABASE_URL must start with postgres://',
    );
    const file = configFile('bad', 'prod', ['rateLimit: {requests: 600, per: soon}']);
    expect(await refused([], { SHIPLOG_CONFIG: file }, dir)).toContain(
      `${file}:4:14 server.rateLimit: must be a duration such as 30s, 1m or 1h`,
    );
  });
});
