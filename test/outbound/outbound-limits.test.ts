/**
 * Security review findings 12 and 14. 12: answers of services shiplog calls were read with no
 * size cap (a 300 MB Jira answer killed the server; a streaming CDEvents sink grew it to
 * 4.6 GB). 14: a hung sink cost ~29 s per event, serially, for every sink. The stand-ins here
 * answer 200 and then stream without end, or never answer at all.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createTicketChecker } from '../../src/governance/ticket-check.js';
import { createCdeventsForwarder } from '../../src/outbound/cdevents-forwarder.js';
import { OutboundError, callOut } from '../../src/outbound/http-client.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { rawSql } from '../helpers/raw-sql.js';

interface Endless {
  readonly url: string;
  /** Bytes written to all clients so far. */
  written(): number;
  /** Requests received, by path. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

/**
 * `/stream`: 200, then JSON-ish bytes until the client goes away. `/huge`: announces 300 MB.
 * `/trickle`: 200, then a byte every 50 ms. `/hang`: never answers. `/ok`: 202 at once.
 */
async function endless(): Promise<Endless> {
  let written = 0;
  const hits = new Map<string, number>();
  const chunk = Buffer.from(`{"pad":"${'x'.repeat(64 * 1024)}"},`);
  const server = http.createServer(function endlessAnswer(req, res) {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    req.resume();
    if (path.endsWith('/hang')) return;
    if (path.endsWith('/trickle')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write(' ')), 50);
      return;
    }
    if (path.endsWith('/ok')) {
      res.writeHead(202).end();
      return;
    }
    if (path.endsWith('/huge')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(300 * 1024 * 1024) });
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
    }
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) written += chunk.length;
    };
    res.on('drain', pump);
    res.write('[');
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    written: () => written,
    hits,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const LONG = 60_000;

describe('outbound answers are capped', () => {
  let stand: Endless;
  beforeAll(async () => {
    stand = await endless();
  });
  afterAll(async () => stand.close());

  it('an endless answer stops at the cap, whatever the deadline', async () => {
    const error = await callOut(`${stand.url}/stream`, { timeoutMs: LONG, maxBytes: 1024 * 1024 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutboundError);
    expect(error).toMatchObject({ kind: 'too_large', message: 'the answer is larger than 1048576 bytes' });
    const announced = await callOut(`${stand.url}/huge`, { timeoutMs: LONG, maxBytes: 1024 }).catch(
      (e: unknown) => e,
    );
    expect(announced).toMatchObject({ kind: 'too_large' });
  });

  it('a deadline covers the body, not only the head', async () => {
    const error = await callOut(`${stand.url}/trickle`, { timeoutMs: 300, maxBytes: 1024 * 1024 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'timeout', message: 'no complete answer within 300 ms' });
  });

  it('a 300 MB Jira answer is a denied gate, not a dead server', async () => {
    const checker = createTicketChecker(
      {
        provider: 'jira',
        url: `${stand.url}/huge`,
        environments: ['production'],
        allowedStates: ['Approved'],
        timeoutMs: LONG,
      },
      { maxBytes: 64 * 1024 },
    );
    const verdict = await checker.check('OPS-1');
    expect(verdict).toMatchObject({ ok: false, reason: { code: 'ticket_unverified' } });
    expect(!verdict.ok && verdict.reason.message).toContain('larger than 65536 bytes');
  });

  it('an endless Jira stream is cut at the cap', async () => {
    const checker = createTicketChecker(
      {
        provider: 'jira',
        url: `${stand.url}/stream`,
        environments: ['production'],
        allowedStates: ['Approved'],
        timeoutMs: LONG,
      },
      { maxBytes: 256 * 1024 },
    );
    const verdict = await checker.check('OPS-2');
    expect(!verdict.ok && verdict.reason.message).toContain('larger than 262144 bytes');
  });

  it('shiplog sync stops reading a provider page at the cap', async () => {
    process.env.SHIPLOG_OUTBOUND_MAX_BYTES = String(512 * 1024);
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
        'sync',
        'github',
        '--repo',
        'octo/stream',
        '--since',
        '7d',
        '--api-url',
        stand.url,
        '--url',
        'http://127.0.0.1:1',
      ]);
    } finally {
      err.mockRestore();
      delete process.env.SHIPLOG_OUTBOUND_MAX_BYTES;
    }
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
    expect(stderr).toMatch(/deployments: the answer is larger than 524288 bytes/);
  });
});

describe.each(DIALECTS)('CDEvents forwarding to bad sinks (%s)', (dialect) => {
  let stand: Endless;
  let t: TestApp;
  beforeAll(async () => {
    stand = await endless();
    t = await testApp(dialect);
  });
  afterAll(async () => {
    await t.close();
    await stand.close();
  });

  const event = (n: number) => ({
    id: `bad-sink-${dialect}-${n}`,
    type: 'deployment.started',
    deployment: `bad-sink-${n}`,
    service: 'checkout-api',
    environment: 'production',
    version: '1.0.0',
  });

  it('a sink that accepts and then streams without end gets its events, read no further', async () => {
    const forwarder = createCdeventsForwarder(t.store, [{ name: 'streams', url: `${stand.url}/stream` }], {
      timeoutMs: LONG,
      maxAttempts: 1,
    });
    await forwarder.tick(); // the sink starts at the end of the log
    expect((await t.call('POST', '/v1/events', { events: [event(1), event(2)] })).status).toBe(201);
    expect(await forwarder.tick()).toBe(2);
    const dead = await rawSql(t.store).selectFrom('outbound_dead_letters').select('id').execute();
    expect(dead).toHaveLength(0);
    expect(await forwarder.status()).toEqual([{ sink: 'streams', backlog: 0, circuitOpen: false }]);
  });

  it('a hung sink is parked by its circuit breaker, does not hold up the others, and its backlog shows in /metrics', async () => {
    const app = await testApp(dialect, {
      webhooks: {
        outbound: {
          sinks: [
            { name: 'hung', url: `${stand.url}/hang` },
            { name: 'healthy', url: `${stand.url}/ok` },
          ],
          intervalMs: 20,
          timeoutMs: 200,
          maxAttempts: 2,
          backoffMs: () => 5,
          circuitFailures: 2,
          circuitCooldownMs: LONG,
        },
      },
    });
    try {
      await app.app.server.ready();
      const until = async (condition: () => Promise<boolean>) => {
        while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 25));
      };
      await until(
        async () =>
          (await rawSql(app.store).selectFrom('outbound_sinks').select('sink').execute()).length === 2,
      );
      const before = stand.hits.get('/ok') ?? 0;
      const events = Array.from({ length: 6 }, (_, i) => event(10 + i));
      expect((await app.call('POST', '/v1/events', { events })).status).toBe(201);
      await until(async () => (stand.hits.get('/ok') ?? 0) - before === 6);
      const metric = async () => (await app.app.server.inject({ method: 'GET', url: '/metrics' })).body;
      await until(async () => {
        const text = await metric();
        return (
          text.includes('shiplog_outbound_circuit_open{sink="hung"} 1') &&
          text.includes('shiplog_outbound_backlog_events{sink="hung"} 4')
        );
      });
      const text = await metric();
      // Two events used all their attempts and were dead-lettered; then the sink was parked
      // and the other four wait, counted, instead of costing every retry each.
      const dead = await rawSql(app.store).selectFrom('outbound_dead_letters').select('sink').execute();
      expect(dead.map((d) => d.sink)).toEqual(['hung', 'hung']);
      expect(text).toContain('shiplog_outbound_backlog_events{sink="hung"} 4');
      expect(text).toContain('shiplog_outbound_backlog_events{sink="healthy"} 0');
      expect(text).toContain('shiplog_outbound_circuit_open{sink="healthy"} 0');
      expect(stand.hits.get('/hang')).toBe(4);
    } finally {
      await app.close();
    }
  });
});
