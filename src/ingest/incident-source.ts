/**
 * What the incident receivers share (DESIGN.md §9): the tools they read, their result type, and
 * how a tool's labels and names become shiplog's service, environment and region. Service and
 * environment come from the mapping rules of the tool (`mappings.rules.<tool>`) first, then from
 * the labels `service`, `job`, `app` and `environment`, `env`.
 */
import type { IncidentReport } from '../domain/incident.js';
import { type MappingRules, firstMatch, toName } from './mapping.js';
import { asText, deploymentKey, isRecord } from './payload.js';

/** The incident receivers: `POST /v1/webhooks/<tool>`; `incident` is the generic one (`mappings.incident`). */
export const INCIDENT_SOURCES = [
  'pagerduty',
  'opsgenie',
  'alertmanager',
  'grafana',
  'jira',
  'incident',
] as const;
export type IncidentSource = (typeof INCIDENT_SOURCES)[number];

export function isIncidentSource(value: string): value is IncidentSource {
  return (INCIDENT_SOURCES as readonly string[]).includes(value);
}

/** What an incident adapter made of a delivery. */
export type IncidentAdapterResult =
  | { readonly kind: 'incidents'; readonly incidents: readonly IncidentReport[] }
  /** A valid payload that is not an incident: answered 202 `{"ignored": reason}`. */
  | { readonly kind: 'ignored'; readonly reason: string };

const SERVICE_LABELS = ['service', 'job', 'app'];
const ENVIRONMENT_LABELS = ['environment', 'env'];

/** Labels as a string map: non-string values dropped, at most 64 entries of bounded size. */
export function stringLabels(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  const labels: Record<string, string> = {};
  let n = 0;
  for (const [key, v] of Object.entries(value)) {
    const text = asText(v);
    if (text === undefined || key.length > 128 || n >= 64) continue;
    labels[key] = text.slice(0, 512);
    n += 1;
  }
  return Object.keys(labels).length > 0 ? labels : undefined;
}

/** Where the incident hurts, from labels and the tool's own names. */
export function placeOf(
  rules: MappingRules | undefined,
  labels: Readonly<Record<string, string>> | undefined,
  names: {
    readonly services?: readonly (string | undefined)[];
    readonly environments?: readonly (string | undefined)[];
    /** Matched by environment rules only, never taken as the environment by default. */
    readonly environmentHints?: readonly (string | undefined)[];
  } = {},
): { service?: string; environment?: string; region?: string } {
  const fromLabels = (keys: readonly string[]) =>
    keys.map((k) => (labels && Object.hasOwn(labels, k) ? labels[k] : undefined));
  const serviceCandidates = [...fromLabels(SERVICE_LABELS), ...(names.services ?? [])];
  const environmentCandidates = [...fromLabels(ENVIRONMENT_LABELS), ...(names.environments ?? [])];
  const serviceRule = firstMatch(rules?.services, serviceCandidates);
  const environmentRule = firstMatch(rules?.environments, [
    ...environmentCandidates,
    ...(names.environmentHints ?? []),
  ]);
  const regionLabel = labels?.region;
  const regionRule = firstMatch(rules?.regions, [regionLabel]);
  const service = toName(serviceRule?.service ?? firstPresent(serviceCandidates));
  const environment = toName(environmentRule?.environment ?? firstPresent(environmentCandidates));
  const region = toName(regionRule?.region ?? regionLabel);
  return {
    ...(service !== undefined && { service }),
    ...(environment !== undefined && { environment }),
    ...(region !== undefined && { region }),
  };
}

function firstPresent(values: readonly (string | undefined)[]): string | undefined {
  return values.find((v) => v !== undefined && v.trim() !== '');
}

/** An incident key `<tool>:<the tool's id>`, made safe for a URL path. */
export function incidentKey(source: string, id: string): string {
  return deploymentKey(source, id);
}

/** Epoch ms of an RFC 3339 time, or of Jira's `2019-02-15T19:01:52.971-0800`; undefined if none. */
export function timeMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  // Go's zero time (0001-01-01T00:00:00Z) means "no time" in Alertmanager and Grafana.
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}
