/**
 * Post-deployment and post-rollback verification against the real Prometheus, which really
 * scrapes a small HTTP target (every second) whose error counters the test controls: one
 * service's errors stay at zero, another's climb on every scrape. The same target answers each
 * service's version for the HTTP checks. Verification passes on the healthy service, fails on
 * the broken one (and tells the listener), checks that a rollback answers the version rolled
 * back to, writes each measurement to the ledger, and resumes after a restart from the database.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentEvent, EventType } from '../../src/domain/event.js';
import type { StoredEvent } from '../../src/domain/write-plan.js';
import type { DeploymentView } from '../../src/store/deployments-repository.js';
import { createEventWriter } from '../../src/store/event-writer.js';
import {
  parseVerification,
  validateVerification,
  type VerificationCheck,
} from '../../src/verification/verification-config.js';
import { createVerifier, type VerificationView } from '../../src/verification/verifier.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS, freshDatabase } from '../helpers/dialects.js';
import { startPrometheus, waitFor, type Running } from '../helpers/monitoring.js';

/** The scrape target: error counters per service, and the version each service answers. */
function startTarget() {
  const errors = new Map<string, number>([
    ['healthy-api', 0],
    ['broken-api', 0],
    ['web-api', 0],
  ]);
  const failing = new Set(['broken-api']);
  const versions = new Map<string, string>();
  const server = http.createServer((request, response) => {
    if (request.url === '/metrics') {
      for (const service of failing) errors.set(service, (errors.get(service) ?? 0) + 50);
      const lines = [...errors].map(([service, n]) => `http_errors_total{service="${service}"} ${n}`);
      response.setHeader('content-type', 'text/plain; version=0.0.4');
      response.end(`# TYPE http_errors_total counter\n${lines.join('\n')}\n`);
      return;
    }
    const match = /^\/([a-z-]+)\/version$/.exec(request.url ?? '');
    const version = match ? versions.get(match[1] ?? '') : undefined;
    response.statusCode = version ? 200 : 404;
    response.end(version ? JSON.stringify({ version }) : 'not found');
  });
  return {
    versions,
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const QUERY = 'sum(rate(http_errors_total{service="{{service}}"}[5s]))';

function checksFor(prometheus: string, target: string, count = 2): VerificationCheck[] {
  const config = [
    {
      name: 'errors',
      match: { environment: 'production' },
      prometheus: { url: prometheus, query: QUERY },
      successCondition: 'result < 0.5',
      interval: '1s',
      count,
      failureLimit: 0,
    },
    {
      name: 'version',
      match: { environment: 'production' },
      http: { url: `${target}/{{service}}/version`, expectStatus: 200, expectBody: '{{version}}' },
      interval: '1s',
      count: 2,
    },
    // Matches no deployment here: never run.
    { name: 'eu-only', match: { region: 'eu-west-1' }, http: { url: `${target}/x` } },
  ];
  expect(validateVerification(config)).toEqual([]);
  return parseVerification(config);
}

let prometheus: Running;
let target: ReturnType<typeof startTarget>;
let targetUrl: string;

beforeAll(async () => {
  target = startTarget();
  targetUrl = await target.listen();
  prometheus = await startPrometheus(`
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: target
    static_configs: [{targets: ['${targetUrl.replace('http://', '')}']}]
`);
  // Until Prometheus has two scrapes, rate() has no value: wait for the broken service's to show.
  await waitFor('a rate from Prometheus', async () => {
    const query = QUERY.replace('{{service}}', 'broken-api');
    const answer = (await (
      await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`)
    ).json()) as {
      data: { result: { value: [number, string] }[] };
    };
    const value = Number(answer.data.result[0]?.value[1]);
    return value > 0.5 ? value : undefined;
  });
});

afterAll(async () => {
  await prometheus?.stop();
  await target?.close();
});

type Detail = DeploymentView & { verification: VerificationView | null };

describe.each(DIALECTS)('verification against the real Prometheus (%s)', (dialect) => {
  let t: TestApp;
  const told: { deployment: DeploymentView; result: VerificationView }[] = [];

  beforeAll(async () => {
    t = await testApp(dialect, {
      verification: checksFor(prometheus.url, targetUrl),
      onVerificationFinished: (deployment, result) => {
        told.push({ deployment, result });
      },
    });
  });
  afterAll(async () => t?.close());

  const send = async (deployment: string, service: string, type: EventType, version?: string) => {
    const response = await t.call('POST', '/v1/events', {
      type,
      deployment,
      service,
      environment: 'production',
      ...(version ? { version } : {}),
    });
    expect(response.status).toBe(201);
  };
  const decided = (deployment: string, trigger = 'succeeded') =>
    waitFor(`the verification of ${deployment}`, async () => {
      const detail = (await t.call('GET', `/v1/deployments/${deployment}`)).json() as unknown as Detail;
      const v = detail.verification;
      return v && v.trigger === trigger && v.status !== 'running' ? v : undefined;
    });

  it('passes on a healthy service and fails on one whose errors climb, telling the listener', async () => {
    target.versions.set('healthy-api', '1.0.0');
    target.versions.set('broken-api', '2.0.0');
    await send('h-1', 'healthy-api', 'deployment.started', '1.0.0');
    await send('b-1', 'broken-api', 'deployment.started', '2.0.0');
    const running = (await t.call('GET', '/v1/deployments/h-1')).json() as unknown as Detail;
    expect(running.verification).toBeNull();
    await send('h-1', 'healthy-api', 'deployment.succeeded');
    await send('b-1', 'broken-api', 'deployment.succeeded');

    const healthy = await decided('h-1');
    expect(healthy).toMatchObject({ status: 'passed', trigger: 'succeeded', version: '1.0.0' });
    expect(healthy.checks.map((c) => [c.name, c.status, c.count, c.failed])).toEqual([
      ['errors', 'passed', 2, 0],
      ['version', 'passed', 2, 0],
    ]);
    const errors = healthy.checks[0];
    expect(errors?.measurements).toHaveLength(2);
    expect(errors?.measurements.every((m) => m.phase === 'successful' && Array.isArray(m.value))).toBe(true);

    const broken = await decided('b-1');
    expect(broken.status).toBe('failed');
    const failedCheck = broken.checks.find((c) => c.name === 'errors');
    expect(failedCheck).toMatchObject({ status: 'failed', failed: 1 });
    expect(failedCheck?.message).toContain('result < 0.5 does not hold');

    await waitFor('the listener', async () => (told.length >= 2 ? true : undefined));
    expect(told.find((x) => x.deployment.deployment === 'b-1')?.result.status).toBe('failed');
    expect(told.find((x) => x.deployment.deployment === 'h-1')?.result.status).toBe('passed');

    // Each measurement is in the ledger, at the index the deployment shows.
    const measurement = errors?.measurements[0];
    const index = measurement?.ledgerIndex as number;
    const entries = (await t.call('GET', `/v1/ledger/entries?start=${index}&end=${index + 1}`)).json() as {
      entries: { data: string }[];
    };
    expect(JSON.parse(entries.entries[0]?.data ?? '{}')).toMatchObject({
      recordType: 'verification_measurement',
      deployment: 'h-1',
      check: 'errors',
      seq: 1,
      phase: 'successful',
    });
  });

  it('after a rollback, checks that the version answered is the one rolled back to', async () => {
    target.versions.set('web-api', '1.0.0');
    await send('w-1', 'web-api', 'deployment.started', '1.0.0');
    await send('w-1', 'web-api', 'deployment.succeeded');
    expect((await decided('w-1')).status).toBe('passed');
    target.versions.set('web-api', '1.1.0');
    await send('w-2', 'web-api', 'deployment.started', '1.1.0');
    await send('w-2', 'web-api', 'deployment.succeeded');
    expect((await decided('w-2')).status).toBe('passed');

    // Rolled back, but 1.1.0 still answers: the rollback did not take.
    await send('w-2', 'web-api', 'deployment.rolled_back');
    const stuck = await decided('w-2', 'rolled_back');
    expect(stuck).toMatchObject({ status: 'failed', version: '1.0.0' });
    expect(stuck.checks.find((c) => c.name === 'version')?.message).toContain('does not contain "1.0.0"');

    // Rolled back again (another deployment, same versions) while 1.0.0 answers: passes.
    target.versions.set('web-api', '1.0.0');
    await send('w-3', 'web-api', 'deployment.started', '1.1.0');
    await send('w-3', 'web-api', 'deployment.succeeded');
    await send('w-3', 'web-api', 'deployment.rolled_back');
    const back = await decided('w-3', 'rolled_back');
    expect(back).toMatchObject({ status: 'passed', trigger: 'rolled_back', version: '1.0.0' });
  });
});

describe.each(DIALECTS)('verification resumes after a restart (%s)', (dialect) => {
  it('a new verifier over the same database takes the measurements still due', async () => {
    const database = await freshDatabase(dialect);
    const store = await database.open();
    try {
      const committed: StoredEvent[] = [];
      const writer = createEventWriter(store, { onCommit: (stored) => committed.push(...stored) });
      const t0 = Date.now();
      const record = async (type: EventType) => {
        const event: DeploymentEvent = {
          id: `r-1-${type}`,
          type,
          timeMs: t0,
          deployment: 'r-1',
          service: 'healthy-api',
          environment: 'production',
          version: '1.0.0',
          actor: 'ci',
          kind: 'release',
        };
        await writer.write({
          events: [event],
          source: 'test',
          receivedMs: t0,
          timed: [true],
          pointers: [''],
        });
        await writer.drain();
        await new Promise((r) => setImmediate(r));
        return committed.splice(0);
      };
      target.versions.set('healthy-api', '1.0.0');
      const checks = checksFor(prometheus.url, targetUrl, 4);
      const first = createVerifier({ store, checks, now: () => t0 });
      await first.onEvents(await record('deployment.started'));
      await first.onEvents(await record('deployment.succeeded'));
      expect(await first.tick(t0)).toBe(2);
      expect(await first.tick(t0 + 500)).toBe(0); // nothing due before the interval

      let clock = t0 + 1000;
      const second = createVerifier({ store, checks, now: () => clock });
      expect((await second.ofDeployment('r-1'))?.status).toBe('running');
      while ((await second.ofDeployment('r-1'))?.status === 'running') {
        await second.tick(clock);
        clock += 1000;
      }
      const view = await second.ofDeployment('r-1');
      expect(view?.status).toBe('passed');
      const errors = view?.checks.find((c) => c.name === 'errors');
      expect(errors?.measurements.map((m) => Date.parse(m.at) >= t0)).toEqual([true, true, true, true]);
      expect(errors?.count).toBe(4);
    } finally {
      await store.close();
      await database.destroy();
    }
  });
});
