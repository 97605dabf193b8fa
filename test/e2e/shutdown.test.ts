/** SIGTERM while requests are in flight: everything acknowledged is stored after a restart. */
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const TOKEN = 'shutdown-admin-token';

describe('graceful shutdown', () => {
  let restarted: ServerProcess | undefined;
  afterAll(async () => restarted?.stop());

  it('loses no acknowledged event', async () => {
    const server = await startServerProcess({ env: { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN } });
    const acknowledged: string[] = [];
    const send = async (i: number) => {
      try {
        const response = await fetch(`${server.url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            id: `e-${i}`,
            type: 'deployment.started',
            deployment: `d-${i}`,
            service: 'api',
            environment: 'prod',
            version: '1',
          }),
        });
        if (response.status === 201) acknowledged.push(`e-${i}`);
      } catch {
        // refused or reset once the server stops accepting: not acknowledged, fine
      }
    };
    await send(0); // warm up: the first request compiles the route's schemas
    expect(acknowledged).toEqual(['e-0']);
    const inflight = Array.from({ length: 399 }, (_, i) =>
      new Promise((r) => setTimeout(r, i)).then(() => send(i + 1)),
    );
    // Stop while requests are still arriving: some are acknowledged, others in flight.
    while (acknowledged.length < 20) await new Promise((r) => setTimeout(r, 5));
    const code = await server.stop('SIGTERM');
    await Promise.all(inflight);
    expect(code).toBe(0);
    expect(acknowledged.length).toBeLessThan(400);

    restarted = await startServerProcess({
      dataDir: server.dataDir,
      env: { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN },
    });
    const stored = new Set<string>();
    for (let i = 0; i < 400; i += 1) {
      const response = await fetch(`${restarted.url}/v1/deployments/d-${i}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      if (response.status === 200) stored.add(`e-${i}`);
    }
    for (const id of acknowledged) expect(stored.has(id), id).toBe(true);
  });
});
