/**
 * Defensive reading of untrusted JSON and the last checks on what adapters produce. Every
 * accessor takes `unknown` and never throws; required values that are missing or of the wrong
 * type are collected as JSON-pointer details and thrown once, as an {@link AdapterInputError}.
 */
import { createHash } from 'node:crypto';
import { EventSchema, validateEvent, type EventInput } from '../domain/event.js';
import type { ErrorDetail } from '../errors.js';
import { AdapterInputError, type WebhookRequest } from './types.js';

export type Path = readonly (string | number)[];

/** RFC 6901 pointer of a path. */
function pointer(path: Path): string {
  return path.map((k) => `/${String(k).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** The value at `path`, own properties only, or `undefined`. */
function at(root: unknown, path: Path): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (typeof key !== 'number') return undefined;
      current = current[key];
    } else {
      const record = current as Record<string, unknown>;
      if (!Object.hasOwn(record, key)) return undefined;
      current = record[String(key)];
    }
  }
  return current;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A non-empty string, or a finite number as text; anything else is `undefined`. */
export function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Collects what is wrong with a payload while an adapter reads it. */
export class PayloadReader {
  readonly errors: ErrorDetail[] = [];
  /** `base`: the pointer of `root` inside the request body (e.g. `/data`). */
  constructor(
    readonly root: unknown,
    readonly base = '',
  ) {}

  value(path: Path): unknown {
    return at(this.root, path);
  }

  /** Optional text: wrong types read as absent (be liberal in what you accept). */
  text(path: Path): string | undefined {
    return asText(at(this.root, path));
  }

  /** Required text: records a detail and returns '' when missing or not a string/number. */
  requireText(path: Path): string {
    const value = at(this.root, path);
    const text = asText(value);
    if (text !== undefined) return text;
    this.fail(path, value === undefined || value === null ? 'is required' : 'must be a non-empty string');
    return '';
  }

  /** Required object: records a detail when missing or not an object. */
  requireObject(path: Path): Record<string, unknown> {
    const value = at(this.root, path);
    if (isRecord(value)) return value;
    this.fail(path, value === undefined || value === null ? 'is required' : 'must be an object');
    return {};
  }

  fail(path: Path, message: string): void {
    this.errors.push({ path: `${this.base}${pointer(path)}`, message });
  }

  /** Throws the collected details, if any. */
  check(): void {
    if (this.errors.length > 0) this.raise();
  }

  /** Throws the collected details (a generic one when there are none). */
  raise(): never {
    throw new AdapterInputError(
      this.errors.length > 0 ? this.errors : [{ path: this.base, message: 'is invalid' }],
    );
  }
}

/** The JSON body: the parsed one, or `rawBody` parsed here; a non-object is a 400. */
export function jsonBody(req: WebhookRequest): Record<string, unknown> {
  let body = req.body;
  if (body === undefined) {
    try {
      body = JSON.parse(Buffer.isBuffer(req.rawBody) ? req.rawBody.toString('utf8') : '') as unknown;
    } catch {
      throw new AdapterInputError(
        [{ path: '', message: 'is not valid JSON' }],
        'The webhook body is not valid JSON',
      );
    }
  }
  if (!isRecord(body)) throw new AdapterInputError([{ path: '', message: 'must be a JSON object' }]);
  return body;
}

/** A header value (names are lower case), trimmed, or `undefined`. */
export function header(req: WebhookRequest, name: string): string | undefined {
  const headers: unknown = req.headers;
  return isRecord(headers) ? asText(headers[name]) : undefined;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** Free text for an event field: control characters dropped, at most `max` characters. */
export function cleanText(value: string | undefined, max = 128): string | undefined {
  if (value === undefined) return undefined;
  const text = value.replace(CONTROL, '').trim().slice(0, max).trim();
  return text === '' ? undefined : text;
}

/** An event id (idempotency key, <= 128 chars): kept when usable, else hashed. */
export function eventId(raw: string): string {
  const clean = raw.replace(CONTROL, '');
  return clean === raw && clean.length > 0 && clean.length <= 128 ? clean : `sha256:${sha256Hex(raw)}`;
}

const keySchema = EventSchema.properties.deployment as { pattern?: string; maxLength?: number };
const KEY_PATTERN = new RegExp(keySchema.pattern ?? '^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$');
const KEY_MAX = keySchema.maxLength ?? 256;
/**
 * Which ASCII characters the schema allows after the first one, worked out once. It used to be
 * a cache filled per character seen, which grew without bound on attacker-chosen payloads
 * (security review finding 17); other characters are rare, and tested each time.
 */
const KEY_ASCII: readonly boolean[] = Array.from({ length: 128 }, (_, code) =>
  KEY_PATTERN.test(`a${String.fromCharCode(code)}`),
);

/** Whether the event schema allows `ch` after the first character of a deployment key. */
function keyAllows(ch: string): boolean {
  const code = ch.codePointAt(0) ?? 0;
  return code < 128 ? (KEY_ASCII[code] ?? false) : KEY_PATTERN.test(`a${ch}`);
}

/**
 * A deployment key `<source>:<project>:<id>` (DESIGN.md §7). The key is a URL path segment
 * (`/v1/deployments/{deployment}`), so `/` in project paths becomes `:` (`octo-org/api` →
 * `octo-org:api`; GitHub, GitLab and Jenkins names cannot contain `:`, so this is
 * unambiguous); any other character the event schema refuses becomes `-`. A key longer than
 * the schema allows keeps its head and a hash of the whole.
 */
export function deploymentKey(source: string, ...parts: string[]): string {
  const raw = [source, ...parts].join(':');
  let clean = '';
  for (const ch of raw) clean += keyAllows(ch) ? ch : ch === '/' && keyAllows(':') ? ':' : '-';
  return clean.length <= KEY_MAX ? clean : `${clean.slice(0, KEY_MAX - 56)}-${sha256Hex(raw).slice(0, 32)}`;
}

/** Fields an adapter may drop when the tool sent something the event schema refuses. */
const DROPPABLE = new Set([
  'commit',
  'actor',
  'region',
  'instance',
  'cohort',
  'build',
  'ticket',
  'labels',
  'version',
]);

/**
 * The last gate before an event leaves an adapter: optional fields the schema refuses are
 * dropped (a tool's odd build URL must not lose the deployment); anything else is a 400.
 */
export function finalizeEvent(input: EventInput): EventInput {
  const event: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) if (value !== undefined) event[key] = value;
  let errors = validateEvent(event);
  if (errors.length > 0) {
    for (const error of errors) {
      const field = error.path.split('/')[1];
      if (field !== undefined && DROPPABLE.has(field)) Reflect.deleteProperty(event, field);
    }
    errors = validateEvent(event);
  }
  if (errors.length > 0) {
    throw new AdapterInputError(
      errors.map((e) => ({ path: e.path, message: `the derived event field ${e.message}` })),
      'The webhook payload does not give a valid deployment event',
    );
  }
  return event as EventInput;
}

/** A `build` object without absent members. */
export function buildOf(
  id: string | undefined,
  url: string | undefined,
  provider: string,
): NonNullable<EventInput['build']> {
  const build: { id?: string; url?: string; provider: string } = { provider };
  const cleanId = cleanText(id, 256);
  if (cleanId !== undefined) build.id = cleanId;
  if (url !== undefined) build.url = url;
  return build;
}
