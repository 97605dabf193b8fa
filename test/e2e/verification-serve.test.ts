/**
 * `shiplog serve --config` with `alerts.suppression` and `verification:` end to end: the real
 * server process, the real Alertmanager, and a small service answering its version. A
 * deployment that starts is silenced at Alertmanager (read back through its API), and once it
 * succeeds its verification runs on the leader and shows on the deployment.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { startAlertmanager, waitFor, type Running } from '../helpers/monitoring.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const TOKEN = 'serve-verification-admin';

describe.each(DIALECTS)('shiplog serve with suppression and verification (%s)', (dialect) => {
  let database: TestDatabase;
  let am: Running;
  let shiplog: ServerProcess;
  let service: http.Server;

  beforeAll(async () => {
    service = http.createServer((_request, response) => response.end('{"version":"3.1.0"}'));
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    am = await startAlertmanager('route: {receiver: none}\nreceivers: [{name: none}]\n');
    database = await freshDatabase(dialect);
    const config = path.join(database.dataDir, 'shiplog.yaml');
    fs.writeFileSync(
      config,
      `alerts:
  suppression:
    alertmanager: {url: ${am.url}, grace: 0}
verification:
  - name: version-answered
    match: {environment: production}
    http: {url: '${serviceUrl}/{{service}}/version', expectBody: '{{version}}'}
    interval: 1s
    count: 2
`,
    );
    shiplog = await startServerProcess({
      dataDir: database.dataDir,
      env: { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN },
      args: ['--config', config, ...(database.databaseUrl ? ['--database', database.databaseUrl] : [])],
    });
  });

  afterAll(async () => {
    await shiplog?.stop();
    await am?.stop();
    await new Promise((resolve) => service?.close(resolve));
    await database?.destroy();
  });

  const api = async <T>(url: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${shiplog.url}${url}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return (await response.json()) as T;
  };
  const event = (type: string) =>
    api('/v1/events', {
      type,
      deployment: 'rel-7',
      service: 'orders',
      environment: 'production',
      version: '3.1.0',
    });

  it('silences the deploying service at Alertmanager, then verifies it', async () => {
    await event('deployment.started');
    const silence = await waitFor('the silence', async () => {
      const page = await api<{ items: { silenceId: string; state: string }[] }>('/v1/silences');
      return page.items.find((s) => s.state === 'active');
    });
    const atAm = (await (await fetch(`${am.url}/api/v2/silence/${silence.silenceId}`)).json()) as {
      status: { state: string };
      matchers: { name: string; value: string }[];
    };
    expect(atAm.status.state).toBe('active');
    expect(atAm.matchers.map((m) => `${m.name}=${m.value}`)).toEqual(
      expect.arrayContaining(['service=orders', 'environment=production']),
    );

    await event('deployment.succeeded');
    const verification = await waitFor('the verification', async () => {
      const detail = await api<{ verification: { status: string; checks: { count: number }[] } | null }>(
        '/v1/deployments/rel-7',
      );
      return detail.verification?.status === 'passed' ? detail.verification : undefined;
    });
    expect(verification.checks[0]?.count).toBe(2);
    await waitFor('the silence to end', async () => {
      const page = await api<{ items: { state: string }[] }>('/v1/silences?state=ended');
      return page.items.length === 1 ? true : undefined;
    });
  });
});
