/**
 * Alerts end to end inside one app, on each database: rules fire on the changes the routes
 * commit, notifications reach stand-in PagerDuty, Opsgenie, Slack and webhook servers on real
 * ports in their documented shapes, escalation walks its levels as `dispatch(now)` is told
 * later instants, and its state survives a restart. The app never holds the leader lease here
 * (another holder has it), so only the test drives the timers.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config-file.js';
import { buildApp, type App } from '../../src/server/app.js';
import type { Store } from '../../src/store/database.js';
import { LEASE_NAME } from '../../src/server/leader.js';
import { ADMIN } from '../helpers/app.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { pdOf, startStandIn, type RecordedRequest, type StandIn } from '../helpers/standin.js';

const HOOK_SECRET = 'hook-secret-value';
const MIN = 60_000;

function config(pd: StandIn, og: StandIn, slack: StandIn, hook: StandIn) {
  return parseConfigFile(
    `
environments:
  production: {protected: true}
  preprod:
    protected: false
    windows: [{days: [mon, tue, wed, thu, fri], from: '09:00', to: '16:00', timezone: UTC}]
alerts:
  rules:
    - {name: prod-failed, when: deployment_failed, match: {environment: production}, severity: critical}
    - {name: slow, when: deployment_overdue, factor: 2, after: 30m, match: {environment: staging}}
    - {name: bypass, when: ungated_deployment, match: {environment: production}, severity: error}
    - {name: off-hours, when: outside_window, severity: warning}
    - {name: rollback, when: rolled_back, severity: warning}
    - {name: verify, when: verification_failed, severity: error}
    - {name: waiting, when: approval_overdue, after: 1h}
    - {name: busy, when: frequency_above, count: 2, per: 1h, match: {environment: staging}}
    - {name: quiet, when: frequency_below, count: 1, per: 1d, match: {environment: staging}}
  route:
    receiver: team-slack
    group_by: [service, environment]
    routes:
      - {matchers: ['severity="critical"'], receiver: oncall}
      - {matchers: ['alertname="rollback"'], receiver: team-slack, continue: true}
      - {matchers: ['alertname="rollback"'], receiver: ops, continue: true}
      - {matchers: ['severity=~"warning|error"'], receiver: audit-hook}
  receivers:
    - {name: oncall, pagerduty: {routingKeyEnv: PD_ONCALL, url: '${pd.url}/v2/enqueue'}}
    - {name: pd-primary, pagerduty: {routingKeyEnv: PD_PRIMARY, url: '${pd.url}/v2/enqueue'}}
    - {name: pd-secondary, pagerduty: {routingKeyEnv: PD_SECONDARY, url: '${pd.url}/v2/enqueue'}}
    - {name: team-slack, slack: {urlEnv: SLACK_URL}}
    - {name: ops, opsgenie: {apiKeyEnv: OG_KEY, url: '${og.url}'}}
    - {name: audit-hook, webhook: {url: '${hook.url}/hook', secretEnv: HOOK_SECRET}}
  escalation:
    oncall: {levels: [{after: 0m, receiver: pd-primary}, {after: 15m, receiver: pd-secondary}]}
`,
    'shiplog.yaml',
  );
}

const SECRETS = (slack: StandIn) => ({
  oncall: { routingKey: 'rk-oncall' },
  'pd-primary': { routingKey: 'rk-primary' },
  'pd-secondary': { routingKey: 'rk-secondary' },
  'team-slack': { url: `${slack.url}/services/T000/B000/XXXX` },
  ops: { apiKey: 'og-api-key' },
  'audit-hook': { secret: HOOK_SECRET },
});

describe.each(DIALECTS)('alerts (%s)', (dialect) => {
  let database: TestDatabase;
  let store: Store;
  let app: App;
  let pd: StandIn;
  let og: StandIn;
  let slack: StandIn;
  let hook: StandIn;
  let seq = 0;

  async function open(): Promise<void> {
    store = await database.open();
    // Another replica leads: background tasks stay idle and the test drives every timer.
    await store.leases.acquire(LEASE_NAME, 'another-replica', 24 * 3600_000, Date.now());
    const file = config(pd, og, slack, hook);
    app = await buildApp({
      store,
      policy: file.policy,
      alerts: file.alerts,
      alertSecrets: SECRETS(slack),
      alertDelivery: { timeoutMs: 500, maxAttempts: 2, backoffMs: () => 1000, slackIntervalMs: 0 },
    });
    await app.server.ready();
  }

  async function call(method: 'GET' | 'POST', url: string, body?: unknown, token = ADMIN) {
    const response = await app.server.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    return { status: response.statusCode, json: () => response.json<Record<string, unknown>>() };
  }

  async function event(type: string, deployment: string, fields: Record<string, unknown>) {
    const answer = await call('POST', '/v1/events', {
      id: `e-${seq++}`,
      type: `deployment.${type}`,
      deployment,
      version: '1.0.0',
      ...fields,
    });
    expect(answer.status, JSON.stringify(answer.json())).toBeLessThan(300);
    await app.alerts.idle();
  }

  async function firing(rule: string, service?: string) {
    const page = (await call('GET', '/v1/alerts?status=firing&limit=1000')).json() as {
      items: { id: string; rule: string; service: string | null }[];
    };
    return page.items.filter((a) => a.rule === rule && (service === undefined || a.service === service));
  }

  async function dispatch(at: number) {
    await app.alerts.dispatch(at);
    await app.alerts.idle();
  }

  beforeAll(async () => {
    [pd, og, slack, hook] = await Promise.all([
      startStandIn(),
      startStandIn(),
      startStandIn(),
      startStandIn(),
    ]);
    slack.answer = () => ({ status: 200, body: 'ok' });
    database = await freshDatabase(dialect);
    await store?.close();
    await open();
    await store.tokens.ensureBootstrap(ADMIN);
  });

  afterAll(async () => {
    await app.server.close();
    await store.close();
    await database.destroy();
    await Promise.all([pd, og, slack, hook].map((s) => s.close()));
  });

  it('pages PagerDuty for a failed production deployment, escalates, survives a restart, resolves', async () => {
    const t0 = Date.now();
    await event('started', 'd-pay-1', { service: 'payments', environment: 'production' });
    await event('failed', 'd-pay-1', { service: 'payments', environment: 'production' });
    const [alert] = await firing('prod-failed');
    expect(alert).toBeDefined();
    const id = (alert as { id: string }).id;

    // Nothing before group_wait (30 s by default).
    await dispatch(t0 + 10_000);
    expect(pd.requests.filter((r) => pdOf(r).dedup_key === id)).toHaveLength(0);
    await dispatch(t0 + 31_000);
    const [trigger] = await pd.waitFor(1, (r) => pdOf(r).dedup_key === id);
    expect(trigger?.path).toBe('/v2/enqueue');
    expect(trigger?.headers['content-type']).toBe('application/json');
    const body = pdOf(trigger as RecordedRequest);
    expect(body).toMatchObject({ routing_key: 'rk-primary', event_action: 'trigger', dedup_key: id });
    expect(body.payload).toMatchObject({
      severity: 'critical',
      component: 'payments',
      group: 'production',
      class: 'deployment_failed',
    });
    expect(typeof body.payload?.summary).toBe('string');
    expect(typeof body.payload?.source).toBe('string');
    expect(Date.parse(String(body.payload?.timestamp))).not.toBeNaN();

    // Restart: the escalation's next level is a row in the database, not a timer.
    await app.server.close();
    await store.close();
    await open();

    await dispatch(t0 + 31_000 + 14 * MIN);
    expect(pd.requests.filter((r) => pdOf(r).routing_key === 'rk-secondary')).toHaveLength(0);
    await dispatch(t0 + 31_000 + 15 * MIN + 1000);
    const [escalated] = await pd.waitFor(1, (r) => pdOf(r).routing_key === 'rk-secondary');
    expect(pdOf(escalated as RecordedRequest)).toMatchObject({ event_action: 'trigger', dedup_key: id });
    // No repeat configured: the escalation is over.
    await dispatch(t0 + 5 * 3600_000);
    expect(pd.requests.filter((r) => pdOf(r).dedup_key === id)).toHaveLength(2);

    // The next successful deployment resolves it; every paged receiver is told, same dedup_key.
    await event('started', 'd-pay-2', { service: 'payments', environment: 'production' });
    await event('succeeded', 'd-pay-2', { service: 'payments', environment: 'production' });
    expect(await firing('prod-failed')).toHaveLength(0);
    await dispatch(Date.now());
    const resolves = await pd.waitFor(
      2,
      (r) => pdOf(r).event_action === 'resolve' && pdOf(r).dedup_key === id,
    );
    expect(resolves.map((r) => pdOf(r).routing_key).sort()).toEqual(['rk-primary', 'rk-secondary']);
    expect(Object.keys(pdOf(resolves[0] as RecordedRequest)).sort()).toEqual([
      'dedup_key',
      'event_action',
      'routing_key',
    ]);

    // Every change and every attempt is in the ledger.
    const size = await app.ledger.size();
    const entries = (await call('GET', `/v1/ledger/entries?start=0&end=${Math.min(size, 1000)}`)).json() as {
      entries: { data: string | null }[];
    };
    const records = entries.entries
      .map((e) => JSON.parse(e.data ?? '{}') as Record<string, unknown>)
      .filter((r) => r.id === id || (Array.isArray(r.alerts) && r.alerts.includes(id)));
    expect(records.filter((r) => r.recordType === 'alert').map((r) => r.change)).toEqual([
      'fired',
      'escalated',
      'escalated',
      'resolved',
    ]);
    expect(
      records.filter((r) => r.recordType === 'alert_notification' && r.outcome === 'delivered'),
    ).toHaveLength(4);
  });

  it('an acknowledgement stops the escalation; ack is declared per role and idempotent', async () => {
    const t0 = Date.now();
    await event('failed', 'd-cart-1', { service: 'cart', environment: 'production' });
    const [alert] = await firing('prod-failed', 'cart');
    const id = (alert as { id: string }).id;
    await dispatch(t0 + 31_000);
    await pd.waitFor(1, (r) => pdOf(r).dedup_key === id);

    const viewer = (await call('POST', '/v1/tokens', { name: 'vera', role: 'viewer' })).json()
      .token as string;
    expect((await call('POST', `/v1/alerts/${id}/ack`, undefined, viewer)).status).toBe(403);
    const acked = await call('POST', `/v1/alerts/${id}/ack`);
    expect(acked.status).toBe(200);
    expect(acked.json().alert).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'bootstrap' });
    expect((await call('POST', `/v1/alerts/${id}/ack`)).status).toBe(200);
    expect((await call('POST', '/v1/alerts/alt_nope/ack')).status).toBe(404);
    const listed = (await call('GET', '/v1/alerts?status=acknowledged')).json() as {
      items: { id: string }[];
    };
    expect(listed.items.map((a) => a.id)).toContain(id);
    expect((await call('GET', '/v1/alerts?status=sleeping')).status).toBe(400);

    // PagerDuty hears of the acknowledgement under the same key; the escalation never pages again.
    await dispatch(Date.now());
    const [ack] = await pd.waitFor(
      1,
      (r) => pdOf(r).event_action === 'acknowledge' && pdOf(r).dedup_key === id,
    );
    expect(pdOf(ack as RecordedRequest)).toEqual({
      routing_key: 'rk-primary',
      event_action: 'acknowledge',
      dedup_key: id,
    });
    await dispatch(t0 + 31_000 + 16 * MIN);
    expect(pd.requests.filter((r) => pdOf(r).dedup_key === id).map((r) => pdOf(r).event_action)).toEqual([
      'trigger',
      'acknowledge',
    ]);
  });

  it('judges each rule on the change that concerns it', async () => {
    // ungated_deployment: started in a protected environment without an allowing decision.
    await event('started', 'd-auth-1', { service: 'auth', environment: 'production' });
    expect(await firing('bypass', 'auth')).toHaveLength(1);
    // outside_window: a start at 03:00 UTC on a Monday, outside 09:00-16:00.
    await event('started', 'd-web-1', {
      service: 'web',
      environment: 'preprod',
      time: '2026-11-30T03:00:00Z',
    });
    expect(await firing('off-hours')).toHaveLength(1);
    await event('started', 'd-web-2', {
      service: 'web',
      environment: 'preprod',
      time: '2026-11-30T10:00:00Z',
    });
    expect(await firing('off-hours')).toHaveLength(0);
    // rolled_back.
    await event('started', 'd-api-1', { service: 'api', environment: 'qa' });
    await event('succeeded', 'd-api-1', { service: 'api', environment: 'qa' });
    await event('rolled_back', 'd-api-1', { service: 'api', environment: 'qa' });
    expect(await firing('rollback')).toHaveLength(1);
    // verification_failed, as the verification engine reports it.
    await app.alerts.evaluate({ kind: 'verification', deployment: 'd-api-1', status: 'failed' });
    expect(await firing('verify')).toHaveLength(1);
    await app.alerts.evaluate({ kind: 'verification', deployment: 'd-api-1', status: 'passed' });
    expect(await firing('verify')).toHaveLength(0);

    // frequency_above: the third start within the hour.
    const now = Date.now();
    for (const n of [1, 2, 3])
      await event('started', `d-st-${n}`, {
        service: 'search',
        environment: 'staging',
        time: new Date(now - (4 - n) * 1000).toISOString(),
      });
    expect(await firing('busy')).toHaveLength(1);
    // Time-based rules: overdue (no history: after 30m), frequency back to normal, and too quiet a day later.
    await app.alerts.checkTimedRules(now + 31 * MIN);
    expect((await firing('slow')).length).toBe(3);
    await app.alerts.checkTimedRules(now + 2 * 3600_000);
    expect(await firing('busy')).toHaveLength(0);
    await app.alerts.checkTimedRules(now + 25 * 3600_000);
    expect(await firing('quiet')).toHaveLength(1);
    await event('succeeded', 'd-st-1', { service: 'search', environment: 'staging' });
    expect((await firing('slow')).length).toBe(2);

    // approval_overdue: requested and waiting longer than an hour.
    await event('requested', 'd-auth-2', { service: 'auth', environment: 'production' });
    await app.alerts.checkTimedRules(Date.now() + 61 * MIN);
    expect(await firing('waiting')).toHaveLength(1);
    const gate = await call('POST', '/v1/gate', {
      deployment: 'd-auth-1',
      service: 'auth',
      environment: 'production',
      version: '1.0.0',
    });
    expect(gate.status).toBe(200);
    await app.alerts.idle();
    // The gate allowed d-auth-1 late (no rules in production): its ungated alert resolves.
    expect(await firing('bypass', 'auth')).toHaveLength(0);
  });

  it('fires and resolves in order when a failure and the success that settles it commit together', async () => {
    const base = {
      timeMs: Date.now(),
      service: 'batch',
      environment: 'production',
      actor: 'ci',
      kind: 'release' as const,
      version: '1',
    };
    await app.alerts.evaluate([
      {
        kind: 'deployment',
        event: { ...base, id: 'x1', type: 'deployment.failed', deployment: 'b-1' },
        status: 'failed',
      },
      {
        kind: 'deployment',
        event: { ...base, id: 'x2', type: 'deployment.succeeded', deployment: 'b-2' },
        status: 'succeeded',
      },
    ]);
    expect(await firing('prod-failed', 'batch')).toHaveLength(0);
    const resolved = (await call('GET', '/v1/alerts?status=resolved&limit=1000')).json() as {
      items: { rule: string; service: string | null }[];
    };
    expect(resolved.items.filter((a) => a.rule === 'prod-failed' && a.service === 'batch')).toHaveLength(1);
  });

  it('routes to Opsgenie and a signed webhook; a hung Slack and a failing Opsgenie block nobody and end as dead letters', async () => {
    slack.answer = () => ({ hang: true });
    og.answer = () => ({ status: 500, body: '{"message":"boom"}' });
    await event('started', 'd-img-1', { service: 'images', environment: 'qa' });
    await event('succeeded', 'd-img-1', { service: 'images', environment: 'qa' });
    await event('rolled_back', 'd-img-1', { service: 'images', environment: 'qa' });
    const [alert] = await firing('rollback', 'images');
    const id = (alert as { id: string }).id;
    const start = Date.now();
    await dispatch(start + 31_000);
    // The webhook got its signed group notification although Slack hangs.
    const [delivered] = await hook.waitFor(1, (r) => r.body.includes(id));
    const timestamp = String(delivered?.headers['x-shiplog-timestamp']);
    const expected = `sha256=${createHmac('sha256', HOOK_SECRET)
      .update(`${timestamp}.${delivered?.body ?? ''}`)
      .digest('hex')}`;
    expect(delivered?.headers['x-shiplog-signature']).toBe(expected);
    expect(delivered?.json).toMatchObject({ version: '1', receiver: 'audit-hook', status: 'firing' });
    // Opsgenie: the documented create-alert shape, with the key as GenieKey.
    const [create] = await og.waitFor(1, (r) => r.body.includes(id));
    expect(create?.path).toBe('/v2/alerts');
    expect(create?.headers.authorization).toBe('GenieKey og-api-key');
    expect(create?.json).toMatchObject({ alias: id, priority: 'P3', source: 'shiplog' });
    expect(String((create?.json as { message: string }).message).length).toBeLessThanOrEqual(130);
    // A second attempt after the backoff, then the dead letter (maxAttempts 2), visible to admins.
    await dispatch(start + 31_000 + 2000);
    await og.waitFor(2, (r) => r.body.includes(id));
    const letters = (await call('GET', '/v1/webhooks/outbound/dead-letters?sink=alerts:ops')).json() as {
      items: { body: string; headers: Record<string, string>; attempts: number; lastError: string }[];
    };
    const letter = letters.items.find((l) => l.body.includes(id));
    expect(letter).toMatchObject({ attempts: 2, lastError: 'HTTP 500' });
    expect(JSON.stringify(letter)).not.toContain('og-api-key');
    // The hung Slack call timed out and is pending a retry, not blocking anyone.
    expect(slack.requests.filter((r) => r.body.includes(id)).length).toBeGreaterThanOrEqual(1);
    slack.answer = () => ({ status: 200, body: 'ok' });
    og.answer = () => ({ status: 202, body: '{"result":"Request will be processed"}' });
    // An acknowledgement in shiplog acknowledges the Opsgenie alert by its alias.
    expect((await call('POST', `/v1/alerts/${id}/ack`)).status).toBe(200);
    await dispatch(Date.now());
    const [ack] = await og.waitFor(1, (r) => r.path.includes(`/${id}/acknowledge`));
    expect(ack?.path).toBe(`/v2/alerts/${id}/acknowledge?identifierType=alias`);
    expect(ack?.json).toMatchObject({ source: 'shiplog', user: 'bootstrap' });
  });

  it('posts Slack blocks and honours 429 Retry-After', async () => {
    let first = true;
    slack.answer = () => {
      if (first) {
        first = false;
        return { status: 429, headers: { 'retry-after': '3600' }, body: 'rate_limited' };
      }
      return { status: 200, body: 'ok' };
    };
    const before = slack.requests.length;
    const t0 = Date.now();
    await event('started', 'd-mail-1', { service: 'mail', environment: 'production' });
    await event('succeeded', 'd-mail-1', { service: 'mail', environment: 'production' });
    await event('rolled_back', 'd-mail-1', { service: 'mail', environment: 'production' });
    const [alert] = await firing('rollback', 'mail');
    const id = (alert as { id: string }).id;
    await dispatch(t0 + 3 * 3600_000);
    const mine = () => slack.requests.slice(before).filter((r) => r.body.includes(id));
    expect(mine()).toHaveLength(1);
    await dispatch(t0 + 3 * 3600_000 + 10_000);
    expect(mine()).toHaveLength(1);
    await dispatch(t0 + 4 * 3600_000 + 10_000);
    expect(mine()).toHaveLength(2);
    const message = mine()[1]?.json as { text: string; blocks: { type: string }[] };
    expect(message.text).toContain('[FIRING');
    expect(message.blocks[0]?.type).toBe('header');
    expect(message.blocks.some((b) => b.type === 'section')).toBe(true);
  });
});
