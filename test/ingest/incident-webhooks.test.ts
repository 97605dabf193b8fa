/**
 * The incident receivers over HTTP on every dialect: every fixture of PagerDuty, Opsgenie,
 * Alertmanager, Grafana, Jira and CDEvents incident.* sent with the tool's own authentication,
 * the incident read back through GET /v1/incidents/{key}; wrong signatures stored nothing; the
 * CDEvents records stored before incidents existed are turned into incidents once.
 */
import { createHmac } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';
import { rawSql } from '../helpers/raw-sql.js';
import { DIALECTS, freshDatabase } from '../helpers/dialects.js';
import { FIXTURES, SECRETS, deliver, fixture } from '../helpers/webhooks.js';

const files = (dir: string) => readdirSync(new URL(dir, FIXTURES)).sort();

/** What each fixture is answered over HTTP. */
const EXPECTED: Record<string, number> = {
  'alertmanager/webhook-v4.firing.alertmanager-bot.json': 201,
  'alertmanager/webhook-v4.firing.prometheus-msteams.json': 201,
  'alertmanager/webhook-v4.firing.zulip.json': 201,
  'alertmanager/webhook-v4.format.docs.published.jsonc': 400,
  'alertmanager/webhook-v4.resolved.alertmanager-bot.json': 201,
  'alertmanager/webhook-v4.resolved.zulip.json': 201,
  'grafana/webhook.firing.grafana-docs.json': 201,
  'grafana/webhook.firing.zulip.json': 201,
  'grafana/webhook.resolved.zulip.json': 201,
  'pagerduty/events-v2.alert.acknowledge.json': 202,
  'pagerduty/events-v2.alert.resolve.json': 202,
  'pagerduty/events-v2.alert.trigger.json': 202,
  'pagerduty/events-v2.alert.trigger.published.jsonc': 400,
  'pagerduty/events-v2.change-event.json': 202,
  'pagerduty/webhook-v3.event-data.incident.json': 400,
  'pagerduty/webhook-v3.incident.acknowledged.zulip.json': 201,
  'pagerduty/webhook-v3.incident.priority_updated.json': 201,
  'pagerduty/webhook-v3.incident.reopened.zulip.json': 201,
  'pagerduty/webhook-v3.incident.resolved.zulip.json': 201,
  'pagerduty/webhook-v3.incident.triggered.zulip.json': 201,
  'pagerduty/webhook-v3.service.updated.json': 202,
  'opsgenie/webhook.alert.acknowledge.zulip.json': 201,
  'opsgenie/webhook.alert.close.zulip.json': 201,
  'opsgenie/webhook.alert.create.zulip.json': 201,
  'jira/rest-v2.issue-get.sentry.json': 400,
  'jira/webhook.issue_created.mattermost.json': 202,
  'jira/webhook.issue_updated.reopened.mattermost.json': 202,
  'jira/webhook.issue_updated.server-resolved.mattermost.json': 202,
  'jira/webhook.issue_updated.status-done.mattermost.json': 202,
  'jira/webhook.issue_updated.status-in-progress.mattermost.json': 202,
};

async function count(t: TestApp, table: 'incidents' | 'incident_changes'): Promise<number> {
  const row = await rawSql(t.store)
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A Jira fixture as an issue of type Incident (no public capture of one exists). */
const asIncidentIssue = (file: string) => {
  const body = JSON.parse(fixture(`jira/${file}`).toString('utf8')) as {
    issue: { fields: { issuetype: { name: string } } };
  };
  body.issue.fields.issuetype.name = 'Incident';
  return JSON.stringify(body);
};

describe.each(DIALECTS)('incident webhooks over HTTP (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(dialect, {
      webhooks: {
        secrets: SECRETS,
        mappings: { rules: { pagerduty: { services: [{ match: 'pig208', service: 'checkout-api' }] } } },
      },
    });
  });
  afterAll(async () => t.close());

  const incident = async (key: string) => {
    const response = await t.call('GET', `/v1/incidents/${encodeURIComponent(key)}`);
    expect(response.status).toBe(200);
    return response.json();
  };

  it('lists an expectation for every fixture of these tools', () => {
    const all = ['alertmanager/', 'grafana/', 'pagerduty/', 'opsgenie/', 'jira/'].flatMap((dir) =>
      files(dir).map((f) => `${dir}${f}`),
    );
    expect(Object.keys(EXPECTED).sort()).toEqual(all.sort());
  });

  it.each(Object.entries(EXPECTED))('%s → %i', async (file, status) => {
    const source = file.split('/')[0] ?? '';
    const response = await deliver(t.app.server, source, fixture(file));
    expect(response.status, response.body).toBe(status);
    if (status === 202) expect(response.json()).toEqual({ ignored: expect.any(String) });
    if (status === 400)
      expect((response.json() as { error: { details: unknown[] } }).error.details.length).toBeGreaterThan(0);
    if (status === 201) {
      const { incidents } = response.json() as { incidents: { key: string }[] };
      for (const { key } of incidents) await incident(key);
    }
  });

  it('follows an alert from firing to resolved (Alertmanager and Grafana) and a PagerDuty incident', async () => {
    await deliver(t.app.server, 'alertmanager', fixture('alertmanager/webhook-v4.firing.zulip.json'));
    await deliver(t.app.server, 'alertmanager', fixture('alertmanager/webhook-v4.resolved.zulip.json'));
    expect(await incident('alertmanager:a1bc48475b20e73d')).toMatchObject({
      kind: 'alert',
      status: 'resolved',
      severity: 'sev1',
    });
    expect(await incident('alertmanager:c2ea85182f28cbd9')).toMatchObject({ status: 'triggered' });
    await deliver(t.app.server, 'grafana', fixture('grafana/webhook.firing.zulip.json'));
    await deliver(t.app.server, 'grafana', fixture('grafana/webhook.resolved.zulip.json'));
    expect(await incident('grafana:d8a21484c9c25a60')).toMatchObject({
      status: 'resolved',
      resolvedAt: '2022-06-17T00:51:24.067Z',
    });
    expect(await incident('pagerduty:PFQZPSY')).toMatchObject({
      service: 'checkout-api',
      title: 'Test Incident 3',
    });
  });

  it('a redelivery changes nothing and adds no ledger entry', async () => {
    const body = fixture('opsgenie/webhook.alert.create.zulip.json');
    await deliver(t.app.server, 'opsgenie', body);
    const before = await count(t, 'incident_changes');
    const again = await deliver(t.app.server, 'opsgenie', body);
    expect(again.json()).toMatchObject({ incidents: [{ status: 'unchanged', ledgerIndex: null }] });
    expect(await count(t, 'incident_changes')).toBe(before);
  });

  it('follows a Jira Incident issue through its statuses', async () => {
    const steps: [string, string][] = [
      ['webhook.issue_created.mattermost.json', 'triggered'],
      ['webhook.issue_updated.status-in-progress.mattermost.json', 'acknowledged'],
      ['webhook.issue_updated.status-done.mattermost.json', 'resolved'],
      ['webhook.issue_updated.reopened.mattermost.json', 'triggered'],
    ];
    for (const [file, status] of steps) {
      const response = await deliver(t.app.server, 'jira', asIncidentIssue(file));
      expect(response.status).toBe(201);
      expect(await incident('jira:TES-41')).toMatchObject({ status, ticket: 'TES-41' });
    }
  });

  it('CDEvents incident.detected → reported → resolved become one incident', async () => {
    const detected = await deliver(t.app.server, 'cdevents', fixture('cdevents/incident_detected.json'));
    expect(detected.status).toBe(202);
    expect(detected.json()).toMatchObject({
      recorded: { type: 'incident.detected' },
      incident: { key: 'cdevents:incident-123', status: 'created' },
    });
    await deliver(t.app.server, 'cdevents', fixture('cdevents/incident_reported.json'));
    await deliver(t.app.server, 'cdevents', fixture('cdevents/incident_resolved.json'));
    expect(await incident('cdevents:incident-123')).toMatchObject({
      title: 'Response time above threshold of 100ms',
      service: 'myapp',
      environment: 'prod1',
      status: 'resolved',
    });
  });

  it('401 and nothing stored for a wrong or missing signature, on every receiver', async () => {
    const before = await count(t, 'incident_changes');
    for (const [source, file] of [
      ['pagerduty', 'pagerduty/webhook-v3.incident.triggered.zulip.json'],
      ['opsgenie', 'opsgenie/webhook.alert.create.zulip.json'],
      ['alertmanager', 'alertmanager/webhook-v4.firing.zulip.json'],
      ['grafana', 'grafana/webhook.firing.zulip.json'],
      ['jira', 'jira/webhook.issue_created.mattermost.json'],
    ] as const) {
      expect((await deliver(t.app.server, source, fixture(file), {}, 'wrong')).status).toBe(401);
      expect((await deliver(t.app.server, source, fixture(file), {}, 'none')).status).toBe(401);
    }
    expect(await count(t, 'incident_changes')).toBe(before);
  });

  it('accepts Grafana HMAC signatures, with and without the timestamp header', async () => {
    const body = fixture('grafana/webhook.firing.grafana-docs.json');
    const mac = (data: Buffer | string) =>
      createHmac('sha256', SECRETS.grafana ?? '')
        .update(data)
        .digest('hex');
    const signed = await deliver(
      t.app.server,
      'grafana',
      body,
      { 'x-grafana-alerting-signature': mac(body) },
      'none',
    );
    expect(signed.status).toBe(201);
    const ts = '1700000000';
    const withTs = await deliver(
      t.app.server,
      'grafana',
      body,
      {
        'x-grafana-alerting-signature': mac(`${ts}:${body.toString('utf8')}`),
        'x-grafana-alerting-timestamp': ts,
      },
      'none',
    );
    expect(withTs.status).toBe(201);
    const bad = await deliver(
      t.app.server,
      'grafana',
      body,
      { 'x-grafana-alerting-signature': mac('other') },
      'none',
    );
    expect(bad.status).toBe(401);
  });

  it('keeps deliveries in the log without their signatures', async () => {
    const list = await t.call('GET', '/v1/webhooks/deliveries?limit=200');
    const items = (list.json() as { items: { id: string; source: string }[] }).items;
    const pd = items.find((d) => d.source === 'pagerduty');
    expect(pd).toBeDefined();
    const detail = await t.call('GET', `/v1/webhooks/deliveries/${pd?.id ?? ''}`);
    expect(JSON.stringify(detail.json())).not.toContain('x-pagerduty-signature');
    // The log filters by the incident tools as by the deployment tools.
    for (const source of ['pagerduty', 'alertmanager']) {
      const only = await t.call('GET', `/v1/webhooks/deliveries?source=${source}&limit=200`);
      expect(only.status).toBe(200);
      const sources = (only.json() as { items: { source: string }[] }).items.map((d) => d.source);
      expect(sources.length).toBeGreaterThan(0);
      expect(new Set(sources)).toEqual(new Set([source]));
    }
  });
});

describe.each(DIALECTS)('CDEvents incident records stored before incidents existed (%s)', (dialect) => {
  it('become incidents once, at start-up, each change with a ledger entry', async () => {
    const database = await freshDatabase(dialect);
    const store = await database.open();
    try {
      await store.tokens.ensureBootstrap(ADMIN);
      const rows = ['incident_detected', 'incident_resolved'].map((name, i) => ({
        id: `cdevents:old-${String(i)}`,
        source: 'cdevents',
        record_type: name.replace('_', '.'),
        event_source: '/monitoring/prod1',
        time_ms: Date.parse('2022-11-11T13:52:20.079Z') + i,
        data: fixture(`cdevents/${name}.json`).toString('utf8'),
        created_ms: 1 + i,
      }));
      await rawSql(store).insertInto('webhook_records').values(rows).execute();
      const first = await buildApp({ store });
      await first.server.ready();
      const answer = await first.server.inject({
        method: 'GET',
        url: '/v1/incidents/cdevents:incident-123',
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(answer.json()).toMatchObject({ status: 'resolved', source: 'webhook:cdevents' });
      const changes = await rawSql(store).selectFrom('incident_changes').selectAll().execute();
      expect(changes.map((c) => [c.actor, c.outcome, c.ledger_index === null])).toEqual([
        ['migration:cdevents-records', 'created', false],
        ['migration:cdevents-records', 'updated', false],
      ]);
      await first.server.close();
      const second = await buildApp({ store });
      await second.server.ready();
      expect(await rawSql(store).selectFrom('incident_changes').selectAll().execute()).toHaveLength(2);
      await second.server.close();
    } finally {
      await store.close();
      await database.destroy();
    }
  });
});
