/**
 * Suppression during deploys against the real Alertmanager: the silence shiplog creates when
 * a deployment starts is really held (read back through Alertmanager's API v2) and really
 * keeps a non-critical alert of the deploying service from being delivered, while a critical
 * one reaches shiplog's own Alertmanager receiver; once the deployment finishes (grace 0) the
 * silence is expired and the held alert is delivered too. Then the lease: renewal, a restart
 * that resumes from the database, and the end `grace` after the final state, driven by
 * `tick(now)`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALERTS } from '../../src/alerts/alerts-config.js';
import { createSilences } from '../../src/alerts/silences.js';
import type { SuppressionSettings } from '../../src/alerts/suppression-config.js';
import { matchesAll, parseMatcher } from '../../src/alerts/matchers.js';
import { buildApp, type App } from '../../src/server/app.js';
import type { Store } from '../../src/store/database.js';
import type { DeploymentEvent, EventType } from '../../src/domain/event.js';
import type { StoredEvent } from '../../src/domain/write-plan.js';
import { createEventWriter } from '../../src/store/event-writer.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { freePort, startAlertmanager, waitFor, type Running } from '../helpers/monitoring.js';

const ADMIN = 'suppression-admin';
const AM_TOKEN = 'am-webhook-token';

interface AmSilence {
  id: string;
  status: { state: string };
  matchers: { name: string; value: string; isRegex: boolean; isEqual: boolean }[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
}

interface AmAlert {
  labels: Record<string, string>;
  status: { state: string; silencedBy: string[] };
}

const amConfig = (shiplogUrl: string) => `
route:
  receiver: shiplog
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: shiplog
    webhook_configs:
      - url: ${shiplogUrl}/v1/webhooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: ${AM_TOKEN}
`;

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const amSilence = async (am: Running, id: string) => {
  const all = await json<AmSilence[]>(`${am.url}/api/v2/silences`);
  return all.find((s) => s.id === id);
};

describe.each(DIALECTS)('suppression during deploys, real Alertmanager (%s)', (dialect) => {
  let database: TestDatabase;
  let store: Store;
  let app: App;
  let am: Running;
  let shiplog: string;

  const settings = (url: string): SuppressionSettings => ({
    url,
    matchers: [parseMatcher('severity!="critical"')],
    graceMs: 0,
    leaseMs: 60_000,
    maxHoldMs: 3_600_000,
  });

  beforeAll(async () => {
    database = await freshDatabase(dialect);
    store = await database.open();
    await store.tokens.ensureBootstrap(ADMIN);
    const amPort = await freePort();
    app = await buildApp({
      store,
      alerts: { ...DEFAULT_ALERTS, suppression: settings(`http://127.0.0.1:${amPort}`) },
      webhooks: { secrets: { alertmanager: AM_TOKEN } },
    });
    await app.server.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.server.address();
    shiplog = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    am = await startAlertmanager(amConfig(shiplog), amPort);
  });

  afterAll(async () => {
    await app?.server.close();
    await am?.stop();
    await store?.close();
    await database?.destroy();
  });

  const api = <T>(path: string, body?: unknown) =>
    json<T>(`${shiplog}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const event = (type: string) =>
    api('/v1/events', {
      type,
      deployment: 'deploy-1',
      service: 'checkout-api',
      environment: 'production',
      version: '1.42.0',
    });
  type SilencesPage = { items: { service: string; state: string; silenceId: string; matchers: string[] }[] };
  const incidentTitles = async () =>
    (await api<{ items: { title: string }[] }>('/v1/incidents?service=checkout-api')).items.map(
      (i) => i.title,
    );

  it('holds a silence while checkout-api deploys: non-critical alerts wait, critical ones reach shiplog', async () => {
    await event('deployment.started');
    const silence = await waitFor('the silence', async () => {
      const page = await api<SilencesPage>('/v1/silences?state=active');
      return page.items.find((s) => s.service === 'checkout-api');
    });
    expect(silence.matchers).toEqual([
      'service="checkout-api"',
      'environment="production"',
      'severity!="critical"',
    ]);

    const held = await amSilence(am, silence.silenceId);
    expect(held).toMatchObject({ status: { state: 'active' }, createdBy: 'shiplog' });
    expect(held?.matchers).toEqual(
      expect.arrayContaining([
        { name: 'service', value: 'checkout-api', isRegex: false, isEqual: true },
        { name: 'environment', value: 'production', isRegex: false, isEqual: true },
        { name: 'severity', value: 'critical', isRegex: false, isEqual: false },
      ]),
    );

    const labels = { service: 'checkout-api', environment: 'production' };
    const post = await fetch(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { labels: { alertname: 'CheckoutSlow', severity: 'warning', ...labels } },
        { labels: { alertname: 'CheckoutDown', severity: 'critical', ...labels } },
      ]),
    });
    expect(post.status).toBe(200);

    // The critical alert is delivered to shiplog's receiver and becomes an incident...
    await waitFor('the critical alert at shiplog', async () =>
      (await incidentTitles()).includes('CheckoutDown') ? true : undefined,
    );
    // ...while Alertmanager holds the warning back with shiplog's silence.
    const alerts = await json<AmAlert[]>(`${am.url}/api/v2/alerts`);
    const slow = alerts.find((a) => a.labels.alertname === 'CheckoutSlow');
    expect(slow?.status).toMatchObject({ state: 'suppressed', silencedBy: [silence.silenceId] });
    expect(alerts.find((a) => a.labels.alertname === 'CheckoutDown')?.status.state).toBe('active');
    expect(await incidentTitles()).not.toContain('CheckoutSlow');
    expect(await app.server.inject({ url: '/v1/silences' }).then((r) => r.statusCode)).toBe(401);
    const bad = await app.server.inject({
      url: '/v1/silences?state=paused',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('state');

    // The deployment finishes: with grace 0 the silence ends at once, and the warning arrives.
    await event('deployment.succeeded');
    await waitFor('the silence to end', async () => {
      const page = await api<SilencesPage>('/v1/silences');
      return page.items.find((s) => s.service === 'checkout-api' && s.state === 'ended');
    });
    expect((await amSilence(am, silence.silenceId))?.status.state).toBe('expired');
    await waitFor('the held alert at shiplog', async () =>
      (await incidentTitles()).includes('CheckoutSlow') ? true : undefined,
    );
  });

  it('owes a silence it could not create while Alertmanager was unreachable, and creates it on the next tick', async () => {
    // From here on the test drives tick() itself: the app's own background ticks stop.
    await app.leader.stop();
    const committed: StoredEvent[] = [];
    const writer = createEventWriter(store, { onCommit: (stored) => committed.push(...stored) });
    const t0 = Date.now();
    const event: DeploymentEvent = {
      id: 'inv-1-started',
      type: 'deployment.started',
      timeMs: t0,
      deployment: 'inv-1',
      service: 'inventory',
      environment: 'production',
      version: '5.0.0',
      actor: 'ci',
      kind: 'release',
    };
    await writer.write({ events: [event], source: 'test', receivedMs: t0, timed: [true], pointers: [''] });
    await writer.drain();
    await new Promise((r) => setImmediate(r));
    const down = createSilences({ store, settings: settings(`http://127.0.0.1:${await freePort()}`) });
    await down.onEvents(committed.splice(0));
    const owed = await store.silences.find('inventory', 'production');
    expect(owed).toMatchObject({ state: 'active', silence_id: null });
    expect(owed?.last_error).toMatch(/ECONNREFUSED/);

    // Alertmanager answers again: the leader's tick creates the silence.
    const up = createSilences({ store, settings: settings(am.url) });
    await up.tick();
    const created = await store.silences.find('inventory', 'production');
    expect(created).toMatchObject({ state: 'active', last_error: null });
    expect((await amSilence(am, created?.silence_id as string))?.status.state).toBe('active');
  });

  it('renews within the lease, resumes after a restart from the database, and ends grace after the final state', async () => {
    const lease = 60_000;
    const grace = 120_000;
    const committed: StoredEvent[] = [];
    const writer = createEventWriter(store, { onCommit: (stored) => committed.push(...stored) });
    const record = async (type: EventType, timeMs: number) => {
      const event: DeploymentEvent = {
        id: `pay-1-${type}`,
        type,
        timeMs,
        deployment: 'pay-1',
        service: 'payments',
        environment: 'staging',
        version: '2.0.0',
        actor: 'ci',
        kind: 'release',
      };
      const [result] = await writer.write({
        events: [event],
        source: 'test',
        receivedMs: timeMs,
        timed: [true],
        pointers: [''],
      });
      expect(result?.status).toBe('stored');
      await writer.drain();
      await new Promise((r) => setImmediate(r)); // onCommit runs in a microtask after the commit
      return committed.splice(0);
    };
    const options = { store, settings: { ...settings(am.url), graceMs: grace, leaseMs: lease } };
    const t0 = Date.now();
    let clock = t0;
    const first = createSilences({ ...options, now: () => clock });
    await first.onEvents(await record('deployment.started', t0));
    const created = await store.silences.find('payments', 'staging');
    expect(created).toMatchObject({ state: 'active', ends_ms: t0 + lease, hold_until_ms: null });
    const id = created?.silence_id as string;
    expect(Date.parse((await amSilence(am, id))?.endsAt ?? '')).toBe(t0 + lease);
    const silenced = first.matchersOf('payments', 'staging');
    expect(matchesAll(silenced, { service: 'payments', environment: 'staging', severity: 'warning' })).toBe(
      true,
    );
    expect(matchesAll(silenced, { service: 'payments', environment: 'staging', severity: 'critical' })).toBe(
      false,
    );

    // More than half the lease left: nothing to do; less: renewed one lease ahead, same silence.
    clock = t0 + lease / 4;
    await first.tick(clock);
    expect((await store.silences.find('payments', 'staging'))?.ends_ms).toBe(t0 + lease);
    clock = t0 + (lease * 3) / 4;
    await first.tick(clock);
    expect((await store.silences.find('payments', 'staging'))?.ends_ms).toBe(clock + lease);
    expect(Date.parse((await amSilence(am, id))?.endsAt ?? '')).toBe(clock + lease);

    // A restarted shiplog (a new instance over the same database) renews the same silence.
    const second = createSilences({ ...options, now: () => clock });
    const renewedAt = clock + (lease * 3) / 4;
    clock = renewedAt;
    await second.tick(clock);
    const resumed = await store.silences.find('payments', 'staging');
    expect(resumed).toMatchObject({ silence_id: id, ends_ms: renewedAt + lease });
    // Whatever happens next, Alertmanager lets the silence lapse within one lease of the last renewal.
    const atAm = await amSilence(am, id);
    expect(Date.parse(atAm?.endsAt ?? '') - renewedAt).toBeLessThanOrEqual(lease);

    // The deployment fails: the silence now ends grace after that, then is expired.
    const failedAt = renewedAt + 1000;
    // (no onEvents here: the leader's tick alone finds that nothing runs any more)
    await record('deployment.failed', failedAt);
    clock = failedAt + 10;
    await second.tick(clock);
    expect(await store.silences.find('payments', 'staging')).toMatchObject({
      state: 'active',
      hold_until_ms: failedAt + grace,
      ends_ms: failedAt + grace,
    });
    expect(Date.parse((await amSilence(am, id))?.endsAt ?? '')).toBe(failedAt + grace);
    clock = failedAt + grace + 1;
    await second.tick(clock);
    expect((await store.silences.find('payments', 'staging'))?.state).toBe('ended');
    expect((await amSilence(am, id))?.status.state).toBe('expired');
  });
});
