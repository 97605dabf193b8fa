/**
 * Gate benchmark (issue 5): recorded gate decisions over HTTP (POST /v1/gate, 50 clients)
 * against GET /healthz on the same server and the same client (target: at least 0.35×). Every
 * pipeline asks the gate on every deploy, and every decision is recorded with its ledger entry.
 */
import fs from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { report, startShiplog, tempDir, TOKEN } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

const POLICY = `environments:
  production:
    protected: true
    approvals: 1
    requireTicket: '^[A-Z]+-[0-9]+$'
`;

async function rate(url: string, request: autocannon.Request): Promise<number> {
  const result = await autocannon({ url, connections: 50, duration: SECONDS, requests: [request] });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result.requests.average;
}

export async function benchGate(): Promise<boolean> {
  const dir = tempDir('gate');
  const config = path.join(dir, 'shiplog.yaml');
  fs.writeFileSync(config, POLICY);
  const server = await startShiplog(path.join(dir, 'data'), ['--config', config]);
  const healthz = await rate(`${server.url}/healthz`, { method: 'GET' });
  let n = 0;
  const gate = await rate(`${server.url}/v1/gate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    setupRequest: (request) => ({
      ...request,
      body: JSON.stringify({
        deployment: `gate-${n++}`,
        service: 'checkout-api',
        environment: 'production',
        version: '1.42.0',
        ticket: 'OPS-123',
      }),
    }),
  });
  await server.stop();
  const ratio = gate / healthz;
  report(
    'gate decisions over HTTP, 50 clients, each recorded',
    `${gate.toFixed(0)} decisions/s`,
    `${healthz.toFixed(0)} req/s GET /healthz on the same server`,
    ratio,
    '>= 0.35',
    ratio >= 0.35,
  );
  return ratio >= 0.35;
}
