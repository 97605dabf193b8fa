/** `shiplog run` against a real server: pass-through exit codes, spooling when unreachable. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const TOKEN = 'cli-admin-token';

function shiplog(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('shiplog run', () => {
  let server: ServerProcess;
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-spool-'));
  const spoolFile = path.join(spoolDir, 'spool.jsonl');
  beforeAll(async () => {
    server = await startServerProcess({ env: { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN } });
  });
  afterAll(async () => server.stop());

  it("records a deployment and exits with the command's own code", async () => {
    const env = { SHIPLOG_URL: server.url, SHIPLOG_TOKEN: TOKEN, SHIPLOG_SPOOL: spoolFile };
    const ok = shiplog(
      [
        'run',
        '--service',
        'api',
        '--env',
        'staging',
        '--version',
        '1.0.0',
        '--deployment',
        'run-ok',
        '--',
        'sh',
        '-c',
        'echo out-line',
      ],
      env,
    );
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('out-line');
    const failed = shiplog(
      [
        'run',
        '--service',
        'api',
        '--env',
        'staging',
        '--version',
        '1.0.1',
        '--deployment',
        'run-bad',
        '--',
        'sh',
        '-c',
        'exit 7',
      ],
      env,
    );
    expect(failed.status).toBe(7);
    const list = shiplog(['deployments', '--json'], env);
    const items = (
      JSON.parse(list.stdout) as {
        items: { deployment: string; status: string; labels: Record<string, string> }[];
      }
    ).items;
    expect(items.find((d) => d.deployment === 'run-ok')?.status).toBe('succeeded');
    const bad = items.find((d) => d.deployment === 'run-bad');
    expect(bad?.status).toBe('failed');
  });

  it('never fails the deploy when shiplog is unreachable, and resends the spool later', async () => {
    const down = {
      SHIPLOG_URL: 'http://127.0.0.1:9',
      SHIPLOG_TOKEN: TOKEN,
      SHIPLOG_SPOOL: spoolFile,
      SHIPLOG_TIMEOUT_MS: '2000',
    };
    const result = shiplog(
      [
        'run',
        '--service',
        'api',
        '--env',
        'prod',
        '--version',
        '2.0.0',
        '--deployment',
        'offline-1',
        '--',
        'sh',
        '-c',
        'exit 3',
      ],
      down,
    );
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('spooled');
    expect(fs.readFileSync(spoolFile, 'utf8').trim().split('\n')).toHaveLength(2);

    const up = { SHIPLOG_URL: server.url, SHIPLOG_TOKEN: TOKEN, SHIPLOG_SPOOL: spoolFile };
    const next = shiplog(
      [
        'run',
        '--service',
        'api',
        '--env',
        'prod',
        '--version',
        '2.0.1',
        '--deployment',
        'online-1',
        '--',
        'true',
      ],
      up,
    );
    expect(next.status).toBe(0);
    expect(next.stderr).toContain('resent 2 spooled event(s)');
    expect(fs.existsSync(spoolFile)).toBe(false);
    const shown = shiplog(['deployments', '--json', '--env', 'prod'], up);
    const items = (JSON.parse(shown.stdout) as { items: { deployment: string; status: string }[] }).items;
    expect(items.map((d) => `${d.deployment}:${d.status}`).sort()).toEqual([
      'offline-1:failed',
      'online-1:succeeded',
    ]);
  });

  it('prints one clear line for a bad request and exits non-zero', () => {
    const result = shiplog(
      [
        'event',
        '--type',
        'started',
        '--deployment',
        'x',
        '--service',
        'Bad Name',
        '--env',
        'prod',
        '--version',
        '1',
      ],
      {
        SHIPLOG_URL: server.url,
        SHIPLOG_TOKEN: TOKEN,
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^shiplog: 400 SHIPLOG_INVALID_EVENT/);
    expect(result.stderr).toContain('/service:');
    expect(result.stderr).not.toMatch(/\bat .+\.js:\d+/);
  });
});
