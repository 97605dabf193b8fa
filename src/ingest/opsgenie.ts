/**
 * Opsgenie's outgoing webhook integration → incidents.
 * https://docs.opsgenie.com/docs/webhook-integration
 * `Create` triggers, `Acknowledge` acknowledges, `UnAcknowledge` triggers again, `Close`
 * resolves; other actions (notes, tags, ...) are 202 ignored. The key is
 * `opsgenie:<alertId>`. The service comes from a `service` detail or a `service:<name>` tag,
 * then the mapping rules, then the alert's `entity`.
 */
import type { IncidentStatus } from '../domain/incident.js';
import { toSeverity } from '../domain/incident.js';
import type { AdapterOptions } from './mapping.js';
import { PayloadReader, cleanText, jsonBody } from './payload.js';
import { type IncidentAdapterResult, incidentKey, placeOf, stringLabels } from './incident-source.js';
import { fromEpochMs } from './time.js';
import type { WebhookRequest } from './types.js';

const STATUS_OF_ACTION: Readonly<Record<string, IncidentStatus>> = {
  create: 'triggered',
  unacknowledge: 'triggered',
  acknowledge: 'acknowledged',
  close: 'resolved',
};

export function adaptOpsgenie(req: WebhookRequest, options: AdapterOptions = {}): IncidentAdapterResult {
  const body = jsonBody(req);
  const p = new PayloadReader(body);
  const action = p.requireText(['action']);
  p.requireObject(['alert']);
  p.check();
  const status = STATUS_OF_ACTION[action.toLowerCase()];
  if (status === undefined)
    return { kind: 'ignored', reason: `the ${action} action does not change an incident` };
  const alertId = p.requireText(['alert', 'alertId']);
  p.check();
  const details = stringLabels(p.value(['alert', 'details'])) ?? {};
  const tags = p.value(['alert', 'tags']);
  const tagged: Record<string, string> = {};
  if (Array.isArray(tags)) {
    for (const tag of tags) {
      const m = typeof tag === 'string' ? /^([a-z]+)[:=](.+)$/i.exec(tag) : null;
      if (m?.[1] && m[2]) tagged[m[1].toLowerCase()] = m[2];
    }
  }
  const labels = { ...tagged, ...details };
  const createdMs = p.value(['alert', 'createdAt']);
  const started = fromEpochMs(createdMs);
  return {
    kind: 'incidents',
    incidents: [
      {
        key: incidentKey('opsgenie', alertId),
        kind: 'incident',
        title: cleanText(p.text(['alert', 'message']), 512),
        ...placeOf(options.rules, labels, { services: [p.text(['alert', 'entity'])] }),
        severity: toSeverity(p.text(['alert', 'priority'])),
        status,
        startedMs: started === undefined ? undefined : Date.parse(started),
        labels: Object.keys(labels).length > 0 ? labels : undefined,
        source: 'webhook:opsgenie',
      },
    ],
  };
}
