/** Runs the README's five-minute tour, line by line as written, against a real server. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

describe('README', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({
      env: { SHIPLOG_BOOTSTRAP_TOKEN: 'dev-admin-token' },
      args: ['--log-level', 'info'],
    });
  });
  afterAll(async () => server.stop());

  it('shows exactly two set-up commands on its first screen', () => {
    const setup = readme.slice(readme.indexOf('## Set up'), readme.indexOf('## Five-minute tour'));
    const blocks = [...setup.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]?.trim());
    expect(blocks).toEqual(['npm ci && SHIPLOG_BOOTSTRAP_TOKEN=dev-admin-token npm start', 'npm test']);
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start).toContain(
      'serve',
    );
  });

  it('runs the tour as written', () => {
    const tour = /<!-- tour:start -->\n```sh\n([\s\S]*?)```\n<!-- tour:end -->/.exec(readme)?.[1];
    expect(tour).toBeDefined();
    const script = (tour as string).replaceAll('127.0.0.1:7350', `127.0.0.1:${server.port}`);
    const home = fs.mkdtempSync(path.join(server.dataDir, 'home-'));
    const out = execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: ROOT,
      env: { ...process.env, HOME: home, SHIPLOG_URL: '', SHIPLOG_TOKEN: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(out).toContain('"status":"stored"');
    expect(out).toContain('SHIPLOG_FORBIDDEN');
    expect(out).toContain('deploying...');
    expect(out).toMatch(/gha-1234\s+checkout-api\s+production\/eu-west-1\s+1\.42\.0\s+succeeded\s+alice/);
    expect(out).toMatch(/"current":\{"deployment":"gha-1234","version":"1.42.0"/);
    expect(out).toContain('"source":"team-a-ci"');
    expect(out).toMatch(/team-a-ci\s+deployer\s+\{"services":\["checkout-api"\]\}/);
    expect(out).toContain('no alerts');
    expect(out).not.toContain('dev-admin-token');
    expect(out).toMatch(/shiplog\.local\/ledger\n\d+\n[A-Za-z0-9+/=]{44}\n\n\u2014 /);
    expect(out).toContain('"deployment":"gha-1234"');
    expect(out).toContain(
      'deployment,service,environment,version,actor,startedAt,finishedAt,status,approvers',
    );
    expect(out).toMatch(/\ngha-1234,checkout-api,production,1\.42\.0,alice,/);
    expect(out).toMatch(/ok: production \d{4}-\d{2}: \d+ rows/);
    expect(out).toContain('"x-schema-version":"1"');
    expect(out).toMatch(
      /"suspects":\[\{"deployment":"gha-1234"[^}]*"reason":"same_service","withinWindow":true\}/,
    );
    expect(out).toMatch(/deployment frequency\s+0\.03\/day\s+medium\s+1 change in 30 days/);
    expect(out).toMatch(/change failure rate\s+100\.0%\s+low\s+1 failed of 1 change \(rollbacks excluded\)/);
    expect(out).toMatch(/id: \d+\nevent: incident\ndata: \{[^\n]*"INC-42"/);
  });

  it('logs every request as JSON and never a token', async () => {
    const admin = { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' };
    const created = await fetch(`${server.url}/v1/tokens`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'log-check', role: 'viewer' }),
    });
    const { token } = (await created.json()) as { token: string };
    await fetch(`${server.url}/v1/deployments`, { headers: { authorization: `Bearer ${token}` } });
    await fetch(`${server.url}/v1/deployments`, { headers: { authorization: `Bearer ${token}x` } });
    await new Promise((r) => setTimeout(r, 200));
    const logs = server.output();
    expect(logs).toMatch(/\{"level":30,[^\n]*"url":"\/v1\/tokens","status":201/);
    expect(logs).toMatch(/"url":"\/v1\/deployments","status":401/);
    expect(logs).not.toContain('dev-admin-token');
    expect(logs).not.toContain(token);
  });
});
