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
    let settled = 0;
    const inflight = Array.from({ length: 399 }, (_, i) =>
      new Promise((r) => setTimeout(r, i)).then(() => send(i + 1)).finally(() => (settled += 1)),
    );
    // Stop while requests are still arriving: some are acknowledged, others in flight. (On a
    // very slow machine every request may be answered first; the check below still holds.)
    while (acknowledged.length < 20 && settled < 399) await new Promise((r) => setTimeout(r, 5));
    const code = await server.stop('SIGTERM');
    await Promise.all(inflight);
    expect(code).toBe(0);

    restarted = await startServerProcess({
      dataDir: server.dataDir,
      env: { SHIPLOG_BOOTSTRAP_TOKEN: TOKEN },
    });
    const response = await fetch(`${restarted.url}/v1/deployments?limit=1000`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const { items } = (await response.json()) as { items: { deployment: string }[] };
    const stored = new Set(items.map((d) => d.deployment.replace(/^d-/, 'e-')));
    for (const id of acknowledged) expect(stored.has(id), id).toBe(true);
  }, 90_000);
});
