/**
 * Versions of the deployment event (DESIGN.md §14, docs/retention.md §Schema versions). A client
 * may name the version it speaks with `"schemaVersion": "1"`; without it an event is read as
 * version 1, the version every client spoke before versions were named. An accepted event is
 * upcast, version by version, to the current one and then validated by the current schema
 * (src/domain/event.ts); a stored record is upcast the same way when it is read, so records
 * written by any earlier version read as current ones.
 *
 * Adding a version is one entry at the end of {@link EVENT_SCHEMA_VERSIONS}: its JSON Schema (the
 * live `eventJsonBody()` for the newest; an older one is frozen, like event-schema-v1.ts) and
 * the upcast from the version before it. An entry never changes once released.
 */
import type { ErrorDetail } from '../errors.js';
import { EVENT_SCHEMA_V1 } from './event-schema-v1.js';
import { EVENT_SCHEMA_VERSION, eventJsonSchema, validateEvent, type EventInput } from './event.js';

export interface EventSchemaVersion {
  readonly version: string;
  /** The JSON Schema of the version's event body (without the `schemaVersion` member). */
  readonly schema: Readonly<Record<string, unknown>>;
  /** An event (input or stored record) of the version before, as one of this version. */
  readonly upcast: (event: Record<string, unknown>) => Record<string, unknown>;
}

export const EVENT_SCHEMA_VERSIONS: readonly EventSchemaVersion[] = Object.freeze([
  { version: '1', schema: EVENT_SCHEMA_V1, upcast: (event) => event },
  // Version 2 added `commits`, `intent` and `remediates` (DESIGN.md §10): a version-1 event is one as it is.
  { version: '2', schema: eventJsonBody(), upcast: (event) => event },
]);

/** The body of the live schema (src/domain/event.ts), as the newest entry must equal it. */
export function eventJsonBody(): Record<string, unknown> {
  const header = new Set(['$schema', 'title', 'x-schema-version']);
  return Object.fromEntries(Object.entries(eventJsonSchema()).filter(([key]) => !header.has(key)));
}

const VERSION_NAMES = EVENT_SCHEMA_VERSIONS.map((v) => v.version);
const DEFAULT_VERSION = '1';

/** The served JSON Schema of `version` (default: the current one); undefined when unknown. */
export function eventSchemaDocument(
  version: string = EVENT_SCHEMA_VERSION,
): Record<string, unknown> | undefined {
  const entry = EVENT_SCHEMA_VERSIONS.find((v) => v.version === version);
  if (!entry) return undefined;
  const properties = (entry.schema.properties ?? {}) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'shiplog deployment event',
    'x-schema-version': entry.version,
    ...entry.schema,
    properties: {
      ...properties,
      schemaVersion: {
        type: 'string',
        const: entry.version,
        description: `The event schema version this event follows (optional; default ${DEFAULT_VERSION})`,
      },
    },
  };
}

/** Every version, oldest first. */
export function eventSchemaVersions(): readonly string[] {
  return VERSION_NAMES;
}

function upcastFrom(version: string, event: Record<string, unknown>): Record<string, unknown> {
  const from = VERSION_NAMES.indexOf(version);
  return EVENT_SCHEMA_VERSIONS.slice(from + 1).reduce((e, v) => v.upcast(e), event);
}

/**
 * Reads one event as sent: its `schemaVersion` (default 1) must be a known version; the event
 * is upcast to the current version and validated by the current schema. Errors are JSON
 * pointers prefixed by `pointer`.
 */
export function acceptEvent(
  value: unknown,
  pointer = '',
): { readonly input: EventInput } | { readonly errors: ErrorDetail[] } {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { errors: validateEvent(value, pointer) };
  const { schemaVersion, ...event } = value as Record<string, unknown>;
  const version = schemaVersion ?? DEFAULT_VERSION;
  if (typeof version !== 'string' || !VERSION_NAMES.includes(version)) {
    return {
      errors: [
        {
          path: `${pointer}/schemaVersion`,
          message: `must be one of ${VERSION_NAMES.map((v) => `"${v}"`).join(', ')}`,
        },
      ],
    };
  }
  const current = upcastFrom(version, event);
  const errors = validateEvent(current, pointer);
  return errors.length > 0 ? { errors } : { input: current as EventInput };
}

/** A stored event record (of any version; none named is version 1) as a current one. */
export function upcastRecord<T>(record: T): T {
  if (record === null || typeof record !== 'object') return record;
  const { schemaVersion, ...rest } = record as Record<string, unknown>;
  return upcastFrom(typeof schemaVersion === 'string' ? schemaVersion : DEFAULT_VERSION, rest) as T;
}
