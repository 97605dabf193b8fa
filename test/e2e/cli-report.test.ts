/**
 * `shiplog report` and `shiplog verify --bundle` as a user runs them: the built CLI against a
 * real server on a real port, with `reports.timeZone` from its configuration file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const TOKEN = 'report-admin-token';

describe('shiplog report', () => {
  let server: ServerProcess;
  let auditor: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-report-cli-'));
  const shiplog = (args: string[], token = auditor) =>
    spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, SHIPLOG_URL: server.url, SHIPLOG_TOKEN: token },
      encoding: 'utf8',
      timeout: 60_000,
    });

  beforeAll(async () => {
    const config = path.join(dir, 'shiplog.yaml');
    fs.writeFileSync(config, 'reports:\n  timeZone: Asia/Tokyo\n');
    server = await startServerProcess({
      env: { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN },
      args: ['--config', config],
    });
    const created = spawnSync(
      process.execPath,
      [BIN, 'token', 'create', '--name', 'auditor-ann', '--role', 'auditor'],
      {
        env: { ...process.env, SHIPLOG_URL: server.url, SHIPLOG_TOKEN: TOKEN },
        encoding: 'utf8',
      },
    );
    auditor = created.stdout.trim();
    const events = [
      // 2026-10-31T16:00Z is 1 November, 01:00 in Tokyo.
      {
        type: 'deployment.started',
        deployment: 'cli-1',
        service: 'api',
        environment: 'production',
        version: '1',
        time: '2026-10-31T16:00:00Z',
      },
      {
        type: 'deployment.succeeded',
        deployment: 'cli-1',
        service: 'api',
        environment: 'production',
        time: '2026-10-31T16:05:00Z',
      },
      {
        type: 'deployment.started',
        deployment: 'cli-2',
        service: 'web',
        environment: 'production',
        version: '2',
        time: '2026-11-15T09:00:00Z',
      },
    ];
    const response = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(response.status).toBe(201);
  });
  afterAll(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the month in each format, bounded in the configured zone', () => {
    const csv = path.join(dir, 'audit.csv');
    const run = shiplog(['report', 'audit', '--month', '2026-11', '--format', 'csv', '-o', csv]);
    expect(run.stderr).toContain(`wrote ${csv}`);
    expect(run.status).toBe(0);
    const records = parse(fs.readFileSync(csv, 'utf8')) as string[][];
    expect(records.slice(1).map((r) => r[0])).toEqual(['cli-1', 'cli-2']);

    const pdf = path.join(dir, 'audit.pdf');
    expect(
      shiplog(['report', 'audit', '--month', '2026-11', '--env', 'production', '--format', 'pdf', '-o', pdf])
        .status,
    ).toBe(0);
    const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
    expect(text).toContain('cli-1');
    expect(text).toContain('Asia/Tokyo');

    const json = shiplog(['report', 'audit', '--month', '2026-11']);
    expect(JSON.parse(json.stdout).report.from).toBe('2026-10-31T15:00:00.000Z');
  });

  it('pulls the evidence bundle and verifies it offline; a damaged one exits 1 naming the problem', () => {
    const bundle = path.join(dir, 'audit.tar.gz');
    expect(shiplog(['report', 'audit', '--month', '2026-11', '--bundle', '-o', bundle]).status).toBe(0);
    const ok = shiplog(['verify', '--bundle', bundle]);
    expect(ok.stdout).toMatch(/^ok: production 2026-11: 2 rows, \d+ cited entries proven/);
    expect(ok.status).toBe(0);
    const key = execFileSync(
      'curl',
      ['-sf', '-H', `Authorization: Bearer ${auditor}`, `${server.url}/v1/ledger/key`],
      {
        encoding: 'utf8',
      },
    ).trim();
    expect(shiplog(['verify', '--bundle', bundle, '--key', key]).status).toBe(0);

    const damaged = path.join(dir, 'damaged.tar.gz');
    const bytes = fs.readFileSync(bundle);
    fs.writeFileSync(damaged, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const bad = shiplog(['verify', '--bundle', damaged]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('bundle_malformed');
  });

  it('refuses a viewer (403) and bad options (exit 2)', async () => {
    const viewer = spawnSync(
      process.execPath,
      [BIN, 'token', 'create', '--name', 'vic', '--role', 'viewer'],
      {
        env: { ...process.env, SHIPLOG_URL: server.url, SHIPLOG_TOKEN: TOKEN },
        encoding: 'utf8',
      },
    ).stdout.trim();
    const refused = shiplog(['report', 'access'], viewer);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('403');
    expect(shiplog(['report', 'audit', '--month', '2026-1']).status).toBe(2);
    expect(shiplog(['report', 'audit', '--month', '2026-11', '--format', 'pdf']).status).toBe(2);
    const access = shiplog(['report', 'access', '--format', 'csv']);
    expect(access.stdout.split('\r\n')[0]).toBe(
      'id,name,role,services,environments,createdBy,createdAt,revokedAt,lastUsedAt,usesLast90Days,findings',
    );
  });
});
