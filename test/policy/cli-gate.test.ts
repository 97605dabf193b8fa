/**
 * `shiplog gate`, `shiplog approve` and `shiplog reject` against a real server on a real port:
 * exit 0 on allow, 1 on deny, every reason printed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadRuntimeConfig } from '../../src/config.js';
import { startServer } from '../../src/server/serve.js';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { CONFIG, GOVERNANCE_YAML } from './policy-config.js';

/** Runs the CLI in-process; returns its exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  process.exitCode = 0;
  try {
    await main(['node', 'shiplog', ...args]);
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out, err };
}

afterEach(() => {
  process.exitCode = 0;
});

describe.each(DIALECTS)('shiplog gate on %s', (dialect) => {
  let t: TestApp;
  let url: string;
  let approver: string;
  beforeAll(async () => {
    t = await testApp(dialect, { policy: CONFIG.policy, kubernetes: CONFIG.kubernetes });
    url = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    approver = (
      (await t.call('POST', '/v1/tokens', { name: 'carol', role: 'approver' })).json() as { token: string }
    ).token;
  });
  afterAll(async () => t.close());

  const gateArgs = (deployment: string, ...more: string[]) => [
    'gate',
    '--service',
    'checkout-api',
    '--env',
    'production',
    '--version',
    '1.0.0',
    '--deployment',
    deployment,
    '--url',
    url,
    '--token',
    ADMIN,
    ...more,
  ];

  it('exits 1 on deny printing every reason, 0 on allow after `shiplog approve`', async () => {
    const deployment = `cli-${dialect}-1`;
    await t.call('POST', '/v1/events', {
      type: 'deployment.requested',
      deployment,
      service: 'checkout-api',
      environment: 'production',
      version: '1.0.0',
      actor: 'alice',
    });
    const denied = await cli(...gateArgs(deployment));
    expect(denied.code).toBe(1);
    expect(denied.out).toContain('denied');
    expect(denied.out).toContain('ticket_missing: a change ticket is required');
    expect(denied.out).toContain('approval_missing: 0 of 1 approvals of 1.0.0');

    const approved = await cli('approve', deployment, '--comment', 'ok', '--url', url, '--token', approver);
    expect(approved.code).toBe(0);
    expect(approved.out).toContain('approved');

    const allowed = await cli(...gateArgs(deployment, '--ticket', 'OPS-42'));
    expect(allowed.code).toBe(0);
    expect(allowed.out).toMatch(/allowed\n\s+decision gate_/);
  });

  it('what-if with --at, --json, reject, and exit 1 when the token is refused', async () => {
    const deployment = `cli-${dialect}-2`;
    await t.call('POST', '/v1/events', {
      type: 'deployment.requested',
      deployment,
      service: 'checkout-api',
      environment: 'production',
      version: '1.0.0',
      actor: 'alice',
    });
    const whatIf = await cli(...gateArgs(deployment, '--at', '2027-01-01T00:00:00Z', '--json'));
    expect(whatIf.code).toBe(1);
    expect(JSON.parse(whatIf.out)).toMatchObject({ allow: false, simulated: true, decisionId: null });

    const missingComment = await cli('reject', deployment, '--url', url, '--token', approver);
    expect(missingComment.code).not.toBe(0);
    const rejected = await cli('reject', deployment, '--comment', 'no', '--url', url, '--token', approver);
    expect(rejected.code).toBe(0);
    expect(rejected.out).toContain('rejected');
    expect((await cli(...gateArgs(deployment, '--ticket', 'OPS-1'))).out).toContain('approval_rejected');

    const badToken = await cli(...gateArgs(deployment).slice(0, -1), 'wrong');
    expect(badToken.code).toBe(1);
    expect(badToken.err).toContain('401');
    const unknown = await cli('approve', 'no-such-deployment', '--url', url, '--token', approver);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('404');
  });
});

describe('shiplog serve --config, end to end', () => {
  it('serves the policy from the file and gates with it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-serve-'));
    const file = path.join(dir, 'shiplog.yaml');
    fs.writeFileSync(file, GOVERNANCE_YAML);
    const config = loadRuntimeConfig(
      { config: file, data: path.join(dir, 'data'), port: 0, logLevel: 'silent' },
      { SHIPLOG_BOOTSTRAP_TOKEN: 'serve-admin' },
    );
    const running = await startServer(config);
    try {
      const policies = await fetch(`${running.url}/v1/policies`, {
        headers: { authorization: 'Bearer serve-admin' },
      });
      expect(((await policies.json()) as { environments: object }).environments).toHaveProperty('windowed');
      const denied = await cli(
        'gate',
        '--service=checkout-api',
        '--env=production',
        '--version=3.0.0',
        '--deployment=serve-1',
        `--url=${running.url}`,
        '--token=serve-admin',
      );
      expect(denied.code).toBe(1);
      const staging = await cli(
        'gate',
        '--service=checkout-api',
        '--env=staging',
        '--version=3.0.0',
        '--deployment=serve-2',
        `--url=${running.url}`,
        '--token=serve-admin',
      );
      expect(staging.code).toBe(0);
      expect(staging.out).toContain('advisory');
    } finally {
      await running.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
