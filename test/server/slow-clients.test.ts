/**
 * Security review finding 10: stalled uploads held memory and sockets with no limit (1500 of
 * them held 1.6 GB for 90 s and more). Every phase of a request now has a timeout; here they
 * are short so the test is quick, and each test leaves only one of them able to fire.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS, loadRuntimeConfig, type ServerTimeouts } from '../../src/config.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { postHead, rawConnect } from '../helpers/raw-socket.js';
import { SECRETS } from '../helpers/webhooks.js';

const LONG = 600_000;

describe('slow and idle clients', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function serve(timeouts: ServerTimeouts): Promise<string> {
    t = await testApp('sqlite', { timeouts, webhooks: { secrets: SECRETS } });
    return t.app.server.listen({ port: 0, host: '127.0.0.1' });
  }

  it('a trickled upload is cut at the request timeout with 408', async () => {
    const url = await serve({ requestMs: 1500, headersMs: 1000, idleMs: LONG, keepAliveMs: LONG });
    const client = await rawConnect(url);
    client.write(postHead('/v1/webhooks/github', 1024 * 1024, { 'X-GitHub-Event': 'ping' }));
    // A byte every 100 ms: never idle, never finished.
    const drip = setInterval(() => client.write('x'), 100);
    try {
      const { status } = await client.closed;
      expect(status).toBe(408);
    } finally {
      clearInterval(drip);
    }
  });

  it('a stalled upload is closed at the idle timeout', async () => {
    const url = await serve({ requestMs: LONG, headersMs: LONG, idleMs: 1000, keepAliveMs: LONG });
    const client = await rawConnect(url);
    client.write(postHead('/v1/webhooks/github', 1024 * 1024, { 'X-GitHub-Event': 'ping' }));
    client.write(Buffer.alloc(64 * 1024, 'x'));
    const { received } = await client.closed;
    expect(received).toBe('');
  });

  it('headers sent byte by byte are cut at the headers timeout', async () => {
    const url = await serve({ requestMs: LONG, headersMs: 1000, idleMs: LONG, keepAliveMs: LONG });
    const client = await rawConnect(url);
    client.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const drip = setInterval(() => client.write('X-Slow: x\r\n'), 100);
    try {
      const { status } = await client.closed;
      expect(status).toBe(408);
    } finally {
      clearInterval(drip);
    }
  });

  it('an idle kept-alive connection is closed at the keep-alive timeout', async () => {
    const url = await serve({ requestMs: LONG, headersMs: LONG, idleMs: LONG, keepAliveMs: 500 });
    const client = await rawConnect(url);
    client.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const { status } = await client.closed;
    expect(status).toBe(200);
  });

  it('reads the timeouts from the environment, with defaults of at most 30 s for a body', () => {
    expect(loadRuntimeConfig({}, {}).timeouts).toEqual(DEFAULT_TIMEOUTS);
    expect(DEFAULT_TIMEOUTS.requestMs).toBeLessThanOrEqual(30_000);
    expect(
      loadRuntimeConfig(
        {},
        {
          SHIPLOG_REQUEST_TIMEOUT_MS: '20000',
          SHIPLOG_HEADERS_TIMEOUT_MS: '5000',
          SHIPLOG_IDLE_TIMEOUT_MS: '15000',
          SHIPLOG_KEEP_ALIVE_TIMEOUT_MS: '2000',
        },
      ).timeouts,
    ).toEqual({ requestMs: 20_000, headersMs: 5000, idleMs: 15_000, keepAliveMs: 2000 });
    expect(() => loadRuntimeConfig({}, { SHIPLOG_REQUEST_TIMEOUT_MS: 'soon' })).toThrow(
      /SHIPLOG_REQUEST_TIMEOUT_MS must be a whole number/,
    );
    expect(() =>
      loadRuntimeConfig({}, { SHIPLOG_REQUEST_TIMEOUT_MS: '1000', SHIPLOG_HEADERS_TIMEOUT_MS: '2000' }),
    ).toThrow(/must not exceed/);
  });
});
