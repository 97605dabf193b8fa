/**
 * GET /v1/stream (DESIGN.md §12): every committed deployment event, approval, gate decision and
 * incident arrives as a Server-Sent Event whose id is its ledger index; Last-Event-ID resumes
 * without loss; filters apply; closing the server ends the streams; and on PostgreSQL a client
 * of one replica sees the writes of another.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/server/app.js';
import type { Store } from '../../src/store/database.js';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { connectSse, type SseClient } from '../helpers/sse.js';

async function listen(app: App): Promise<string> {
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

async function post(base: string, path: string, body: unknown, token = ADMIN): Promise<number> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

const started = (deployment: string, service = 'checkout-api', environment = 'staging') => ({
  type: 'deployment.started',
  deployment,
  service,
  environment,
  version: '1.0.0',
  actor: 'alice',
});

describe.each(DIALECTS)('live stream (%s)', (dialect) => {
  let t: TestApp | undefined;
  const clients: SseClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await t?.close();
    t = undefined;
  });

  async function open(base: string, query = '', headers: Record<string, string> = {}) {
    const auth: Record<string, string> =
      headers.cookie === undefined ? { authorization: `Bearer ${ADMIN}` } : {};
    const client = await connectSse(`${base}/v1/stream${query}`, { ...auth, ...headers });
    clients.push(client);
    return client;
  }

  it('sends each committed write once, with its ledger index as id, and resumes from Last-Event-ID without loss', async () => {
    t = await testApp(dialect);
    const base = await listen(t.app);
    const live = await open(base);
    expect(live.status).toBe(200);
    expect(await post(base, '/v1/events', started('d-1'))).toBe(201);
    const first = await live.waitFor((e) => e.event === 'deployment');
    expect(JSON.parse(first.data)).toMatchObject({ deployment: 'd-1', service: 'checkout-api' });
    expect(Number(first.id)).toBeGreaterThanOrEqual(0);
    live.close();

    // While nobody listens: more events and an incident.
    expect(await post(base, '/v1/events', started('d-2'))).toBe(201);
    expect(await post(base, '/v1/events', started('d-3', 'billing'))).toBe(201);
    expect(
      await post(base, '/v1/incidents', {
        key: 'INC-1',
        title: 'errors',
        service: 'checkout-api',
        severity: 'sev2',
      }),
    ).toBe(201);

    const resumed = await open(base, '', { 'last-event-id': first.id ?? '' });
    await resumed.waitFor((e) => e.event === 'incident');
    const keys = resumed.events.map((e) => JSON.parse(e.data) as { deployment?: string; key?: string });
    expect(keys.map((k) => k.deployment ?? k.key)).toEqual(['d-2', 'd-3', 'INC-1']);
    const ids = resumed.events.map((e) => Number(e.id));
    expect(ids.every((id, i) => id > Number(first.id) && (i === 0 || id > (ids[i - 1] as number)))).toBe(
      true,
    );

    // Live again after the catch-up.
    expect(await post(base, '/v1/events', started('d-4'))).toBe(201);
    await resumed.waitFor((e) => e.data.includes('"d-4"'));
  });

  it('applies the service and event filters, and refuses an unknown event name', async () => {
    t = await testApp(dialect);
    const base = await listen(t.app);
    const filtered = await open(base, '?service=billing&events=deployment');
    expect(await post(base, '/v1/events', started('a-1', 'checkout-api'))).toBe(201);
    expect(await post(base, '/v1/events', started('b-1', 'billing'))).toBe(201);
    await filtered.waitFor((e) => e.data.includes('"b-1"'));
    expect(filtered.events.map((e) => (JSON.parse(e.data) as { service: string }).service)).toEqual([
      'billing',
    ]);
    const bad = await fetch(`${base}/v1/stream?events=nope`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { details: { path: string }[] } }).error.details[0]?.path).toBe(
      'events',
    );
  });

  it('needs a token or a session, and accepts the session cookie', async () => {
    t = await testApp(dialect);
    const base = await listen(t.app);
    const anonymous = await fetch(`${base}/v1/stream`);
    expect(anonymous.status).toBe(401);
    const viaCookie = await open(base, '', { cookie: `shiplog_session=${ADMIN}` });
    expect(viaCookie.status).toBe(200);
    expect(await post(base, '/v1/events', started('c-1'))).toBe(201);
    await viaCookie.waitFor((e) => e.data.includes('"c-1"'));
  });

  it('disconnects a client that stops reading (bounded memory) and keeps serving the others', async () => {
    t = await testApp(dialect);
    const base = await listen(t.app);
    const { port } = new URL(base);
    const stalled = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => stalled.once('connect', resolve));
    stalled.write(`GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`);
    stalled.pause(); // never reads: the server's buffer for it would grow without a bound
    const reader = await open(base, '?events=deployment');
    while (t.app.hub.clientCount < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    // About 2 KB per event: 8 labels of 250 characters (each label at most 256).
    const labels = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`pad${i}`, 'x'.repeat(250)]));
    for (let batch = 0; batch < 20 && t.app.hub.clientCount > 1; batch += 1) {
      const events = Array.from({ length: 300 }, (_, i) => ({
        ...started(`big-${batch}-${i}`),
        labels,
      }));
      expect(await post(base, '/v1/events', { events })).toBe(201);
      await reader.waitFor((e) => e.data.includes(`"big-${batch}-299"`), 30_000);
    }
    expect(t.app.hub.clientCount).toBe(1);
    expect(reader.events.length).toBeGreaterThanOrEqual(300);
    stalled.destroy();
  });

  it('deflates the stream for a client that accepts it, once for all, and ends it as a whole zlib stream', async () => {
    t = await testApp(dialect);
    const base = await listen(t.app);
    const plain = await open(base, '?events=deployment');
    const deflated = await Promise.all([
      open(base, '?events=deployment', { 'accept-encoding': 'gzip, deflate, br' }),
      open(base, '?events=deployment', { 'accept-encoding': 'deflate;q=0.5' }),
    ]);
    const refused = await open(base, '?events=deployment', { 'accept-encoding': 'gzip, deflate;q=0' });
    expect(plain.encoding).toBeUndefined();
    expect(refused.encoding).toBeUndefined();
    expect(deflated.map((c) => c.encoding)).toEqual(['deflate', 'deflate']);
    expect(await post(base, '/v1/events', started('z-1'))).toBe(201);
    expect(await post(base, '/v1/events', { events: [started('z-2'), started('z-3', 'billing')] })).toBe(201);
    for (const client of [plain, refused, ...deflated]) await client.waitFor((e) => e.data.includes('"z-3"'));
    for (const client of deflated) expect(client.events).toEqual(plain.events);
    // Resuming compressed: the catch-up is deflated too.
    const first = plain.events[0]?.id ?? '';
    const resumed = await open(base, '', { 'accept-encoding': 'deflate', 'last-event-id': first });
    await resumed.waitFor((e) => e.data.includes('"z-3"'));
    expect(resumed.events.map((e) => e.id)).toEqual(plain.events.slice(1).map((e) => e.id));
    // The server's end is the zlib stream's end: trailer and Adler-32 check out.
    await t.app.server.close();
    await Promise.all([...deflated, resumed].map((c) => c.ended));
    expect([...deflated, resumed].flatMap((c) => c.errors.map(String))).toEqual([]);
  });

  it('ends every stream when the server closes', async () => {
    t = await testApp(dialect);
    const base = await listen(t.app);
    const streams = await Promise.all([open(base), open(base), open(base)]);
    await t.app.server.close();
    await Promise.all(streams.map((s) => s.ended));
    expect(t.app.hub.clientCount).toBe(0);
  });

  if (dialect === 'postgres') {
    it("shows a client of one replica every other replica's writes (LISTEN/NOTIFY)", async () => {
      t = await testApp(dialect);
      const other: Store = await t.database.open();
      const replica = await buildApp({ store: other });
      try {
        const baseA = await listen(t.app);
        const baseB = await listen(replica);
        const onB = await open(baseB);
        expect(await post(baseA, '/v1/events', started('r-1'))).toBe(201);
        const seen = await onB.waitFor((e) => e.data.includes('"r-1"'));
        expect(seen.event).toBe('deployment');
      } finally {
        await replica.server.close();
        await other.close();
      }
    });
  }
});
