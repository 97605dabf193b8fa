/**
 * Security review finding 16: `shiplog run` dropped every spooled deployment on any 4xx, so a
 * wrong token lost the events spooled while shiplog was down. Against a real server on a real
 * port, through the CLI's own entry point.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';

const spooled = (id: string, service = 'checkout-api') => ({
  id,
  type: 'deployment.started',
  deployment: `spooled-${id}`,
  service,
  environment: 'staging',
  version: '1.0.0',
});

describe('the spool of shiplog run', () => {
  let t: TestApp;
  let url: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-spool-'));
  beforeAll(async () => {
    t = await testApp('sqlite');
    url = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function run(spoolFile: string, token: string, deployment: string) {
    process.env.SHIPLOG_SPOOL = spoolFile;
    let stderr = '';
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    try {
      process.exitCode = 0;
      await main([
        'node',
        'shiplog',
        'run',
        '--service',
        'checkout-api',
        '--env',
        'staging',
        '--version',
        '2.0.0',
        '--deployment',
        deployment,
        '--url',
        url,
        '--token',
        token,
        '--',
        process.execPath,
        '-e',
        '',
      ]);
    } finally {
      err.mockRestore();
      delete process.env.SHIPLOG_SPOOL;
    }
    const code = Number(process.exitCode ?? 0);
    process.exitCode = 0;
    return { code, stderr };
  }

  const lines = (file: string) =>
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('a wrong token keeps the spooled events', async () => {
    const spoolFile = path.join(dir, 'wrong-token.jsonl');
    fs.writeFileSync(spoolFile, `${JSON.stringify(spooled('a1'))}\n${JSON.stringify(spooled('a2'))}\n`);
    const { code, stderr } = await run(spoolFile, 'not-a-token', 'wrong-token-run');
    expect(code).toBe(0);
    expect(stderr).toContain(`kept 2 spooled event(s) in ${spoolFile}`);
    expect(lines(spoolFile).map((e) => e.id)).toEqual([
      'a1',
      'a2',
      'wrong-token-run/started',
      'wrong-token-run/finished',
    ]);

    // With the right token, everything goes through and the spool is gone.
    const again = await run(spoolFile, ADMIN, 'right-token-run');
    expect(again.stderr).toContain('resent 4 spooled event(s)');
    expect(fs.existsSync(spoolFile)).toBe(false);
    const stored = await t.call('GET', '/v1/deployments/spooled-a2');
    expect(stored.status).toBe(200);
  });

  it('moves only the events the server rejects for good to the rejected file, and says where', async () => {
    const spoolFile = path.join(dir, 'one-bad.jsonl');
    const bad = spooled('b2', 'Not A Service Name');
    fs.writeFileSync(
      spoolFile,
      [spooled('b1'), bad, spooled('b3')].map((e) => `${JSON.stringify(e)}\n`).join(''),
    );
    const { stderr } = await run(spoolFile, ADMIN, 'one-bad-run');
    expect(stderr).toContain(`rejected 1 spooled event(s) for good; moved them to ${spoolFile}.rejected`);
    expect(fs.existsSync(spoolFile)).toBe(false);
    const rejected = lines(`${spoolFile}.rejected`);
    expect(rejected).toEqual([{ event: bad, reason: expect.stringContaining('400') }]);
    expect((await t.call('GET', '/v1/deployments/spooled-b1')).status).toBe(200);
    expect((await t.call('GET', '/v1/deployments/spooled-b3')).status).toBe(200);
  });
});
