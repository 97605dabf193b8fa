/**
 * PagerDuty change events and Grafana annotations on each deployment's final state (issue 10,
 * item 7): the pure shapes against PagerDuty's documented example, then the real `shiplog serve`
 * with a config file sending them to stand-ins, retrying, dead-lettering without the secret.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventRecord } from '../../src/domain/event-record.js';
import { grafanaAnnotation, pagerDutyChangeEvent } from '../../src/outbound/change-notices.js';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');

const record = (over: Partial<EventRecord> = {}): EventRecord => ({
  recordType: 'event',
  id: 'e-2',
  type: 'deployment.succeeded',
  time: '2026-11-02T10:05:00.000Z',
  receivedAt: '2026-11-02T10:05:01.000Z',
  hlc: '0',
  source: 'api',
  deployment: 'd-1',
  service: 'checkout-api',
  environment: 'production',
  actor: 'alice',
  kind: 'release',
  version: '1.4.2',
  ...over,
});

/** The keys of a JSON value, recursively, arrays by their first element. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return [shape(value[0])];
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, k === 'custom_details' ? 'object' : shape(v)]),
    );
  return typeof value;
}

describe('change notices (pure)', () => {
  it('builds a PagerDuty change event shaped like the documented example', () => {
    const example = JSON.parse(
      fs.readFileSync(path.join(FIXTURES, 'pagerduty/events-v2.change-event.json'), 'utf8'),
    ) as unknown;
    const event = pagerDutyChangeEvent(record(), { value: 'R0UTING', variable: 'PD_KEY' }, 'https://s/d-1');
    const body = JSON.parse(event?.body ?? '{}') as Record<string, unknown>;
    expect(shape(body)).toEqual(shape(example));
    expect(body).toEqual({
      routing_key: 'R0UTING',
      payload: {
        summary: 'Deployed checkout-api 1.4.2 to production: succeeded',
        timestamp: '2026-11-02T10:05:00.000Z',
        source: 'shiplog/checkout-api/production',
        custom_details: {
          deployment: 'd-1',
          service: 'checkout-api',
          environment: 'production',
          status: 'succeeded',
          actor: 'alice',
          kind: 'release',
          version: '1.4.2',
        },
      },
      links: [{ href: 'https://s/d-1', text: 'Deployment in shiplog' }],
    });
    // A dead letter keeps the variable's name, never the key.
    expect(event?.storedBody).toContain('"routing_key":"$PD_KEY"');
    expect(event?.storedBody).not.toContain('R0UTING');
  });

  it('tells only final states, and keeps the summary within PagerDuty’s 1024 characters', () => {
    expect(
      pagerDutyChangeEvent(record({ type: 'deployment.started' }), { value: 'k', variable: 'V' }),
    ).toBeNull();
    expect(grafanaAnnotation(record({ type: 'deployment.requested' }), null)).toBeNull();
    const long = pagerDutyChangeEvent(record({ service: 's'.repeat(2000) }), { value: 'k', variable: 'V' });
    const summary = (JSON.parse(long?.body ?? '{}') as { payload: { summary: string } }).payload.summary;
    expect(summary).toHaveLength(1024);
    const rollback = pagerDutyChangeEvent(
      record({ type: 'deployment.rolled_back', kind: 'rollback', region: 'eu' }),
      {
        value: 'k',
        variable: 'V',
      },
    );
    expect(rollback?.body).toContain('Rolled back checkout-api 1.4.2 to production (eu): rolled back');
  });

  it('makes a Grafana annotation spanning the deployment, as a point when its start is unknown', () => {
    const start = Date.parse('2026-11-02T10:00:00Z');
    const region = JSON.parse(
      grafanaAnnotation(record({ type: 'deployment.failed' }), start, { dashboardUid: 'abc' })?.body ?? '{}',
    ) as Record<string, unknown>;
    expect(region).toEqual({
      dashboardUID: 'abc',
      time: start,
      timeEnd: Date.parse('2026-11-02T10:05:00Z'),
      tags: ['shiplog', 'service:checkout-api', 'environment:production', 'status:failed'],
      text: 'Deployed checkout-api 1.4.2 to production: failed by alice (deployment d-1)',
    });
    const point = JSON.parse(grafanaAnnotation(record(), null)?.body ?? '{}') as {
      time: number;
      timeEnd: number;
    };
    expect(point.time).toBe(point.timeEnd);
  });
});

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

describe('change notices through shiplog serve', () => {
  const TOKEN = 'change-notices-admin';
  const received: Received[] = [];
  let calls = 0;
  let standIn: http.Server;
  let server: ServerProcess;

  beforeAll(async () => {
    // PagerDuty answers 500 to its first call, then 202 as documented; /down always 503;
    // Grafana answers 200 with the annotation's id.
    standIn = http.createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({
          path: req.url ?? '',
          headers: req.headers,
          body: JSON.parse(text) as Record<string, unknown>,
        });
        res.setHeader('content-type', 'application/json');
        if (req.url === '/v2/change/enqueue') {
          calls += 1;
          res
            .writeHead(calls === 1 ? 500 : 202)
            .end(JSON.stringify({ status: 'success', message: 'Change event processed' }));
        } else if (req.url === '/api/annotations') {
          res.writeHead(200).end(JSON.stringify({ id: received.length, message: 'Annotation added' }));
        } else {
          res.writeHead(503).end('{}');
        }
      });
    });
    await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-notices-'));
    const config = path.join(dir, 'shiplog.yaml');
    // The snippet of docs/incidents.md, pointed at the stand-ins, plus a sink that is down.
    const docs = fs.readFileSync(path.join(ROOT, 'docs/incidents.md'), 'utf8');
    const section = docs.slice(docs.indexOf('## Telling PagerDuty and Grafana'));
    const snippet = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(snippet).toContain('format: pagerduty');
    fs.writeFileSync(
      config,
      snippet
        .replace('https://events.pagerduty.com', base)
        .replace('https://grafana.example.com', base)
        .replaceAll('SHIPLOG_PAGERDUTY_CHANGE_ROUTING_KEY', 'TEST_PD_ROUTING_KEY')
        .replaceAll('SHIPLOG_GRAFANA_TOKEN', 'TEST_GRAFANA_TOKEN') +
        [
          '    - name: pagerduty-down',
          '      format: pagerduty',
          `      url: ${base}/down`,
          '      tokenVariable: TEST_PD_ROUTING_KEY',
          '',
        ].join('\n'),
    );
    server = await startServerProcess({
      args: ['--config', config],
      env: {
        SHIPLOG_BOOTSTRAP_TOKEN: TOKEN,
        TEST_PD_ROUTING_KEY: 'pd-routing-key-secret',
        TEST_GRAFANA_TOKEN: 'glsa_secret',
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => standIn?.close(resolve));
  });

  const post = async (events: Record<string, unknown>[]) =>
    fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });

  it('sends each final state once, retried until accepted, and dead-letters without the routing key', async () => {
    // The sinks start at the end of the log once the leader has looked: wait for the first look.
    await vi.waitFor(
      async () => {
        const answer = await fetch(`${server.url}/metrics`);
        expect(await answer.text()).toMatch(/shiplog_outbound_backlog_events\{sink="grafana"\} 0/);
      },
      { timeout: 10_000, interval: 100 },
    );
    const base = { service: 'checkout-api', version: '2.0.0', time: '2026-11-02T10:00:00Z' };
    const response = await post([
      { ...base, id: 'n-1', type: 'deployment.started', deployment: 'n-prod', environment: 'production' },
      {
        ...base,
        id: 'n-2',
        type: 'deployment.succeeded',
        deployment: 'n-prod',
        environment: 'production',
        time: '2026-11-02T10:04:00Z',
      },
      { ...base, id: 'n-3', type: 'deployment.failed', deployment: 'n-stage', environment: 'staging' },
    ]);
    expect(response.status).toBe(201);

    const at = (p: string) => received.filter((r) => r.path === p);
    await vi.waitFor(() => expect(at('/api/annotations')).toHaveLength(2), { timeout: 15_000 });
    await vi.waitFor(() => expect(at('/v2/change/enqueue')).toHaveLength(2), { timeout: 15_000 });
    // PagerDuty: production only (environments), the 500 retried, the routing key in the body.
    const [first, second] = at('/v2/change/enqueue');
    expect(second?.body).toEqual(first?.body);
    expect(second?.body).toMatchObject({
      routing_key: 'pd-routing-key-secret',
      payload: {
        summary: 'Deployed checkout-api 2.0.0 to production: succeeded',
        source: 'shiplog/checkout-api/production',
      },
    });
    expect(second?.headers.authorization).toBeUndefined();
    // Grafana: both environments, bearer token, the production one spans start to success.
    const grafana = at('/api/annotations');
    expect(grafana.map((r) => r.headers.authorization)).toEqual(['Bearer glsa_secret', 'Bearer glsa_secret']);
    expect(grafana.map((r) => r.body.tags)).toEqual([
      ['shiplog', 'service:checkout-api', 'environment:production', 'status:succeeded'],
      ['shiplog', 'service:checkout-api', 'environment:staging', 'status:failed'],
    ]);
    expect(grafana[0]?.body).toMatchObject({
      time: Date.parse('2026-11-02T10:00:00Z'),
      timeEnd: Date.parse('2026-11-02T10:04:00Z'),
    });

    // The sink that is down: both final states dead-lettered after their retries, the key redacted.
    const deadLetters = async () => {
      const answer = await fetch(`${server.url}/v1/webhooks/outbound/dead-letters?sink=pagerduty-down`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return JSON.stringify(await answer.json());
    };
    await vi.waitFor(async () => expect((await deadLetters()).match(/"eventId"/g)).toHaveLength(2), {
      timeout: 60_000,
      interval: 500,
    });
    const letters = await deadLetters();
    expect(letters).toContain('$TEST_PD_ROUTING_KEY');
    expect(letters).not.toContain('pd-routing-key-secret');
    expect(server.output()).not.toContain('pd-routing-key-secret');
    expect(server.output()).not.toContain('glsa_secret');
  }, 90_000);
});
