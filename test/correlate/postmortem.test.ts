/**
 * The post-mortem timeline over HTTP and `shiplog postmortem` (the built CLI) on every dialect:
 * deployment events, an approval, a gate decision and the incident's changes, in order, each
 * with its ledger index, and the Markdown naming the top suspect and its reason.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config-file.js';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { BIN } from '../helpers/server-process.js';

const run = promisify(execFile);
const CONFIG = parseConfigFile(
  'environments:\n  production: {protected: true, approvals: 1}\nservices:\n  checkout-api: {dependsOn: [payments-db]}\n',
  'shiplog.yaml',
);

describe.each(DIALECTS)('post-mortem timeline (%s)', (dialect) => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await testApp(dialect, { policy: CONFIG.policy, services: CONFIG.services });
    url = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    const approver = (await t.call('POST', '/v1/tokens', { name: 'carol', role: 'approver' })).json() as {
      token: string;
    };
    const event = (type: string, deployment: string, service: string, extra = {}) =>
      t.call('POST', '/v1/events', {
        type,
        deployment,
        service,
        environment: 'production',
        version: '2.0.0',
        actor: 'alice',
        ...extra,
      });
    await event('deployment.requested', 'pm-1', 'checkout-api');
    expect(
      (await t.call('POST', '/v1/deployments/pm-1/approvals', { decision: 'approve' }, approver.token))
        .status,
    ).toBe(201);
    await t.call('POST', '/v1/gate', {
      deployment: 'pm-1',
      service: 'checkout-api',
      environment: 'production',
      version: '2.0.0',
    });
    await event('deployment.started', 'pm-1', 'checkout-api');
    await event('deployment.succeeded', 'pm-1', 'checkout-api');
    await event('deployment.succeeded', 'db-1', 'payments-db');
    await t.call('POST', '/v1/incidents', {
      key: 'PM-1',
      title: 'checkout 500s',
      service: 'checkout-api',
      environment: 'production',
      severity: 'sev1',
    });
    await t.call('POST', '/v1/incidents', {
      key: 'PM-1',
      status: 'resolved',
      title: 'checkout 500s',
      service: 'checkout-api',
    });
  });
  afterAll(async () => t.close());

  it('lists every fact of the service and its dependencies in order, each with its ledger index', async () => {
    const response = await t.call('GET', '/v1/incidents/PM-1/timeline?format=json');
    expect(response.status).toBe(200);
    const timeline = response.json() as {
      services: string[];
      topSuspect: { deployment: string; reason: string };
      items: { kind: string; what: string; who: string; ledgerIndex: number | null }[];
    };
    expect(timeline.services).toEqual(['checkout-api', 'payments-db']);
    expect(timeline.topSuspect).toMatchObject({ deployment: 'pm-1', reason: 'same_service' });
    expect(timeline.items.map((i) => i.kind)).toEqual([
      'deployment_event',
      'approval',
      'gate_decision',
      'deployment_event',
      'deployment_event',
      'deployment_event',
      'incident_change',
      'incident_change',
    ]);
    expect(timeline.items.filter((i) => typeof i.ledgerIndex !== 'number')).toEqual([]);
    const indexes = timeline.items.map((i) => i.ledgerIndex ?? -1);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(timeline.items[1]).toMatchObject({ who: 'carol', what: expect.stringContaining('approve pm-1') });
  });

  it('`shiplog postmortem KEY` prints the Markdown: heading, top suspect with its reason, table', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'postmortem', 'PM-1'], {
      env: { ...process.env, SHIPLOG_URL: url, SHIPLOG_TOKEN: ADMIN },
    });
    expect(stdout).toMatch(/^## Incident PM-1: checkout 500s\n/);
    expect(stdout).toContain(
      'Top suspect: deployment `pm-1` (checkout-api 2.0.0 to production), reason `same_service`',
    );
    expect(stdout).toContain('| time (UTC) | what | who | ledger |');
    expect(stdout).toMatch(
      /\| deployment\.succeeded db-1: payments-db 2\.0\.0 to production \| alice \| \d+ \|/,
    );
    const md = await fetch(`${url}/v1/incidents/PM-1/timeline?format=md`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(md.headers.get('content-type')).toContain('text/markdown');
    expect(await md.text()).toBe(stdout);
    await expect(
      run(process.execPath, [BIN, 'postmortem', 'NOPE'], {
        env: { ...process.env, SHIPLOG_URL: url, SHIPLOG_TOKEN: ADMIN },
      }),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('404 SHIPLOG_NOT_FOUND') });
  });
});
