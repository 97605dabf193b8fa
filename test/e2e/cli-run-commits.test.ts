/**
 * `shiplog run` inside a git repository lists the commits it ships (DESIGN.md §10): HEAD on the
 * first deployment, then the previous succeeded deployment's commit (asked from the server)
 * .. HEAD, with committer times; and `shiplog metrics dora` reads the lead time from them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const TOKEN = 'cli-commits-admin-token';

describe('shiplog run reads the commits it ships from git', () => {
  let server: ServerProcess;
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-commits-'));
  const spool = path.join(repo, '..', `${path.basename(repo)}-spool.jsonl`);
  const git = (args: string[], date?: string) =>
    execFileSync('git', ['-C', repo, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'a',
        GIT_AUTHOR_EMAIL: 'a@example.com',
        GIT_COMMITTER_NAME: 'a',
        GIT_COMMITTER_EMAIL: 'a@example.com',
        ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}),
      },
    }).trim();
  const commit = (message: string, date: string) => {
    fs.writeFileSync(path.join(repo, 'file.txt'), message);
    git(['add', 'file.txt']);
    git(['commit', '-q', '-m', message], date);
    return git(['rev-parse', 'HEAD']);
  };
  const run = (deployment: string) =>
    spawnSync(
      process.execPath,
      [
        BIN,
        'run',
        '--service',
        'api',
        '--env',
        'production',
        '--version',
        deployment,
        '--deployment',
        deployment,
        '--repo',
        repo,
        '--',
        'true',
      ],
      {
        env: { ...process.env, SHIPLOG_URL: server.url, SHIPLOG_TOKEN: TOKEN, SHIPLOG_SPOOL: spool },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
  // A fresh connection per read: a pooled keep-alive socket may be closed by the server (5 s
  // idle) just as it is reused while the CLI runs in between.
  const deployment = (key: string) =>
    new Promise<{ commit: string; events: { commits?: { sha: string; time: string }[] }[] }>(
      (resolve, reject) => {
        http
          .get(
            `${server.url}/v1/deployments/${key}`,
            { agent: false, headers: { authorization: `Bearer ${TOKEN}` } },
            (response) => {
              let body = '';
              response.setEncoding('utf8');
              response.on('data', (chunk: string) => (body += chunk));
              response.on('end', () => resolve(JSON.parse(body) as never));
            },
          )
          .on('error', reject);
      },
    );

  beforeAll(async () => {
    server = await startServerProcess({ env: { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN } });
    git(['init', '-q', '-b', 'main']);
  });
  afterAll(async () => {
    await server.stop();
    fs.rmSync(repo, { recursive: true, force: true });
  });

  it('lists HEAD first, then previous..HEAD with committer times, and the lead time follows', async () => {
    commit('one', '2026-11-20T10:00:00Z');
    const first = commit('two', '2026-11-21T10:00:00Z');
    expect(run('r1').status).toBe(0);
    const r1 = await deployment('r1');
    expect(r1.commit).toBe(first);
    expect(r1.events[0]?.commits).toEqual([{ sha: first, time: '2026-11-21T10:00:00.000Z' }]);

    const three = commit('three', '2026-11-22T10:00:00Z');
    const four = commit('four', '2026-11-23T10:00:00Z');
    expect(run('r2').status).toBe(0);
    const r2 = await deployment('r2');
    expect(r2.commit).toBe(four);
    expect(r2.events[0]?.commits).toEqual([
      { sha: four, time: '2026-11-23T10:00:00.000Z' },
      { sha: three, time: '2026-11-22T10:00:00.000Z' },
    ]);

    const metrics = spawnSync(
      process.execPath,
      [BIN, 'metrics', 'dora', '--env', 'production', '--service', 'api', '--json'],
      {
        env: { ...process.env, SHIPLOG_URL: server.url, SHIPLOG_TOKEN: TOKEN },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(metrics.status, metrics.stderr).toBe(0);
    const figures = JSON.parse(metrics.stdout) as { leadTime: { count: number; medianMs: number } };
    // Two changes, each measured from its earliest commit: at least the days since those commits.
    expect(figures.leadTime.count).toBe(2);
    expect(figures.leadTime.medianMs).toBeGreaterThan(
      Date.now() - Date.parse('2026-11-22T10:00:00Z') - 60_000,
    );
  });

  it('records no commits with --no-commits, and none outside a git work tree', async () => {
    const out = spawnSync(
      process.execPath,
      [
        BIN,
        'run',
        '--service',
        'api',
        '--env',
        'production',
        '--version',
        'r3',
        '--deployment',
        'r3',
        '--no-commits',
        '--',
        'true',
      ],
      {
        env: { ...process.env, SHIPLOG_URL: server.url, SHIPLOG_TOKEN: TOKEN, SHIPLOG_SPOOL: spool },
        encoding: 'utf8',
      },
    );
    expect(out.status).toBe(0);
    expect((await deployment('r3')).events[0]?.commits).toBeUndefined();
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-nogit-'));
    const plain = spawnSync(
      process.execPath,
      [
        BIN,
        'run',
        '--service',
        'api',
        '--env',
        'production',
        '--version',
        'r4',
        '--deployment',
        'r4',
        '--repo',
        elsewhere,
        '--',
        'true',
      ],
      {
        env: { ...process.env, SHIPLOG_URL: server.url, SHIPLOG_TOKEN: TOKEN, SHIPLOG_SPOOL: spool },
        encoding: 'utf8',
      },
    );
    expect(plain.status).toBe(0);
    expect((await deployment('r4')).events[0]?.commits).toBeUndefined();
    fs.rmSync(elsewhere, { recursive: true, force: true });
  });
});
