/**
 * The set-up snippets of docs/incidents.md, replayed against a real server on a real port: the
 * configuration each tool is given is parsed, and what the tool then sends (its published
 * payloads, authenticated as the snippet configures it) is posted to the URL it names.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';
import { ROOT } from '../helpers/server-process.js';
import { parseMappings, validateMappings } from '../../src/ingest/mapping-config.js';
import { SECRETS, SERVICENOW_INCIDENT, fixture } from '../helpers/webhooks.js';

const DOC = fs.readFileSync(path.join(ROOT, 'docs/incidents.md'), 'utf8');

function snippet(name: string): string {
  const match = new RegExp(`<!-- snippet:${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\``).exec(DOC);
  if (!match?.[1]) throw new Error(`docs/incidents.md has no snippet ${name}`);
  return match[1];
}

/** The JSON body of a `curl -d '...'` snippet. */
const curlBody = (script: string) => JSON.parse(/-d '(\{[\s\S]*\})'/.exec(script)?.[1] ?? 'null') as unknown;
const pathOf = (url: string) => new URL(url).pathname;

describe('docs/incidents.md set-up snippets', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await testApp('sqlite', { webhooks: { secrets: SECRETS } });
    base = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => t.close());

  const post = (url: string, body: Buffer | string, headers: Record<string, string>) =>
    fetch(`${base}${pathOf(url)}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const incident = async (key: string) => {
    const response = await fetch(`${base}/v1/incidents/${encodeURIComponent(key)}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    return (await response.json()) as Record<string, unknown>;
  };

  it('Alertmanager webhook_configs: firing then resolved, with the bearer token from credentials_file', async () => {
    const config = parse(snippet('alertmanager')) as {
      route: { receiver: string };
      receivers: {
        name: string;
        webhook_configs: {
          url: string;
          send_resolved: boolean;
          http_config: { authorization: { type: string; credentials_file: string } };
        }[];
      }[];
    };
    const receiver = config.receivers.find((r) => r.name === config.route.receiver);
    const hook = receiver?.webhook_configs[0];
    expect(hook?.send_resolved).toBe(true);
    expect(pathOf(hook?.url ?? '')).toBe('/v1/webhooks/alertmanager');
    // Alertmanager sends "<type> <contents of credentials_file>".
    const auth = {
      authorization: `${hook?.http_config.authorization.type ?? ''} ${SECRETS.alertmanager ?? ''}`,
    };
    for (const file of [
      'webhook-v4.firing.alertmanager-bot.json',
      'webhook-v4.resolved.alertmanager-bot.json',
    ]) {
      const response = await post(hook?.url ?? '', fixture(`alertmanager/${file}`), auth);
      expect(response.status).toBe(201);
    }
    const { incidents } = (await (
      await post(hook?.url ?? '', fixture('alertmanager/webhook-v4.resolved.alertmanager-bot.json'), auth)
    ).json()) as { incidents: { key: string }[] };
    expect(await incident(incidents[0]?.key ?? '')).toMatchObject({ kind: 'alert', status: 'resolved' });
  });

  it('PagerDuty subscription: the events it subscribes to arrive signed and are incidents', async () => {
    const body = curlBody(snippet('pagerduty')) as {
      webhook_subscription: { delivery_method: { url: string }; events: string[] };
    };
    const { url } = body.webhook_subscription.delivery_method;
    expect(pathOf(url)).toBe('/v1/webhooks/pagerduty');
    const files: Record<string, string> = {
      'incident.triggered': 'webhook-v3.incident.triggered.zulip.json',
      'incident.acknowledged': 'webhook-v3.incident.acknowledged.zulip.json',
      'incident.resolved': 'webhook-v3.incident.resolved.zulip.json',
      'incident.reopened': 'webhook-v3.incident.reopened.zulip.json',
      'incident.priority_updated': 'webhook-v3.incident.priority_updated.json',
    };
    for (const [event, file] of Object.entries(files)) {
      expect(body.webhook_subscription.events).toContain(event);
      const bytes = fixture(`pagerduty/${file}`);
      const signature = `v1=${createHmac('sha256', SECRETS.pagerduty ?? '')
        .update(bytes)
        .digest('hex')}`;
      const response = await post(url, bytes, { 'x-pagerduty-signature': signature });
      expect(response.status).toBe(201);
    }
    expect(await incident('pagerduty:PFQZPSY')).toMatchObject({
      status: 'triggered',
      title: 'Test Incident 3',
    });
  });

  it('Grafana contact point: the provisioned bearer token authenticates the notification', async () => {
    const config = parse(snippet('grafana')) as {
      contactPoints: {
        receivers: {
          type: string;
          settings: {
            url: string;
            httpMethod: string;
            authorization_scheme: string;
            authorization_credentials: string;
          };
        }[];
      }[];
    };
    const receiver = config.contactPoints[0]?.receivers[0];
    expect(receiver?.type).toBe('webhook');
    expect(receiver?.settings.httpMethod).toBe('POST');
    // Grafana provisioning expands $VARIABLES from its environment.
    const credentials = (receiver?.settings.authorization_credentials ?? '').replace(
      '$SHIPLOG_GRAFANA_WEBHOOK_TOKEN',
      SECRETS.grafana ?? '',
    );
    const auth = { authorization: `${receiver?.settings.authorization_scheme ?? ''} ${credentials}` };
    for (const file of ['webhook.firing.zulip.json', 'webhook.resolved.zulip.json']) {
      expect((await post(receiver?.settings.url ?? '', fixture(`grafana/${file}`), auth)).status).toBe(201);
    }
    expect(await incident('grafana:d8a21484c9c25a60')).toMatchObject({ status: 'resolved' });
  });

  it('Jira webhook: issue events of Incident issues, signed with the secret', async () => {
    const body = curlBody(snippet('jira')) as {
      url: string;
      events: string[];
      filters: Record<string, string>;
    };
    expect(body.filters['issue-related-events-section']).toBe('issuetype = Incident');
    for (const [event, file] of [
      ['jira:issue_created', 'webhook.issue_created.mattermost.json'],
      ['jira:issue_updated', 'webhook.issue_updated.status-done.mattermost.json'],
    ] as const) {
      expect(body.events).toContain(event);
      const issue = JSON.parse(fixture(`jira/${file}`).toString('utf8')) as {
        issue: { fields: { issuetype: { name: string } } };
      };
      issue.issue.fields.issuetype.name = 'Incident'; // what the JQL filter lets through
      const bytes = Buffer.from(JSON.stringify(issue));
      const signature = `sha256=${createHmac('sha256', SECRETS.jira ?? '')
        .update(bytes)
        .digest('hex')}`;
      expect((await post(body.url, bytes, { 'x-hub-signature': signature })).status).toBe(201);
    }
    expect(await incident('jira:TES-41')).toMatchObject({ status: 'resolved', ticket: 'TES-41' });
  });

  it('Opsgenie: the URL and header the prose names', async () => {
    const url = /URL `(https:\/\/[^`]+\/v1\/webhooks\/opsgenie)`/.exec(DOC)?.[1] ?? '';
    const header = /custom header `Authorization: Bearer <(SHIPLOG_OPSGENIE_WEBHOOK_TOKEN)>`/.exec(DOC)?.[1];
    expect(header).toBe('SHIPLOG_OPSGENIE_WEBHOOK_TOKEN');
    const response = await post(url, fixture('opsgenie/webhook.alert.create.zulip.json'), {
      authorization: `Bearer ${SECRETS.opsgenie ?? ''}`,
    });
    expect(response.status).toBe(201);
  });

  it('ServiceNow through the generic receiver: the Business Rule’s record, mapped, correlated by its change ticket', async () => {
    const mappingSection = (parse(snippet('servicenow-mapping')) as { mappings: unknown }).mappings;
    expect(validateMappings(mappingSection)).toEqual([]);
    const mappings = parseMappings(mappingSection);
    const record = JSON.parse(snippet('servicenow-record')) as Record<string, string>;
    expect(record).toEqual(SERVICENOW_INCIDENT);
    // The rule sends every field the mapping reads, to the receiver's path.
    const rule = snippet('servicenow-rule');
    for (const selector of Object.values(mappings.incident?.fields ?? {}))
      expect(rule).toContain(`${selector}: current.`);
    const url = /setEndpoint\('([^']+)'\)/.exec(rule)?.[1] ?? '';
    expect(pathOf(url)).toBe('/v1/webhooks/incident');

    const servicenow = await testApp('sqlite', { webhooks: { secrets: SECRETS, mappings } });
    try {
      const call = (body: unknown) =>
        servicenow.app.server.inject({
          method: 'POST',
          url: pathOf(url),
          payload: JSON.stringify(body),
          headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.incident ?? ''}` },
        });
      const deployment = {
        service: 'checkout-api',
        environment: 'production',
        deployment: 'chk-77',
        version: '3.1.0',
        ticket: 'CHG0030012',
      };
      const events = [
        { ...deployment, id: 'sn-1', type: 'deployment.started', time: '2026-11-02T09:58:00Z' },
        { ...deployment, id: 'sn-2', type: 'deployment.succeeded', time: '2026-11-02T10:03:00Z' },
      ];
      expect((await servicenow.call('POST', '/v1/events', { events })).status).toBe(201);

      const opened = await call(record);
      expect(opened.statusCode, opened.body).toBe(201);
      const got = (await servicenow.call('GET', '/v1/incidents/servicenow:INC0010023')).json();
      expect(got).toMatchObject({
        key: 'servicenow:INC0010023',
        title: 'Checkout returns 502 for card payments',
        service: 'checkout-api',
        environment: 'production',
        severity: 'sev1',
        status: 'acknowledged',
        ticket: 'CHG0030012',
        startedAt: '2026-11-02T10:12:00.000Z',
      });
      expect((got.suspects as { deployment: string; reason: string }[])[0]).toMatchObject({
        deployment: 'chk-77',
        reason: 'ticket',
      });

      const resolved = await call({ ...record, state: '6', resolved_at: '2026-11-02 11:00:00' });
      expect(resolved.statusCode).toBe(201);
      expect((await servicenow.call('GET', '/v1/incidents/servicenow:INC0010023')).json()).toMatchObject({
        status: 'resolved',
        resolvedAt: '2026-11-02T11:00:00.000Z',
      });
      // A state the mapping does not know changes nothing; a record without its number is a 400.
      expect((await call({ ...record, state: '42' })).json()).toMatchObject({
        ignored: expect.stringContaining('"42"'),
      });
      const missing = await call({ ...record, number: '' });
      expect(missing.statusCode).toBe(400);
      expect(missing.body).toContain('/number');
    } finally {
      await servicenow.close();
    }
  });
});
