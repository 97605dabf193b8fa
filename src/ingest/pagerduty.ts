/**
 * PagerDuty webhooks V3 → incidents. https://developer.pagerduty.com/docs/webhooks/v3-overview
 * Only `incident.*` events of resource type `incident` are incidents; the incident's status is
 * `event.data.status` (falling back to the event type), its key `pagerduty:<incident id>`.
 * Events API v2 bodies (requests *to* PagerDuty) and other resource types are valid payloads
 * shiplog does not use: 202 ignored.
 */
import type { IncidentStatus } from '../domain/incident.js';
import { toSeverity } from '../domain/incident.js';
import type { AdapterOptions } from './mapping.js';
import { PayloadReader, cleanText, isRecord, jsonBody } from './payload.js';
import { type IncidentAdapterResult, incidentKey, placeOf, timeMs } from './incident-source.js';
import type { WebhookRequest } from './types.js';

const STATUS_OF_EVENT: Readonly<Record<string, IncidentStatus>> = {
  'incident.triggered': 'triggered',
  'incident.reopened': 'triggered',
  'incident.unacknowledged': 'triggered',
  'incident.acknowledged': 'acknowledged',
  'incident.resolved': 'resolved',
};

export function adaptPagerduty(req: WebhookRequest, options: AdapterOptions = {}): IncidentAdapterResult {
  const body = jsonBody(req);
  if (body.event === undefined && (body.routing_key !== undefined || body.event_action !== undefined)) {
    return { kind: 'ignored', reason: 'an Events API v2 payload is a request to PagerDuty, not a webhook' };
  }
  const p = new PayloadReader(body);
  p.requireObject(['event']);
  p.check();
  const eventType = p.requireText(['event', 'event_type']);
  p.check();
  const resourceType = p.text(['event', 'resource_type']) ?? eventType.split('.')[0];
  if (resourceType !== 'incident' || !eventType.startsWith('incident.')) {
    return { kind: 'ignored', reason: `${eventType} is not an incident event` };
  }
  p.requireObject(['event', 'data']);
  p.check();
  const id = p.requireText(['event', 'data', 'id']);
  p.check();
  const dataStatus = p.text(['event', 'data', 'status']);
  const status: IncidentStatus | undefined =
    dataStatus === 'triggered' || dataStatus === 'acknowledged' || dataStatus === 'resolved'
      ? dataStatus
      : STATUS_OF_EVENT[eventType];
  const occurredMs = timeMs(p.value(['event', 'occurred_at']));
  const priority = p.text(['event', 'data', 'priority', 'summary']);
  const urgency = p.text(['event', 'data', 'urgency']);
  const serviceName = p.text(['event', 'data', 'service', 'summary']);
  const url = p.text(['event', 'data', 'html_url']);
  return {
    kind: 'incidents',
    incidents: [
      {
        key: incidentKey('pagerduty', id),
        kind: 'incident',
        title: cleanText(p.text(['event', 'data', 'title']), 512),
        ...placeOf(options.rules, undefined, { services: [serviceName], environmentHints: [serviceName] }),
        severity:
          toSeverity(priority) ?? (urgency === 'high' ? 'sev2' : urgency === 'low' ? 'sev4' : undefined),
        status,
        startedMs:
          timeMs(p.value(['event', 'data', 'created_at'])) ??
          (eventType === 'incident.triggered' ? occurredMs : undefined),
        acknowledgedMs: status === 'acknowledged' ? occurredMs : undefined,
        resolvedMs: status === 'resolved' ? occurredMs : undefined,
        url: url !== undefined && /^https?:\/\//.test(url) && url.length <= 2048 ? url : undefined,
        labels: isRecord(p.value(['event', 'data', 'incident_type']))
          ? { 'pagerduty.incident_type': p.text(['event', 'data', 'incident_type', 'name']) ?? '' }
          : undefined,
        source: 'webhook:pagerduty',
      },
    ],
  };
}
