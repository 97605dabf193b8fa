/**
 * Alerts over real HTTP, on each database: the built `shiplog serve` with a config file, a
 * stand-in PagerDuty (Events API v2) and a webhook receiver that never answers. A failing
 * production deployment pages the first escalation level, the escalation reaches the second
 * level after its (shortened) delay, `shiplog alerts --ack` acknowledges, and the next good
 * deployment resolves the page at both levels with the same dedup_key.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { BIN, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { pdOf, startStandIn, type RecordedRequest, type StandIn } from '../helpers/standin.js';

const TOKEN = 'alerts-e2e-admin';

describe.each(DIALECTS)('alerts end to end (%s)', (dialect) => {
  let pagerduty: StandIn;
  let hook: StandIn;
  let database: TestDatabase;
  let server: ServerProcess;
  let dir: string;

  beforeAll(async () => {
    [pagerduty, hook] = await Promise.all([startStandIn(), startStandIn()]);
    hook.answer = () => ({ hang: true });
    database = await freshDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-alerts-e2e-'));
    const config = path.join(dir, 'shiplog.yaml');
    fs.writeFileSync(
      config,
      `alerts:
  rules:
    - {name: prod-failed, when: deployment_failed, match: {environment: production}, severity: critical}
  route:
    receiver: oncall
    group_by: [service, environment]
    group_wait: 1s
    routes:
      - {matchers: ['severity="critical"'], receiver: oncall, continue: true}
      - {matchers: ['severity="critical"'], receiver: audit-hook}
  receivers:
    - {name: oncall, pagerduty: {routingKeyEnv: PD_ONCALL_KEY, url: '${pagerduty.url}/v2/enqueue'}}
    - {name: primary, pagerduty: {routingKeyEnv: PD_PRIMARY_KEY, url: '${pagerduty.url}/v2/enqueue'}}
    - {name: secondary, pagerduty: {routingKeyEnv: PD_SECONDARY_KEY, url: '${pagerduty.url}/v2/enqueue'}}
    - {name: audit-hook, webhook: {url: '${hook.url}/hook', secretEnv: HOOK_SECRET}}
  escalation:
    oncall: {levels: [{after: 0s, receiver: primary}, {after: 3s, receiver: secondary}]}
`,
    );
    server = await startServerProcess({
      dataDir: database.dataDir,
      args: ['--config', config],
      env: {
        SHIPLOG_BOOTSTRAP_TOKEN: TOKEN,
        PD_ONCALL_KEY: 'key-oncall',
        PD_PRIMARY_KEY: 'key-primary',
        PD_SECONDARY_KEY: 'key-secondary',
        HOOK_SECRET: 'hook-secret',
        ...(database.databaseUrl === undefined ? {} : { SHIPLOG_DATABASE_URL: database.databaseUrl }),
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
    await Promise.all([pagerduty?.close(), hook?.close()]);
    await database?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function post(body: Record<string, unknown>, retried = false): Promise<number> {
    const response = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'checkout', environment: 'production', version: '2.0.0', ...body }),
    }).catch((error: unknown) => {
      // A kept-alive connection the server closed meanwhile (its keep-alive timeout): once more.
      if (retried) throw new Error(`${String(error)}\n${server.output()}`);
      return undefined;
    });
    return response ? response.status : post(body, true);
  }

  function cli(...args: string[]) {
    const run = spawnSync(process.execPath, [BIN, 'alerts', ...args], {
      env: { ...process.env, SHIPLOG_URL: server.url, SHIPLOG_TOKEN: TOKEN },
      encoding: 'utf8',
    });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  it('pages, escalates after the delay, is acknowledged and resolves', async () => {
    expect(await post({ id: 'e1', type: 'deployment.started', deployment: 'co-1' })).toBe(201);
    expect(await post({ id: 'e2', type: 'deployment.failed', deployment: 'co-1' })).toBe(201);

    const [trigger] = await pagerduty.waitFor(1, (r) => pdOf(r).routing_key === 'key-primary');
    const page = pdOf(trigger as RecordedRequest);
    expect(trigger?.path).toBe('/v2/enqueue');
    expect(page).toMatchObject({ event_action: 'trigger' });
    expect(page.payload).toMatchObject({ severity: 'critical', component: 'checkout', group: 'production' });
    const dedupKey = page.dedup_key;
    // The webhook receiver hangs; the page went out all the same, and ingest still answers.
    await hook.waitFor(1);
    expect(
      await post({ id: 'e3', type: 'deployment.started', deployment: 'other-1', service: 'search' }),
    ).toBe(201);

    const [escalated] = await pagerduty.waitFor(1, (r) => pdOf(r).routing_key === 'key-secondary');
    expect(pdOf(escalated as RecordedRequest)).toMatchObject({
      event_action: 'trigger',
      dedup_key: dedupKey,
    });

    const listed = cli('--status', 'firing', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const alerts = (JSON.parse(listed.stdout) as { items: { id: string; rule: string }[] }).items;
    expect(alerts.map((a) => a.id)).toEqual([dedupKey]);
    const table = cli();
    expect(table.stdout).toContain('prod-failed');
    const acked = cli('--ack', dedupKey);
    expect(acked.code, acked.stderr).toBe(0);
    expect(acked.stdout).toContain(`acknowledged ${dedupKey}`);
    expect(cli('--ack', 'alt_unknown').code).not.toBe(0);

    expect(await post({ id: 'e4', type: 'deployment.started', deployment: 'co-2' })).toBe(201);
    expect(await post({ id: 'e5', type: 'deployment.succeeded', deployment: 'co-2' })).toBe(201);
    const resolves = await pagerduty.waitFor(
      2,
      (r) => pdOf(r).event_action === 'resolve' && pdOf(r).dedup_key === dedupKey,
    );
    expect(resolves.map((r) => pdOf(r).routing_key).sort()).toEqual(['key-primary', 'key-secondary']);
    const resolved = cli('--status', 'resolved', '--json');
    expect((JSON.parse(resolved.stdout) as { items: { id: string }[] }).items.map((a) => a.id)).toEqual([
      dedupKey,
    ]);
  }, 60_000);
});
