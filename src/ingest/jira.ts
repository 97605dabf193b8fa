/**
 * Jira webhooks → incidents, for issues of type Incident (Jira Service Management's
 * `[System] Incident`, or any issue type named `Incident`). Issue created and updated events
 * give the incident's state from the issue's status category (`new` triggered,
 * `indeterminate` acknowledged, `done` resolved); other issue types and events are 202 ignored.
 * The key is `jira:<issue key>` and the issue key is also the incident's ticket, so a
 * deployment that carries it becomes a `ticket` suspect.
 * https://developer.atlassian.com/cloud/jira/platform/webhooks/
 */
import type { IncidentStatus } from '../domain/incident.js';
import { toSeverity } from '../domain/incident.js';
import type { AdapterOptions } from './mapping.js';
import { PayloadReader, cleanText, jsonBody } from './payload.js';
import { type IncidentAdapterResult, incidentKey, placeOf, timeMs } from './incident-source.js';
import type { WebhookRequest } from './types.js';

const INCIDENT_TYPES = new Set(['incident', '[system] incident']);
const ISSUE_EVENTS = new Set(['jira:issue_created', 'jira:issue_updated']);

export function adaptJira(req: WebhookRequest, options: AdapterOptions = {}): IncidentAdapterResult {
  const body = jsonBody(req);
  const p = new PayloadReader(body);
  const event = p.requireText(['webhookEvent']);
  p.check();
  if (!ISSUE_EVENTS.has(event))
    return { kind: 'ignored', reason: `${event} is not an issue created or updated event` };
  p.requireObject(['issue']);
  p.check();
  const key = p.requireText(['issue', 'key']);
  p.requireObject(['issue', 'fields']);
  const issueType = p.requireText(['issue', 'fields', 'issuetype', 'name']);
  p.check();
  if (!INCIDENT_TYPES.has(issueType.toLowerCase())) {
    return { kind: 'ignored', reason: `issue ${key} is a ${issueType}, not an Incident` };
  }
  const category = p.text(['issue', 'fields', 'status', 'statusCategory', 'key']);
  const statusName = p.text(['issue', 'fields', 'status', 'name'])?.toLowerCase();
  let status: IncidentStatus = 'triggered';
  if (category === 'done' || statusName === 'resolved' || statusName === 'closed' || statusName === 'done')
    status = 'resolved';
  else if (category === 'indeterminate') status = 'acknowledged';
  const components = p.value(['issue', 'fields', 'components']);
  const componentNames = Array.isArray(components)
    ? components.map((_, i) => p.text(['issue', 'fields', 'components', i, 'name']))
    : [];
  const labelList = p.value(['issue', 'fields', 'labels']);
  const labels: Record<string, string> = {};
  if (Array.isArray(labelList)) {
    for (const label of labelList) {
      const m = typeof label === 'string' ? /^([a-z]+)[:=](.+)$/i.exec(label) : null;
      if (m?.[1] && m[2]) labels[m[1].toLowerCase()] = m[2];
    }
  }
  const self = p.text(['issue', 'self']);
  const browse = self?.match(/^(https?:\/\/[^/]+)\//)?.[1];
  return {
    kind: 'incidents',
    incidents: [
      {
        key: incidentKey('jira', key),
        kind: 'incident',
        title: cleanText(p.text(['issue', 'fields', 'summary']), 512),
        ...placeOf(options.rules, labels, {
          services: [...componentNames, p.text(['issue', 'fields', 'project', 'key'])],
        }),
        severity: toSeverity(p.text(['issue', 'fields', 'priority', 'name'])),
        status,
        startedMs: timeMs(p.value(['issue', 'fields', 'created'])),
        resolvedMs:
          status === 'resolved' ? timeMs(p.value(['issue', 'fields', 'resolutiondate'])) : undefined,
        url: browse === undefined ? undefined : `${browse}/browse/${encodeURIComponent(key)}`,
        ticket: cleanText(key, 128),
        labels: Object.keys(labels).length > 0 ? labels : undefined,
        source: 'webhook:jira',
      },
    ],
  };
}
