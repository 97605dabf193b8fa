/**
 * CDEvents `incident.detected`, `incident.reported` and `incident.resolved` → incidents
 * (https://github.com/cdevents/spec/blob/v0.5.1/operation-events.md). The CDEvents receiver
 * keeps every such event as a record; this turns a record into an incident report, both for
 * new deliveries and for records stored before incidents existed (the start-up migration).
 */
import type { IncidentReport } from '../domain/incident.js';
import type { MappingRules } from './mapping.js';
import { PayloadReader, cleanText } from './payload.js';
import { incidentKey, placeOf, timeMs } from './incident-source.js';

export const CDEVENT_INCIDENT_TYPES = [
  'incident.detected',
  'incident.reported',
  'incident.resolved',
] as const;

/** The report of one stored CDEvent record, or undefined when it gives no incident. */
export function incidentOfCdevent(
  recordType: string,
  data: unknown,
  timeMsOfRecord: number,
  rules?: MappingRules,
): IncidentReport | undefined {
  if (!(CDEVENT_INCIDENT_TYPES as readonly string[]).includes(recordType)) return undefined;
  const p = new PayloadReader(data);
  const id = p.text(['subject', 'id']);
  if (id === undefined) return undefined;
  const resolved = recordType === 'incident.resolved';
  const at = timeMs(p.value(['context', 'timestamp'])) ?? timeMsOfRecord;
  const service = p.text(['subject', 'content', 'service', 'id']);
  const environment = p.text(['subject', 'content', 'environment', 'id']);
  const url = p.text(['subject', 'content', 'ticketURI']);
  return {
    key: incidentKey('cdevents', id),
    kind: 'incident',
    title: resolved ? undefined : cleanText(p.text(['subject', 'content', 'description']) ?? id, 512),
    ...placeOf(rules, undefined, { services: [service], environments: [environment] }),
    status: resolved ? 'resolved' : 'triggered',
    startedMs: resolved ? undefined : at,
    resolvedMs: resolved ? at : undefined,
    url: url !== undefined && /^https?:\/\//.test(url) && url.length <= 2048 ? url : undefined,
    source: 'webhook:cdevents',
  };
}
