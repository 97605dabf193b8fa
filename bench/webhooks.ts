/**
 * Webhook ingest benchmark (issue 4): GitHub `deployment_status` deliveries, each signed with
 * HMAC-SHA256 and checked by the server, against `POST /v1/events` carrying the same
 * deployments as the events the adapter makes of them, on the same server, 50 clients each.
 * Target: at least 0.6×.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { adaptGithub } from '../src/ingest/github.js';
import { BENCH_RATE_LIMIT, BIN, ROOT, TOKEN, report, startChild, tempDir } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const SECRET = 'bench-webhook-secret';
const fixture = JSON.parse(
  fs.readFileSync(path.join(ROOT, '../shared/fixtures/github/deployment_status.payload.json'), 'utf8'),
) as {
  deployment: Record<string, unknown>;
  deployment_status: Record<string, unknown>;
  repository: Record<string, unknown>;
};

/** Delivery n: deployment n/2 of repository bench/<run>, in_progress for even n, success for odd. */
function delivery(n: number, run: string): string {
  const d = Math.floor(n / 2);
  return JSON.stringify({
    ...fixture,
    deployment: { ...fixture.deployment, id: 1_000_000 + d, environment: ['production', 'staging'][d % 2] },
    deployment_status: {
      ...fixture.deployment_status,
      id: n,
      state: n % 2 === 0 ? 'in_progress' : 'success',
    },
    repository: {
      ...fixture.repository,
      full_name: `bench/${run}-svc-${d % 200}`,
      name: `${run}-svc-${d % 200}`,
    },
  });
}

function sign(body: string): string {
  return `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
}

async function rate(
  url: string,
  path: string,
  next: (n: number) => { body: string; headers: Record<string, string> },
) {
  let n = 0;
  const result = await autocannon({
    url: `${url}${path}`,
    connections: 50,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const { body, headers } = next(n++);
          return {
            ...request,
            body,
            headers: { ...request.headers, 'content-type': 'application/json', ...headers },
          };
        },
      },
    ],
  });
  if (result.non2xx + result.errors + result.timeouts > 0)
    throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors + result.timeouts} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

/** One measurement on a fresh server, so neither side writes into the other's rows. */
async function measure(kind: 'events' | 'webhook', round: number) {
  const server = await startChild([BIN, 'serve', '--port', '0', '--data', tempDir('webhooks')], {
    SHIPLOG_BOOTSTRAP_TOKEN: TOKEN,
    SHIPLOG_GITHUB_WEBHOOK_SECRET: SECRET,
    SHIPLOG_LOG_LEVEL: 'warn',
    SHIPLOG_RATE_LIMIT: BENCH_RATE_LIMIT,
  });
  try {
    if (kind === 'events') {
      return await rate(server.url, '/v1/events', (n) => {
        const result = adaptGithub({
          headers: { 'x-github-event': 'deployment_status' },
          rawBody: Buffer.alloc(0),
          body: JSON.parse(delivery(n, `e${round}`)) as unknown,
        });
        if (result.kind !== 'events') throw new Error('the bench delivery does not map to an event');
        return { body: JSON.stringify(result.events[0]), headers: { authorization: `Bearer ${TOKEN}` } };
      });
    }
    return await rate(server.url, '/v1/webhooks/github', (n) => {
      const body = delivery(n, `w${round}`);
      return { body, headers: { 'x-github-event': 'deployment_status', 'x-hub-signature-256': sign(body) } };
    });
  } finally {
    await server.stop();
  }
}

export async function benchWebhooks(): Promise<boolean> {
  // Interleaved rounds, best of each: the machine is shared and its load drifts.
  const events: { rps: number; p99: number }[] = [];
  const webhooks: { rps: number; p99: number }[] = [];
  for (let round = 0; round < 2; round++) {
    events.push(await measure('events', round));
    webhooks.push(await measure('webhook', round));
  }
  const best = (runs: { rps: number; p99: number }[]) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const baseline = best(events);
  const measured = best(webhooks);
  const ratio = measured.rps / baseline.rps;
  report(
    'GitHub webhook ingest (HMAC checked, adapted, stored, logged), 50 clients',
    `${measured.rps.toFixed(0)} req/s (p99 ${measured.p99} ms)`,
    `${baseline.rps.toFixed(0)} req/s POST /v1/events with the same deployments (p99 ${baseline.p99} ms)`,
    ratio,
    '>= 0.6',
    ratio >= 0.6,
  );
  return ratio >= 0.6;
}
