/**
 * Property: every fixture, mutated (fields removed, wrong types, truncated bodies, wrong content
 * types), correctly signed and sent over HTTP, is answered 4xx or 2xx, never 5xx; a 4xx or 202
 * stores nothing, and whatever a 201 stored reads back as a valid deployment.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARGOCD_WEBHOOK_TEMPLATE } from '../../src/ingest/argocd.js';
import { countEvents, testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import {
  SECRETS,
  SERVICENOW_INCIDENT,
  argoApp,
  deliver,
  fixture,
  renderGoTemplate,
} from '../helpers/webhooks.js';
import { rawSql } from '../helpers/raw-sql.js';

interface Sample {
  readonly source: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

const SAMPLES: Sample[] = [
  ...[
    'deployment.payload.json',
    'deployment_status.payload.json',
    'deployment_status.gh-pages.payload.json',
    'workflow_run.completed.payload.json',
    'ping.payload.json',
  ].map((f) => ({
    source: 'github',
    body: fixture(`github/${f}`).toString('utf8'),
    headers: { 'x-github-event': f.split('.')[0] ?? '' },
  })),
  {
    source: 'gitlab',
    body: fixture('gitlab/deployment_event.json').toString('utf8'),
    headers: { 'x-gitlab-event': 'Deployment Hook' },
  },
  {
    source: 'gitlab',
    body: fixture('gitlab/job_event.json').toString('utf8'),
    headers: { 'x-gitlab-event': 'Job Hook' },
  },
  {
    source: 'jenkins',
    body: fixture('jenkins/notification-plugin.completed.json').toString('utf8'),
    headers: {},
  },
  ...['Running', 'Succeeded', 'Failed'].map((phase) => ({
    source: 'argocd',
    body: renderGoTemplate(ARGOCD_WEBHOOK_TEMPLATE, argoApp(phase)),
    headers: {},
  })),
  ...[
    'service_deployed.json',
    'service_rolledback.json',
    'incident_detected.json',
    'v0.4.1/service_upgraded.json',
  ].map((f) => ({ source: 'cdevents', body: fixture(`cdevents/${f}`).toString('utf8'), headers: {} })),
  {
    source: 'generic',
    body: JSON.stringify({
      status: 'ok',
      run: { id: 5 },
      app: 'billing',
      target: 'prod',
      release: '1.0.0',
      at: 1,
    }),
    headers: {},
  },
];

/** The incident receivers (docs/incidents.md): 201 stores incidents, anything else none. */
const INCIDENT_SAMPLES: Sample[] = [
  ['pagerduty', 'pagerduty/webhook-v3.incident.triggered.zulip.json'],
  ['pagerduty', 'pagerduty/webhook-v3.incident.reopened.zulip.json'],
  ['opsgenie', 'opsgenie/webhook.alert.create.zulip.json'],
  ['alertmanager', 'alertmanager/webhook-v4.firing.zulip.json'],
  ['alertmanager', 'alertmanager/webhook-v4.resolved.alertmanager-bot.json'],
  ['grafana', 'grafana/webhook.firing.grafana-docs.json'],
  ['jira', 'jira/webhook.issue_updated.status-done.mattermost.json'],
]
  .map(([source = '', file = '']) => {
    const body = fixture(file).toString('utf8');
    // Jira publishes no Incident issue: the sample is the fixture as one, so mutations reach the incident path.
    const incidentIssue = source === 'jira' ? body.replace('"name": "Story"', '"name": "Incident"') : body;
    return { source, body: incidentIssue, headers: {} };
  })
  .concat({ source: 'incident', body: JSON.stringify(SERVICENOW_INCIDENT), headers: {} });
const INCIDENT_SOURCE_NAMES = new Set(INCIDENT_SAMPLES.map((s) => s.source));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside `value`. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries: [string | number, Json][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function mutate(value: Json, path: (string | number)[], replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && replacement === undefined) copy.splice(Number(head), 1);
    else copy[Number(head)] = mutate(copy[Number(head)] ?? null, rest, replacement);
    return copy;
  }
  if (value === null || typeof value !== 'object') return value;
  const copy: { [key: string]: Json } = { ...value };
  if (rest.length === 0 && replacement === undefined) Reflect.deleteProperty(copy, String(head));
  else copy[String(head)] = mutate(copy[String(head)] ?? null, rest, replacement);
  return copy;
}

const wrongValue = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 300 }),
  fc.constant('../../etc/passwd'),
  fc.constant('2026-13-45T99:99:99Z'),
  fc.constant(''),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);

const mutation = (sample: Sample) => {
  const parsed = JSON.parse(sample.body) as Json;
  const all = paths(parsed);
  const at = fc.constantFrom(...all);
  return fc.oneof(
    at.map((path) => JSON.stringify(mutate(parsed, path, undefined))),
    fc.tuple(at, wrongValue).map(([path, value]) => JSON.stringify(mutate(parsed, path, value))),
    fc.nat({ max: sample.body.length }).map((n) => sample.body.slice(0, n)),
    fc.string({ maxLength: 200 }),
  );
};

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'application/cloudevents+json',
  'application/cloudevents-batch+json',
  'multipart/form-data; boundary=x',
);

describe.each(DIALECTS)('mutated fixtures over HTTP (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(dialect, {
      webhooks: {
        secrets: SECRETS,
        mappings: {
          rules: { jenkins: { environments: [{ match: 'asgard', environment: 'production' }] } },
          generic: {
            fields: {
              type: 'status',
              deployment: 'run.id',
              service: 'app',
              environment: 'target',
              version: 'release',
              time: 'at',
            },
            typeMap: { ok: 'deployment.succeeded' },
          },
          incident: {
            source: 'servicenow',
            fields: {
              key: 'number',
              title: 'short_description',
              service: 'cmdb_ci',
              environment: 'u_environment',
              severity: 'priority',
              status: 'state',
              startedAt: 'opened_at',
              resolvedAt: 'resolved_at',
              ticket: 'rfc',
            },
            statusMap: { '1': 'triggered', '2': 'acknowledged', '6': 'resolved' },
          },
        },
      },
    });
  });
  afterAll(async () => t.close());

  it('answers 4xx or 2xx, never 5xx, and stores only valid deployments', async () => {
    const arbitrary = fc
      .constantFrom(...SAMPLES, ...INCIDENT_SAMPLES)
      .chain((sample) =>
        fc.record({ sample: fc.constant(sample), body: mutation(sample), type: contentType }),
      );
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ sample, body, type }) => {
        const before = await countEvents(t.store);
        const incidentsBefore = await countIncidentChanges(t);
        const response = await deliver(t.app.server, sample.source, body, {
          ...sample.headers,
          'content-type': type,
        });
        expect(response.status, response.body).toBeLessThan(500);
        expect([201, 202, 400, 409, 413, 415]).toContain(response.status);
        if (INCIDENT_SOURCE_NAMES.has(sample.source)) {
          if (response.status !== 201) {
            expect(await countIncidentChanges(t)).toBe(incidentsBefore);
            return;
          }
          for (const { key } of (response.json() as { incidents: { key: string }[] }).incidents) {
            const stored = await t.call('GET', `/v1/incidents/${encodeURIComponent(key)}`);
            expect(stored.status).toBe(200);
            expect(stored.json()).toMatchObject({
              key,
              status: expect.stringMatching(/^(triggered|acknowledged|resolved)$/),
            });
          }
          return;
        }
        const after = await countEvents(t.store);
        if (response.status !== 201) {
          expect(after).toBe(before);
          return;
        }
        const results = (response.json() as { results: { id: string }[] }).results;
        for (const r of results) {
          const row = await rawSql(t.store)
            .selectFrom('events')
            .select(['deployment'])
            .where('id', '=', r.id)
            .executeTakeFirstOrThrow();
          const d = await t.call('GET', `/v1/deployments/${encodeURIComponent(row.deployment)}`);
          expect(d.status).toBe(200);
          expect(d.json()).toMatchObject({ service: expect.stringMatching(/^[a-z0-9][a-z0-9._-]{0,62}$/) });
        }
      }),
      { numRuns: 220 },
    );
  }, 120_000);

  it('stores nothing for an unsigned mutated delivery', async () => {
    const before = await countEvents(t.store);
    const incidentsBefore = await countIncidentChanges(t);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SAMPLES, ...INCIDENT_SAMPLES),
        contentType,
        async (sample, type) => {
          const response = await deliver(
            t.app.server,
            sample.source,
            sample.body,
            { ...sample.headers, 'content-type': type },
            'wrong',
          );
          expect(response.status).toBe(401);
        },
      ),
      { numRuns: 30 },
    );
    expect(await countEvents(t.store)).toBe(before);
    expect(await countIncidentChanges(t)).toBe(incidentsBefore);
  });
});

async function countIncidentChanges(t: TestApp): Promise<number> {
  const row = await rawSql(t.store)
    .selectFrom('incident_changes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
