/**
 * A deployment's final state, told to the tools on-call already looks at, so an engineer paged
 * at 3 a.m. sees "payments 1.4.2 reached production 4 minutes ago" where the incident is:
 *
 * - PagerDuty: a change event, Events API v2 `POST /v2/change/enqueue`
 *   (https://developer.pagerduty.com/docs/events-api-v2/send-change-events/). The routing key
 *   of the service's integration travels in the body.
 * - Grafana: an annotation, `POST /api/annotations` (https://grafana.com/docs/grafana/latest/developers/http_api/annotations/),
 *   spanning the deployment from its start to its final state, tagged so a dashboard's
 *   annotation query can select it (`shiplog`, the service, the environment, the outcome).
 *
 * Only final states are told (succeeded, failed, canceled, rolled back): the rest of the
 * lifecycle is noise in these tools. Pure: the forwarder (cdevents-forwarder.ts) sends what
 * these return, with its retries, circuit breaker and dead letters.
 */
import type { EventRecord } from '../domain/event-record.js';
import type { OutgoingCloudEvent } from './cloudevent.js';

/** Event types that end a deployment, as PagerDuty and Grafana are told them. */
const FINAL: Readonly<Partial<Record<EventRecord['type'], string>>> = {
  'deployment.succeeded': 'succeeded',
  'deployment.failed': 'failed',
  'deployment.canceled': 'canceled',
  'deployment.rolled_back': 'rolled back',
};

/** PagerDuty's limit on `payload.summary`. */
const SUMMARY_MAX = 1024;

export function isFinal(record: EventRecord): boolean {
  return FINAL[record.type] !== undefined;
}

/** "Deployed payments 1.4.2 to production (eu-west-1): failed" */
function summary(record: EventRecord): string {
  const where = record.region ? `${record.environment} (${record.region})` : record.environment;
  const what = record.version ? `${record.service} ${record.version}` : record.service;
  const verb = record.kind === 'rollback' ? 'Rolled back' : 'Deployed';
  const text = `${verb} ${what} to ${where}: ${FINAL[record.type] ?? record.type}`;
  return text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 1)}…` : text;
}

/** The facts both tools show beside the summary; absent fields are left out. */
function details(record: EventRecord): Record<string, string> {
  const out: Record<string, string> = {
    deployment: record.deployment,
    service: record.service,
    environment: record.environment,
    status: FINAL[record.type] ?? record.type,
    actor: record.actor,
    kind: record.kind,
  };
  for (const key of ['version', 'commit', 'region', 'cohort', 'ticket'] as const) {
    const value = record[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** `deploymentUrl`: where a person reads the deployment (the server's public URL), if known. */
export function pagerDutyChangeEvent(
  record: EventRecord,
  routingKey: { value: string; variable: string },
  deploymentUrl?: string,
): OutgoingCloudEvent | null {
  if (!isFinal(record)) return null;
  const body = (key: string) => ({
    routing_key: key,
    payload: {
      summary: summary(record),
      timestamp: record.time,
      source: `shiplog/${record.service}/${record.environment}`,
      custom_details: details(record),
    },
    ...(deploymentUrl ? { links: [{ href: deploymentUrl, text: 'Deployment in shiplog' }] } : {}),
  });
  return {
    type: 'pagerduty.change',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body(routingKey.value)),
    // The routing key is a secret: a dead letter names its variable instead.
    storedBody: JSON.stringify(body(`$${routingKey.variable}`)),
  };
}

/**
 * `startedMs`: when the deployment started, so the annotation is a region; without it (an
 * event that ended a deployment shiplog never saw start) the annotation is a point.
 */
export function grafanaAnnotation(
  record: EventRecord,
  startedMs: number | null,
  options: { dashboardUid?: string | undefined } = {},
): OutgoingCloudEvent | null {
  if (!isFinal(record)) return null;
  const endMs = Date.parse(record.time);
  const status = FINAL[record.type] ?? record.type;
  const body = {
    ...(options.dashboardUid ? { dashboardUID: options.dashboardUid } : {}),
    time: startedMs !== null && startedMs <= endMs ? startedMs : endMs,
    timeEnd: endMs,
    tags: ['shiplog', `service:${record.service}`, `environment:${record.environment}`, `status:${status}`],
    text: `${summary(record)} by ${record.actor} (deployment ${record.deployment})`,
  };
  return {
    type: 'grafana.annotation',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}
