/**
 * DESIGN.md §5: `server.rateLimit` limits each token (or each client address when there is no
 * valid token); past it, 429 SHIPLOG_RATE_LIMITED with Retry-After; /healthz and /readyz never.
 * Regression: SHIPLOG_RATE_LIMITED was in the catalog but nothing limited.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import type { Store } from '../../src/store/database.js';

const ADMIN = 'rate-limit-admin';

describe('rate limits', () => {
  let database: TestDatabase | undefined;
  let store: Store | undefined;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    await store?.close();
    await database?.destroy();
  });

  const start = async (requests: number | null) => {
    database = await freshDatabase('sqlite');
    store = await database.open();
    await store.tokens.ensureBootstrap(ADMIN);
    const app = await buildApp({
      store,
      rateLimit: requests === null ? null : { requests, perMs: 60_000 },
    });
    close = () => app.server.close();
    const get = (url: string, token: string | null = ADMIN, address = '127.0.0.1') =>
      app.server.inject({
        method: 'GET',
        url,
        remoteAddress: address,
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
      });
    const token = async (name: string) => {
      const created = await app.server.inject({
        method: 'POST',
        url: '/v1/tokens',
        remoteAddress: '10.9.9.9',
        headers: { authorization: `Bearer ${ADMIN}` },
        payload: { name, role: 'viewer' },
      });
      return (created.json() as { token: string }).token;
    };
    return { get, token };
  };

  it('answers 429 with Retry-After past the limit of a token, and counts each token apart', async () => {
    const { get, token } = await start(3);
    const other = await token('other');
    // The admin token created `other`: one request of its three.
    for (let i = 0; i < 2; i++) expect((await get('/v1/deployments')).statusCode).toBe(200);
    const limited = await get('/v1/deployments');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    const error = (limited.json() as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('SHIPLOG_RATE_LIMITED');
    expect(error.message).toMatch(/More than 3 requests in 1m/);
    // Another token, from the same address, has its own count.
    expect((await get('/v1/deployments', other)).statusCode).toBe(200);
    // And the same token from another address is still limited: the token is the key.
    expect((await get('/v1/deployments', ADMIN, '10.1.2.3')).statusCode).toBe(429);
  });

  it('never limits /healthz and /readyz', async () => {
    const { get } = await start(2);
    for (let i = 0; i < 10; i++) {
      expect((await get('/healthz', null)).statusCode).toBe(200);
      expect((await get('/readyz', null)).statusCode).toBe(200);
    }
    // The address is spent on a limited public route; the probes still answer.
    for (let i = 0; i < 2; i++) expect((await get('/metrics', null)).statusCode).toBe(200);
    expect((await get('/metrics', null)).statusCode).toBe(429);
    expect((await get('/healthz', null)).statusCode).toBe(200);
    expect((await get('/readyz', null)).statusCode).toBe(200);
  });

  it('limits requests without a valid token per client address, bad tokens included', async () => {
    const { get } = await start(2);
    expect((await get('/v1/deployments', 'guess-1', '10.0.0.1')).statusCode).toBe(401);
    expect((await get('/v1/deployments', 'guess-2', '10.0.0.1')).statusCode).toBe(401);
    const third = await get('/v1/deployments', 'guess-3', '10.0.0.1');
    expect(third.statusCode).toBe(429);
    expect(third.headers['retry-after']).toBeDefined();
    // Another address has its own count; a valid token is not limited by its address's guesses.
    expect((await get('/v1/deployments', 'guess-4', '10.0.0.2')).statusCode).toBe(401);
    expect((await get('/v1/deployments', ADMIN, '10.0.0.1')).statusCode).toBe(200);
  });

  it('limits nothing when the limit is off', async () => {
    const { get } = await start(null);
    for (let i = 0; i < 20; i++) expect((await get('/v1/deployments')).statusCode).toBe(200);
  });
});
