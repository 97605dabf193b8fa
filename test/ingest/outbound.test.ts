/**
 * Outbound CDEvents: stored events reach each configured sink as CloudEvents in binary mode,
 * retried with backoff; what a sink never accepts lands in the dead-letter list.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { rawSql } from '../helpers/raw-sql.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sinks: /flaky fails twice then accepts, /down always 503, /refuses answers 400. */
function sinkServer(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const calls = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '/';
      const key = `${path} ${String(req.headers['ce-id'])}`;
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      received.push({ path, headers: req.headers, body });
      const status =
        path === '/flaky' ? (n <= 2 ? 503 : 202) : path === '/down' ? 503 : path === '/refuses' ? 400 : 404;
      res.writeHead(status);
      res.end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        received,
        close: () => new Promise((done) => server.close(() => done())),
      });
    }),
  );
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.each(DIALECTS)('outbound CDEvents (%s)', (dialect) => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof sinkServer>>;
  beforeAll(async () => {
    sink = await sinkServer();
    t = await testApp(dialect, {
      webhooks: {
        outbound: {
          sinks: [
            { name: 'flaky', url: `${sink.url}/flaky`, token: 'sink-token' },
            { name: 'down', url: `${sink.url}/down` },
            { name: 'refuses', url: `${sink.url}/refuses` },
          ],
          source: '/shiplog/test',
          intervalMs: 20,
          maxAttempts: 3,
          backoffMs: () => 5,
        },
      },
    });
    await t.app.server.ready();
    // A sink starts at the end of the log when first seen: wait for that before recording.
    await until(
      async () => (await rawSql(t.store).selectFrom('outbound_sinks').select('sink').execute()).length === 3,
    );
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('forwards stored events in binary mode, retrying, and dead-letters what is never accepted', async () => {
    const events = [
      {
        id: 'out-1',
        type: 'deployment.started',
        deployment: 'out-d1',
        service: 'checkout-api',
        environment: 'production',
        version: '1.2.0',
        time: '2026-11-02T10:00:00Z',
      },
      {
        id: 'out-2',
        type: 'deployment.succeeded',
        deployment: 'out-d1',
        service: 'checkout-api',
        environment: 'production',
        time: '2026-11-02T10:05:00Z',
      },
    ];
    expect((await t.call('POST', '/v1/events', { events })).status).toBe(201);

    const accepted = () => sink.received.filter((r) => r.path === '/flaky').map((r) => r.headers['ce-id']);
    await until(() => accepted().filter((id) => id === 'out-2').length === 3);
    // Each event was tried until accepted on the third attempt, in order.
    expect(accepted()).toEqual(['out-1', 'out-1', 'out-1', 'out-2', 'out-2', 'out-2']);
    const deployed = sink.received
      .filter((r) => r.path === '/flaky' && r.headers['ce-id'] === 'out-2')
      .at(-1);
    expect(deployed?.headers).toMatchObject({
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-type': 'dev.cdevents.service.deployed.0.3.0',
      'ce-source': '/shiplog/test',
      'ce-subject': 'checkout-api',
      'ce-time': '2026-11-02T10:05:00.000Z',
      authorization: 'Bearer sink-token',
    });
    expect(JSON.parse(deployed?.body ?? '{}')).toMatchObject({
      context: { id: 'out-2', type: 'dev.cdevents.service.deployed.0.3.0', source: '/shiplog/test' },
      subject: { id: 'checkout-api', content: { environment: { id: 'production' } } },
      customData: { deployment: 'out-d1', type: 'deployment.succeeded' },
    });

    await until(async () => {
      const rows = await rawSql(t.store).selectFrom('outbound_dead_letters').select('id').execute();
      return rows.length === 4;
    });
    const down = (await t.call('GET', '/v1/webhooks/outbound/dead-letters?sink=down')).json() as {
      items: { eventId: string; attempts: number; lastError: string }[];
    };
    expect(down.items.map((i) => [i.eventId, i.attempts, i.lastError]).sort()).toEqual([
      ['out-1', 3, 'HTTP 503'],
      ['out-2', 3, 'HTTP 503'],
    ]);
    // A 400 is the sink refusing the event: no retries.
    const refused = (await t.call('GET', '/v1/webhooks/outbound/dead-letters?sink=refuses')).json() as {
      items: { attempts: number }[];
    };
    expect(refused.items.map((i) => i.attempts)).toEqual([1, 1]);
    const positions = await rawSql(t.store)
      .selectFrom('outbound_sinks')
      .select(['sink', 'last_seq'])
      .orderBy('sink')
      .execute();
    expect(new Set(positions.map((p) => Number(p.last_seq))).size).toBe(1);
  });
});
