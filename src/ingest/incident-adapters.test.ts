/**
 * The incident adapters on every fixture of their tools (../shared/fixtures): what each
 * payload becomes, pure (no server). Over HTTP: test/ingest/incident-webhooks.test.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AdapterInputError, type WebhookRequest } from './types.js';
import { adaptAlertGroup, labelFingerprint } from './alert-group.js';
import { adaptJira } from './jira.js';
import { adaptOpsgenie } from './opsgenie.js';
import { adaptPagerduty } from './pagerduty.js';
import { incidentOfCdevent } from './cdevents-incident.js';
import type { IncidentAdapterResult } from './incident-source.js';

const FIXTURES = new URL('../../../shared/fixtures/', import.meta.url);
const raw = (path: string) => readFileSync(new URL(path, FIXTURES));
const request = (body: Buffer | string | object): WebhookRequest => ({
  headers: { 'content-type': 'application/json' },
  rawBody: Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  body: undefined,
});
const files = (dir: string) => readdirSync(new URL(dir, FIXTURES)).sort();
const incidents = (result: IncidentAdapterResult) => {
  if (result.kind !== 'incidents') throw new Error(`expected incidents, got ${JSON.stringify(result)}`);
  return result.incidents;
};
const problems = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AdapterInputError);
    return (error as AdapterInputError).details;
  }
  throw new Error('expected a 400');
};
const ms = (iso: string) => Date.parse(iso);

describe('alertmanager (webhook version 4)', () => {
  const am = (file: string) => adaptAlertGroup('alertmanager', request(raw(`alertmanager/${file}`)));

  it('covers every fixture', () => {
    expect(files('alertmanager/')).toEqual([
      'webhook-v4.firing.alertmanager-bot.json',
      'webhook-v4.firing.prometheus-msteams.json',
      'webhook-v4.firing.zulip.json',
      'webhook-v4.format.docs.published.jsonc',
      'webhook-v4.resolved.alertmanager-bot.json',
      'webhook-v4.resolved.zulip.json',
    ]);
  });

  it('computes the fingerprint of a label set as Alertmanager does', () => {
    // The fixture README recomputed a1bc48475b20e73d from the zulip labels.
    expect(
      labelFingerprint({ alertname: 'High CPU Temperature', host: 'andromeda', severity: 'critical' }),
    ).toBe('a1bc48475b20e73d');
  });

  it('splits a grouped notification: one alert incident per alert, keyed by fingerprint', () => {
    const [first, second, ...rest] = incidents(am('webhook-v4.firing.zulip.json'));
    expect(rest).toEqual([]);
    expect(first).toMatchObject({
      key: 'alertmanager:a1bc48475b20e73d',
      kind: 'alert',
      title: 'High CPU core temperature',
      severity: 'sev1',
      status: 'triggered',
      startedMs: ms('2020-02-06T00:17:58.432Z'),
      url: expect.stringMatching(/^http:\/\/cobalt:9090\/graph/),
      source: 'webhook:alertmanager',
    });
    expect(second?.key).toBe('alertmanager:c2ea85182f28cbd9');
    expect(first?.service).toBeUndefined();
  });

  it('resolves with the alert: the same key, resolvedAt from endsAt (zero endsAt: receipt)', () => {
    const [resolved] = incidents(am('webhook-v4.resolved.zulip.json'));
    expect(resolved).toMatchObject({
      key: 'alertmanager:a1bc48475b20e73d',
      status: 'resolved',
      resolvedMs: undefined,
    });
    const [firing] = incidents(am('webhook-v4.firing.alertmanager-bot.json'));
    const [end] = incidents(am('webhook-v4.resolved.alertmanager-bot.json'));
    expect(firing?.key).toBe(`alertmanager:${labelFingerprint({ alertname: 'Fire', severity: 'critical' })}`);
    expect(end).toMatchObject({
      key: firing?.key,
      status: 'resolved',
      resolvedMs: ms('2018-11-04T21:48:13.283Z'),
    });
    // A firing alert's future endsAt (Alertmanager before 0.17) is not a resolution.
    expect(firing).toMatchObject({ status: 'triggered', resolvedMs: undefined });
  });

  it('takes the service from the job label and the group status when alerts carry none', () => {
    const [alert] = incidents(am('webhook-v4.firing.prometheus-msteams.json'));
    expect(alert).toMatchObject({
      service: 'docker_nodes',
      severity: 'sev3',
      status: 'triggered',
      title: 'Server High Memory usage',
      startedMs: ms('2018-03-07T11:33:21.873Z'),
    });
  });

  it('maps service and environment from labels, mapping rules first', () => {
    const body = JSON.parse(raw('alertmanager/webhook-v4.firing.zulip.json').toString('utf8')) as {
      alerts: { labels: Record<string, string> }[];
    };
    for (const alert of body.alerts)
      Object.assign(alert.labels, { app: 'checkout', env: 'Prod', region: 'eu-west-1' });
    const [mapped] = incidents(
      adaptAlertGroup('alertmanager', request(body), {
        rules: { environments: [{ match: 'prod', environment: 'production' }] },
      }),
    );
    expect(mapped).toMatchObject({ service: 'checkout', environment: 'production', region: 'eu-west-1' });
  });

  it('refuses the documented format (not JSON) and bodies without alerts with a 400 naming the field', () => {
    expect(problems(() => am('webhook-v4.format.docs.published.jsonc'))).toEqual([
      { path: '', message: 'is not valid JSON' },
    ]);
    expect(problems(() => adaptAlertGroup('alertmanager', request({ version: '4' })))).toEqual([
      { path: '/alerts', message: 'is required' },
    ]);
    expect(
      problems(() =>
        adaptAlertGroup(
          'alertmanager',
          request({ version: '4', alerts: [{ labels: {}, status: 'firing' }] }),
        ),
      ),
    ).toEqual([{ path: '/alerts/0/startsAt', message: 'is required' }]);
    expect(adaptAlertGroup('alertmanager', request({ version: '3', alerts: [] }))).toEqual({
      kind: 'ignored',
      reason: 'alertmanager webhook version 3 is not supported (4 is)',
    });
  });
});

describe('grafana alerting (webhook version 1)', () => {
  const grafana = (file: string) => adaptAlertGroup('grafana', request(raw(`grafana/${file}`)));
  it('covers every fixture', () => {
    expect(files('grafana/')).toEqual([
      'webhook.firing.grafana-docs.json',
      'webhook.firing.zulip.json',
      'webhook.resolved.zulip.json',
    ]);
  });

  it('splits the documented notification into its two alerts', () => {
    const [memory, cpu] = incidents(grafana('webhook.firing.grafana-docs.json'));
    expect(memory).toMatchObject({
      key: 'grafana:c6eadffa33fcdf37',
      kind: 'alert',
      status: 'triggered',
      title: 'This alert was triggered for zone us-1',
      startedMs: ms('2021-10-12T07:51:03.157Z'),
      url: expect.stringMatching(/^https?:\/\//),
    });
    expect(cpu?.key).toBe('grafana:bc97ff14869b13e3');
  });

  it('resolves the same fingerprint', () => {
    const [firing] = incidents(grafana('webhook.firing.zulip.json'));
    const [resolved] = incidents(grafana('webhook.resolved.zulip.json'));
    expect(firing).toMatchObject({ key: 'grafana:d8a21484c9c25a60', status: 'triggered' });
    expect(resolved).toMatchObject({
      key: 'grafana:d8a21484c9c25a60',
      status: 'resolved',
      resolvedMs: ms('2022-06-17T00:51:24.067Z'),
    });
  });
});

describe('pagerduty (webhooks v3)', () => {
  const pd = (file: string) => adaptPagerduty(request(raw(`pagerduty/${file}`)));
  it('covers every fixture', () => {
    expect(files('pagerduty/')).toEqual([
      'events-v2.alert.acknowledge.json',
      'events-v2.alert.resolve.json',
      'events-v2.alert.trigger.json',
      'events-v2.alert.trigger.published.jsonc',
      'events-v2.change-event.json',
      'webhook-v3.event-data.incident.json',
      'webhook-v3.incident.acknowledged.zulip.json',
      'webhook-v3.incident.priority_updated.json',
      'webhook-v3.incident.reopened.zulip.json',
      'webhook-v3.incident.resolved.zulip.json',
      'webhook-v3.incident.triggered.zulip.json',
      'webhook-v3.service.updated.json',
    ]);
  });

  it('reads the incident lifecycle', () => {
    const [triggered] = incidents(pd('webhook-v3.incident.triggered.zulip.json'));
    expect(triggered).toMatchObject({
      key: 'pagerduty:PFQZPSY',
      kind: 'incident',
      title: 'Test Incident 3',
      service: 'pig208',
      severity: 'sev2',
      status: 'triggered',
      startedMs: ms('2021-06-04T13:35:29.781Z'),
      url: 'https://pig208.pagerduty.com/incidents/PFQZPSY',
    });
    const [resolved] = incidents(pd('webhook-v3.incident.resolved.zulip.json'));
    expect(resolved).toMatchObject({
      key: 'pagerduty:PCPZE64',
      status: 'resolved',
      resolvedMs: expect.any(Number),
    });
    const [acked] = incidents(pd('webhook-v3.incident.acknowledged.zulip.json'));
    expect(acked).toMatchObject({
      key: 'pagerduty:PQ1K5C8',
      status: 'acknowledged',
      acknowledgedMs: expect.any(Number),
    });
    const [reopened] = incidents(pd('webhook-v3.incident.reopened.zulip.json'));
    expect(reopened).toMatchObject({
      key: 'pagerduty:Q05XJA8GDXGOB3',
      status: 'triggered',
      severity: 'sev3',
      service: 'default-service',
      startedMs: ms('2026-03-30T13:37:07Z'),
    });
    const [priority] = incidents(pd('webhook-v3.incident.priority_updated.json'));
    expect(priority).toMatchObject({ key: 'pagerduty:PGR0VU2', service: 'api-service', status: 'triggered' });
  });

  it('ignores other resources and Events API v2 bodies (202), refuses a bare data object (400)', () => {
    expect(pd('webhook-v3.service.updated.json')).toEqual({
      kind: 'ignored',
      reason: 'service.updated is not an incident event',
    });
    for (const file of [
      'events-v2.alert.acknowledge.json',
      'events-v2.alert.resolve.json',
      'events-v2.alert.trigger.json',
      'events-v2.change-event.json',
    ]) {
      expect(pd(file).kind).toBe('ignored');
    }
    expect(problems(() => pd('events-v2.alert.trigger.published.jsonc'))).toEqual([
      { path: '', message: 'is not valid JSON' },
    ]);
    expect(problems(() => pd('webhook-v3.event-data.incident.json'))).toEqual([
      { path: '/event', message: 'is required' },
    ]);
  });

  it('maps the PagerDuty service through the mapping rules', () => {
    const [mapped] = incidents(
      adaptPagerduty(request(raw('pagerduty/webhook-v3.incident.triggered.zulip.json')), {
        rules: {
          services: [{ match: 'pig*', service: 'checkout-api' }],
          environments: [{ match: 'pig208', environment: 'production' }],
        },
      }),
    );
    expect(mapped).toMatchObject({ service: 'checkout-api', environment: 'production' });
  });
});

describe('opsgenie', () => {
  const og = (file: string) => adaptOpsgenie(request(raw(`opsgenie/${file}`)));
  it('covers every fixture: create triggers, acknowledge acknowledges, close resolves', () => {
    expect(files('opsgenie/')).toEqual([
      'webhook.alert.acknowledge.zulip.json',
      'webhook.alert.close.zulip.json',
      'webhook.alert.create.zulip.json',
    ]);
    const [created] = incidents(og('webhook.alert.create.zulip.json'));
    expect(created).toMatchObject({
      key: 'opsgenie:ec03dad6-62c8-4c94-b38b-d88f398e900f',
      title: 'another alert',
      service: 'server',
      severity: 'sev3',
      status: 'triggered',
      startedMs: 1502709956288,
    });
    const [acked] = incidents(og('webhook.alert.acknowledge.zulip.json'));
    const [closed] = incidents(og('webhook.alert.close.zulip.json'));
    expect(acked).toMatchObject({
      key: 'opsgenie:052652ac-5d1c-464a-812a-7dd18bbfba8c',
      status: 'acknowledged',
    });
    expect(closed).toMatchObject({ key: acked?.key, status: 'resolved' });
    expect(closed?.service).toBeUndefined();
  });

  it('ignores actions that do not change an incident; refuses a body without an alert', () => {
    const body = JSON.parse(raw('opsgenie/webhook.alert.create.zulip.json').toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(adaptOpsgenie(request({ ...body, action: 'AddNote' }))).toEqual({
      kind: 'ignored',
      reason: 'the AddNote action does not change an incident',
    });
    expect(problems(() => adaptOpsgenie(request({ action: 'Create' })))).toEqual([
      { path: '/alert', message: 'is required' },
    ]);
  });
});

describe('jira (issues of type Incident)', () => {
  const jira = (file: string, type = 'Incident') => {
    const body = JSON.parse(raw(`jira/${file}`).toString('utf8')) as {
      issue?: { fields: { issuetype: { name: string } } };
    };
    if (body.issue) body.issue.fields.issuetype.name = type;
    return adaptJira(request(body));
  };
  it('covers every fixture; the published issues are Story, Bug and Task: ignored as they are', () => {
    expect(files('jira/')).toEqual([
      'rest-v2.issue-get.sentry.json',
      'webhook.issue_created.mattermost.json',
      'webhook.issue_updated.reopened.mattermost.json',
      'webhook.issue_updated.server-resolved.mattermost.json',
      'webhook.issue_updated.status-done.mattermost.json',
      'webhook.issue_updated.status-in-progress.mattermost.json',
    ]);
    for (const file of files('jira/').filter((f) => f.startsWith('webhook.'))) {
      expect(adaptJira(request(raw(`jira/${file}`))).kind).toBe('ignored');
    }
    expect(adaptJira(request(raw('jira/webhook.issue_created.mattermost.json')))).toEqual({
      kind: 'ignored',
      reason: 'issue TES-41 is a Story, not an Incident',
    });
    // A REST issue is not a webhook delivery.
    expect(problems(() => adaptJira(request(raw('jira/rest-v2.issue-get.sentry.json'))))).toEqual([
      { path: '/webhookEvent', message: 'is required' },
    ]);
  });

  it('follows an Incident issue through created → in progress → done → reopened', () => {
    const [created] = incidents(jira('webhook.issue_created.mattermost.json'));
    expect(created).toMatchObject({
      key: 'jira:TES-41',
      ticket: 'TES-41',
      status: 'triggered',
      severity: 'sev2',
      service: 'comp-1',
      startedMs: ms('2019-02-16T03:01:52.971Z'),
      url: expect.stringMatching(/\/browse\/TES-41$/),
    });
    expect(incidents(jira('webhook.issue_updated.status-in-progress.mattermost.json'))[0]?.status).toBe(
      'acknowledged',
    );
    expect(incidents(jira('webhook.issue_updated.status-done.mattermost.json'))[0]).toMatchObject({
      status: 'resolved',
      resolvedMs: ms('2019-02-16T03:15:40.470Z'),
    });
    expect(incidents(jira('webhook.issue_updated.reopened.mattermost.json'))[0]?.status).toBe('triggered');
    expect(incidents(jira('webhook.issue_updated.server-resolved.mattermost.json'))[0]).toMatchObject({
      key: 'jira:TES-4',
      status: 'resolved',
      severity: 'sev3',
    });
  });
});

describe('cdevents incident.*', () => {
  const record = (file: string) => {
    const data = JSON.parse(raw(`cdevents/${file}`).toString('utf8')) as { context: { type: string } };
    const type = /dev\.cdevents\.(incident\.[a-z]+)\./.exec(data.context.type)?.[1] ?? '';
    return incidentOfCdevent(type, data, 0);
  };
  it.each(['', 'v0.4.1/'])('turns detected, reported and resolved (%s) into one incident', (dir) => {
    expect(record(`${dir}incident_detected.json`)).toMatchObject({
      key: 'cdevents:incident-123',
      title: 'Response time above threshold of 100ms',
      service: 'myapp',
      environment: 'prod1',
      status: 'triggered',
      startedMs: ms('2022-11-11T13:52:20.079Z'),
    });
    expect(record(`${dir}incident_reported.json`)).toMatchObject({
      key: 'cdevents:incident-123',
      status: 'triggered',
    });
    expect(record(`${dir}incident_resolved.json`)).toMatchObject({
      key: 'cdevents:incident-123',
      status: 'resolved',
      resolvedMs: ms('2022-11-11T13:52:20.079Z'),
    });
    expect(incidentOfCdevent('change.merged', {}, 0)).toBeUndefined();
  });
});
