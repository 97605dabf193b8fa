/**
 * Any JSON webhook → deployment events, driven by a mapping of field selectors from the config.
 * Selectors are JSON pointers (`/build/status`) or dotted paths (`build.status`,
 * `items.0.name`); a `=` prefix gives a constant (`=production`).
 */
import { EVENT_TYPES, type EventInput, type EventType } from '../domain/event.js';
import {
  type AdapterOptions,
  resolveEnvironment,
  resolveRegion,
  resolveService,
  resolveVersion,
} from './mapping.js';
import {
  PayloadReader,
  type Path,
  buildOf,
  cleanText,
  deploymentKey,
  eventId,
  finalizeEvent,
  jsonBody,
} from './payload.js';
import { fromEpochMs, toRfc3339 } from './time.js';
import { AdapterInputError, type AdapterResult, type WebhookRequest } from './types.js';

/** Where each event field is found in the payload. */
export interface GenericMapping {
  /** Prefix of deployment keys and ids (`<source>:<deployment>`); default `generic`. */
  readonly source?: string;
  readonly fields: {
    readonly type: string;
    readonly deployment: string;
    readonly service: string;
    readonly environment: string;
    readonly version?: string;
    readonly commit?: string;
    /** RFC 3339, GitLab-style, or epoch seconds / milliseconds (a number). */
    readonly time?: string;
    readonly actor?: string;
    readonly region?: string;
    readonly ticket?: string;
    readonly id?: string;
    readonly buildId?: string;
    readonly buildUrl?: string;
  };
  /** The payload's values of `type` → event types, e.g. `{"ok": "deployment.succeeded"}`. */
  readonly typeMap?: Readonly<Record<string, EventType>>;
}

/** What a selector found: a value at a path of the payload, or its `=constant`. */
export type Selected = { path: Path; value: unknown } | { constant: string };

/** Applies one configured selector to the payload; undefined when the mapping has none. */
export function selectField(p: PayloadReader, selector: string | undefined): Selected | undefined {
  if (selector === undefined) return undefined;
  if (selector.startsWith('=')) return { constant: selector.slice(1) };
  const path = parseSelector(selector);
  return { path, value: p.value(path) };
}

/** `/a/b` or `a.b.0` → path segments (numeric segments index arrays). */
export function parseSelector(selector: string): Path {
  const segments = selector.startsWith('/')
    ? selector
        .slice(1)
        .split('/')
        .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    : selector.split('.');
  return segments.map((s) => (/^(0|[1-9]\d{0,8})$/.test(s) ? Number(s) : s));
}

/** Maps one JSON delivery with the configured selectors. */
export function adaptGeneric(
  req: WebhookRequest,
  mapping: GenericMapping,
  options: AdapterOptions = {},
): AdapterResult {
  const p = new PayloadReader(jsonBody(req));
  const select = (selector: string | undefined) => selectField(p, selector);
  const text = (selector: string | undefined, required: boolean): string | undefined => {
    const s = select(selector);
    if (s === undefined) return undefined;
    if ('constant' in s) return s.constant;
    const value = p.text(s.path);
    if (value === undefined && required)
      p.fail(s.path, s.value === undefined || s.value === null ? 'is required' : 'must be a string');
    return value;
  };
  const f = mapping.fields;
  const rawType = text(f.type, true);
  const rawDeployment = text(f.deployment, true);
  const rawService = text(f.service, true);
  const rawEnvironment = text(f.environment, true);
  const time = readTime(select(f.time), p);
  p.check();

  const mapped: string | undefined =
    rawType === undefined
      ? undefined
      : mapping.typeMap && Object.hasOwn(mapping.typeMap, rawType)
        ? mapping.typeMap[rawType]
        : rawType;
  const type = EVENT_TYPES.find((t) => t === mapped);
  if (type === undefined) {
    return {
      kind: 'ignored',
      reason: `type value "${cleanText(rawType, 60)}" is not mapped to a deployment event type`,
    };
  }
  const service = resolveService(options.rules, [rawService], rawService);
  const environment = resolveEnvironment(options.rules, [rawEnvironment], rawEnvironment);
  const fail = (selector: string, what: string) =>
    p.fail(selector.startsWith('=') ? [] : parseSelector(selector), `does not give a usable ${what} name`);
  if (service === undefined || environment === undefined || rawDeployment === undefined) {
    if (service === undefined) fail(f.service, 'service');
    if (environment === undefined) fail(f.environment, 'environment');
    return p.raise();
  }

  const source = mapping.source ?? 'generic';
  const key = deploymentKey(source, rawDeployment);
  const commit = text(f.commit, false);
  const region = text(f.region, false);
  const buildId = text(f.buildId, false);
  const buildUrl = text(f.buildUrl, false);
  const givenId = text(f.id, false);
  const out: EventInput = {
    id: eventId(givenId ?? `${key}:${type}`),
    type,
    deployment: key,
    service,
    environment,
    version: cleanText(text(f.version, false) ?? resolveVersion([], commit)),
    commit: cleanText(commit),
    actor: cleanText(text(f.actor, false)),
    region: region === undefined ? undefined : resolveRegion(options.rules, [region], region),
    ticket: cleanText(text(f.ticket, false)),
    ...(time !== undefined && { time }),
    ...((buildId !== undefined || buildUrl !== undefined) && { build: buildOf(buildId, buildUrl, source) }),
  };
  return { kind: 'events', events: [finalizeEvent(out)] };
}

/**
 * A time value: text as RFC 3339 or `YYYY-MM-DD hh:mm:ss[ zone]` (GitLab; UTC without a zone);
 * numbers as epoch seconds (< 1e11) or milliseconds.
 */
export function readTime(selected: Selected | undefined, p: PayloadReader): string | undefined {
  if (selected === undefined) return undefined;
  const value = 'constant' in selected ? selected.constant : selected.value;
  if (value === undefined || value === null) return undefined;
  const time =
    typeof value === 'number' ? fromEpochMs(value < 1e11 ? value * 1000 : value) : toRfc3339(value);
  if (time === undefined) {
    if ('constant' in selected)
      throw new AdapterInputError([{ path: '', message: 'the configured time constant is not a time' }]);
    p.fail(
      selected.path,
      'must be an RFC 3339 time, "YYYY-MM-DD hh:mm:ss" (UTC) or epoch seconds/milliseconds',
    );
  }
  return time;
}
