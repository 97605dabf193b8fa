/**
 * The incident (DESIGN.md §9): anything that says production is hurting, from a person, a
 * pager, a monitoring alert or a ticket, as one record with one lifecycle:
 * `triggered → acknowledged → resolved`, and a resolved incident may be triggered again.
 *
 * {@link mergeIncident} is the pure write plan: the stored record (if any) and one report of the
 * incident in, the new record and whether anything changed out. The same report twice changes
 * nothing, so a tool's retries never add ledger entries.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { ErrorDetail } from '../errors.js';
import { NAME_PATTERN } from './event.js';

export const INCIDENT_STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Most severe first. */
export const INCIDENT_SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4', 'sev5'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

export const INCIDENT_KINDS = ['incident', 'alert'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** Incident keys travel in URL paths: the characters of deployment keys, at most 256. */
export const INCIDENT_KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,255}$';

const name = (description: string) => Type.String({ pattern: NAME_PATTERN, maxLength: 63, description });
const text = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$', description });

/** `POST /v1/incidents` (DESIGN.md §9, a contract for these fields). */
export const IncidentInputSchema = Type.Object(
  {
    key: Type.Optional(
      Type.String({
        pattern: INCIDENT_KEY_PATTERN,
        maxLength: 256,
        description: 'Idempotency key: the same key again updates that incident',
      }),
    ),
    kind: Type.Optional(Type.Enum(INCIDENT_KINDS, { description: 'Default: incident' })),
    title: text(512, 'What is hurting'),
    service: name('The service that hurts'),
    environment: Type.Optional(name('Environment; absent: every environment of the service')),
    region: Type.Optional(name('Region')),
    severity: Type.Optional(Type.Enum(INCIDENT_SEVERITIES, { description: 'sev1 (worst) to sev5' })),
    status: Type.Optional(Type.Enum(INCIDENT_STATUSES, { description: 'Default: triggered' })),
    startedAt: Type.Optional(Type.String({ format: 'date-time', description: 'Default: receipt' })),
    resolvedAt: Type.Optional(Type.String({ format: 'date-time' })),
    url: Type.Optional(text(2048, 'Link to the incident in its tool')),
    ticket: Type.Optional(text(128, 'Ticket of the incident (OPS-123)')),
    causedBy: Type.Optional(text(256, 'The deployment key known to have caused it')),
    labels: Type.Optional(
      Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 512 }), {
        maxProperties: 64,
      }),
    ),
  },
  { additionalProperties: false },
);
export type IncidentInputBody = Static<typeof IncidentInputSchema>;

const compiled = Compile(IncidentInputSchema);

/** Every problem of a `POST /v1/incidents` body, by JSON pointer (one line per field). */
export function validateIncidentInput(body: unknown): ErrorDetail[] {
  if (compiled.Check(body)) {
    const errors: ErrorDetail[] = [];
    for (const field of ['startedAt', 'resolvedAt'] as const) {
      const value = body[field];
      if (value !== undefined && Number.isNaN(Date.parse(value)))
        errors.push({ path: `/${field}`, message: 'is not an RFC 3339 time' });
    }
    return errors;
  }
  const seen = new Map<string, string>();
  for (const error of compiled.Errors(body)) {
    if (error.keyword === 'boolean') continue;
    const params = error.params as { additionalProperties?: string[]; requiredProperties?: string[] };
    if (error.keyword === 'additionalProperties' && params.additionalProperties) {
      for (const key of params.additionalProperties)
        seen.set(`${error.instancePath}/${key}`, 'is not a known field');
      continue;
    }
    if (error.keyword === 'required' && params.requiredProperties) {
      for (const key of params.requiredProperties) seen.set(`${error.instancePath}/${key}`, 'is required');
      continue;
    }
    if (seen.has(error.instancePath)) continue;
    seen.set(error.instancePath, describe(error.instancePath, error.message));
  }
  return [...seen].map(([path, message]) => ({ path, message }));
}

function describe(path: string, message: string): string {
  if (path === '') return 'must be a JSON object';
  if (path === '/severity') return `must be one of ${INCIDENT_SEVERITIES.join(', ')}`;
  if (path === '/status') return `must be one of ${INCIDENT_STATUSES.join(', ')}`;
  if (/^\/(service|environment|region)$/.test(path))
    return 'must be 1-63 characters of a-z 0-9 . _ - starting with a letter or digit';
  return message;
}

/**
 * One report of an incident, from `POST /v1/incidents` or a webhook adapter. Fields left out
 * keep their stored value. `service` may be absent only for a tool that does not say which
 * service hurts (an alert without a service label): such an incident correlates only through
 * its ticket or `causedBy`.
 */
export interface IncidentReport {
  readonly key: string;
  readonly kind?: IncidentKind | undefined;
  readonly title?: string | undefined;
  readonly service?: string | undefined;
  readonly environment?: string | undefined;
  readonly region?: string | undefined;
  readonly severity?: IncidentSeverity | undefined;
  readonly status?: IncidentStatus | undefined;
  readonly startedMs?: number | undefined;
  readonly acknowledgedMs?: number | undefined;
  readonly resolvedMs?: number | undefined;
  readonly url?: string | undefined;
  readonly ticket?: string | undefined;
  readonly causedBy?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /** Where it came from: a token name or `webhook:<tool>`. */
  readonly source: string;
}

/** The stored incident. */
export interface Incident {
  readonly key: string;
  readonly kind: IncidentKind;
  readonly title: string;
  readonly service: string | null;
  readonly environment: string | null;
  readonly region: string | null;
  readonly severity: IncidentSeverity | null;
  readonly status: IncidentStatus;
  readonly startedMs: number;
  readonly acknowledgedMs: number | null;
  readonly resolvedMs: number | null;
  readonly url: string | null;
  readonly ticket: string | null;
  readonly causedBy: string | null;
  readonly labels: Readonly<Record<string, string>> | null;
  readonly source: string;
  readonly createdMs: number;
  readonly updatedMs: number;
}

export interface IncidentPlan {
  readonly incident: Incident;
  readonly outcome: 'created' | 'updated' | 'unchanged';
  /** The fields that changed (empty when created or unchanged). */
  readonly changed: readonly string[];
}

const COMPARED = [
  'kind',
  'title',
  'service',
  'environment',
  'region',
  'severity',
  'status',
  'startedMs',
  'acknowledgedMs',
  'resolvedMs',
  'url',
  'ticket',
  'causedBy',
  'labels',
] as const;

/**
 * The incident after `report` at `nowMs`. A new incident needs a title (the key stands in);
 * its status defaults to `triggered` and its start to `nowMs`. A report that moves the status
 * stamps the matching time when the report does not carry one; a re-trigger clears the
 * resolution.
 */
export function mergeIncident(
  stored: Incident | undefined,
  report: IncidentReport,
  nowMs: number,
): IncidentPlan {
  let status =
    report.status ?? (report.resolvedMs !== undefined ? 'resolved' : (stored?.status ?? 'triggered'));
  // An alert's start is the start of its firing episode: a firing report of the episode that is
  // already resolved is a late retry, not a new episode, and does not re-open the incident.
  const stale =
    report.kind === 'alert' &&
    stored?.status === 'resolved' &&
    status !== 'resolved' &&
    report.startedMs !== undefined &&
    report.startedMs <= (stored.resolvedMs ?? stored.startedMs) &&
    report.startedMs <= stored.startedMs;
  if (stale) status = 'resolved';
  const retriggered = stored?.status === 'resolved' && status !== 'resolved';
  const base: Incident = stored ?? {
    key: report.key,
    kind: 'incident',
    title: report.key,
    service: null,
    environment: null,
    region: null,
    severity: null,
    status,
    startedMs: report.startedMs ?? nowMs,
    acknowledgedMs: null,
    resolvedMs: null,
    url: null,
    ticket: null,
    causedBy: null,
    labels: null,
    source: report.source,
    createdMs: nowMs,
    updatedMs: nowMs,
  };
  let acknowledgedMs = report.acknowledgedMs ?? base.acknowledgedMs;
  let resolvedMs = stale ? base.resolvedMs : (report.resolvedMs ?? base.resolvedMs);
  if (status === 'acknowledged' && acknowledgedMs === null) acknowledgedMs = nowMs;
  if (status === 'resolved' && resolvedMs === null) resolvedMs = nowMs;
  if (status !== 'resolved') resolvedMs = null;
  if (status === 'triggered' && stored?.status === 'resolved') acknowledgedMs = null;
  const next: Incident = {
    ...base,
    kind: report.kind ?? base.kind,
    title: report.title ?? base.title,
    service: report.service ?? base.service,
    environment: report.environment ?? base.environment,
    region: report.region ?? base.region,
    severity: report.severity ?? base.severity,
    status,
    startedMs: !stored
      ? base.startedMs
      : retriggered && report.kind === 'alert' && report.startedMs !== undefined
        ? report.startedMs
        : Math.min(stored.startedMs, stale ? stored.startedMs : (report.startedMs ?? stored.startedMs)),
    acknowledgedMs,
    resolvedMs,
    url: report.url ?? base.url,
    ticket: report.ticket ?? base.ticket,
    causedBy: report.causedBy ?? base.causedBy,
    labels: report.labels ? { ...base.labels, ...report.labels } : base.labels,
  };
  if (!stored) return { incident: next, outcome: 'created', changed: [] };
  const changed = COMPARED.filter((field) => JSON.stringify(stored[field]) !== JSON.stringify(next[field]));
  if (changed.length === 0) return { incident: stored, outcome: 'unchanged', changed };
  return { incident: { ...next, updatedMs: nowMs }, outcome: 'updated', changed };
}

/**
 * A tool's severity or priority as sev1..sev5: `sev2`, `SEV-2`, `P2`, `2`, `critical`,
 * `high`, `warning`, ... ; undefined when it is none of these.
 */
export function toSeverity(value: string | number | undefined | null): IncidentSeverity | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim().toLowerCase();
  const numbered = /^(?:sev|s|p|priority)?[\s_-]?([1-5])$/.exec(text);
  if (numbered) return `sev${numbered[1]}` as IncidentSeverity;
  switch (text) {
    case 'critical':
    case 'highest':
    case 'blocker':
    case 'disaster':
    case 'page':
      return 'sev1';
    case 'high':
    case 'major':
    case 'error':
      return 'sev2';
    case 'medium':
    case 'moderate':
    case 'warning':
    case 'warn':
      return 'sev3';
    case 'low':
    case 'minor':
      return 'sev4';
    case 'lowest':
    case 'info':
    case 'informational':
    case 'trivial':
    case 'none':
      return 'sev5';
    default:
      return undefined;
  }
}

/** 1 for sev1 (worst) .. 5 for sev5. */
export function severityRank(severity: IncidentSeverity): number {
  return INCIDENT_SEVERITIES.indexOf(severity) + 1;
}
