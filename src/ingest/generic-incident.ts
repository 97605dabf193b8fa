/**
 * The generic incident receiver, `POST /v1/webhooks/incident`: any JSON incident record →
 * an incident, driven by `mappings.incident` of shiplog.yaml, the way `mappings.generic` maps
 * deployments. For tools with no receiver of their own; docs/incidents.md maps a ServiceNow
 * incident record with it. Selectors are those of the generic adapter (JSON pointer, dotted
 * path, or `=constant`).
 */
import {
  INCIDENT_STATUSES,
  type IncidentReport,
  type IncidentSeverity,
  type IncidentStatus,
  toSeverity,
} from '../domain/incident.js';
import { parseSelector, readTime, selectField } from './generic.js';
import { type IncidentAdapterResult, incidentKey, placeOf } from './incident-source.js';
import type { AdapterOptions } from './mapping.js';
import { PayloadReader, asText, cleanText, jsonBody } from './payload.js';
import type { WebhookRequest } from './types.js';

export interface IncidentMapping {
  /** Prefix of incident keys (`<source>:<key>`); default `incident`. */
  readonly source?: string | undefined;
  readonly fields: {
    readonly key: string;
    readonly title: string;
    readonly service: string;
    readonly environment?: string | undefined;
    readonly region?: string | undefined;
    readonly severity?: string | undefined;
    readonly status?: string | undefined;
    /** RFC 3339, `2026-11-02 10:00:00` (UTC), or epoch seconds / milliseconds. */
    readonly startedAt?: string | undefined;
    readonly resolvedAt?: string | undefined;
    readonly url?: string | undefined;
    readonly ticket?: string | undefined;
    readonly causedBy?: string | undefined;
  };
  /** The payload's status values → incident statuses; unmapped values are taken as they are. */
  readonly statusMap?: Readonly<Record<string, IncidentStatus>> | undefined;
  /** The payload's severity values → sev1..sev5; unmapped values are read like the tools' (P2, high, 2). */
  readonly severityMap?: Readonly<Record<string, IncidentSeverity>> | undefined;
}

export function adaptGenericIncident(
  req: WebhookRequest,
  mapping: IncidentMapping,
  options: AdapterOptions = {},
): IncidentAdapterResult {
  const p = new PayloadReader(jsonBody(req));
  const text = (selector: string | undefined, required = false): string | undefined => {
    const selected = selectField(p, selector);
    if (selected === undefined) return undefined;
    if ('constant' in selected) return selected.constant;
    const value = asText(selected.value);
    if (value === undefined && required) p.fail(selected.path, 'is required');
    return value;
  };
  const time = (selector: string | undefined): number | undefined => {
    const selected = selectField(p, selector);
    // ServiceNow sends an empty string for a time not set.
    if (selected !== undefined && 'value' in selected && selected.value === '') return undefined;
    const iso = readTime(selected, p);
    return iso === undefined ? undefined : Date.parse(iso);
  };
  const f = mapping.fields;
  const key = text(f.key, true);
  const title = text(f.title, true);
  const rawService = text(f.service, true);
  const rawStatus = text(f.status);
  const rawSeverity = text(f.severity);
  const startedMs = time(f.startedAt);
  const resolvedMs = time(f.resolvedAt);
  p.check();

  const status =
    rawStatus === undefined ? undefined : (mapping.statusMap?.[rawStatus] ?? asStatus(rawStatus));
  if (rawStatus !== undefined && status === undefined)
    return {
      kind: 'ignored',
      reason: `status value "${cleanText(rawStatus, 60)}" is not mapped to triggered, acknowledged or resolved`,
    };
  const severity =
    rawSeverity === undefined ? undefined : (mapping.severityMap?.[rawSeverity] ?? toSeverity(rawSeverity));
  const rawEnvironment = text(f.environment);
  const place = placeOf(options.rules, undefined, {
    services: [rawService],
    environments: [rawEnvironment],
  });
  if (place.service === undefined) {
    p.fail(f.service.startsWith('=') ? [] : parseSelector(f.service), 'does not give a usable service name');
    return p.raise();
  }
  const report: IncidentReport = {
    key: incidentKey(mapping.source ?? 'incident', key ?? ''),
    kind: 'incident',
    title: cleanText(title, 512),
    ...place,
    region: cleanText(text(f.region)) ?? place.region,
    severity,
    status: status ?? (resolvedMs !== undefined ? 'resolved' : undefined),
    startedMs,
    resolvedMs,
    url: cleanText(text(f.url), 2048),
    ticket: cleanText(text(f.ticket)),
    causedBy: cleanText(text(f.causedBy)),
    source: 'webhook:incident',
  };
  return { kind: 'incidents', incidents: [report] };
}

function asStatus(value: string): IncidentStatus | undefined {
  const lower = value.trim().toLowerCase();
  return INCIDENT_STATUSES.find((s) => s === lower);
}
