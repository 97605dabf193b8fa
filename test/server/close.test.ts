/**
 * Regression: a request in flight when the server began to close left its keep-alive
 * connection open, so SIGTERM waited for the client to drop it (72 s, the keep-alive timeout
 * clients are told) and test/e2e/shutdown.test.ts timed out on a loaded machine.
 */
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app.js';

describe('closing the server', () => {
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.store.close();
    await t?.database.destroy();
  });

  it('answers a request that was in flight with Connection: close, and then closes', async () => {
    t = await testApp('sqlite');
    let entered: () => void = () => undefined;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    t.app.server.get('/test/slow', { config: { access: 'public' } }, async () => {
      entered();
      await released;
      return { done: true };
    });
    let closing: () => void = () => undefined;
    const closingStarted = new Promise<void>((resolve) => (closing = resolve));
    // Runs after the app's own preClose hooks: the server has begun to close.
    t.app.server.addHook('preClose', async () => closing());
    await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.server.address() as { port: number }).port;
    const agent = new http.Agent({ keepAlive: true });
    const answer = new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/test/slow', agent }, resolve).on('error', reject);
    });
    await inHandler;
    const closed = t.app.server.close();
    await closingStarted;
    release();
    const response = await answer;
    response.resume();
    expect(response.statusCode).toBe(200);
    expect(response.headers.connection).toBe('close');
    await closed; // without the fix: only once the agent drops its idle connection
    agent.destroy();
  });
});
