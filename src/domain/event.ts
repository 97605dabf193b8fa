/**
 * The deployment event (DESIGN.md §3): its TypeBox schema, served as JSON Schema at
 * `GET /v1/schema/event.json`, and the validation that names every bad field by JSON pointer.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { ErrorDetail } from '../errors.js';

/**
 * The event schema's version, served as `x-schema-version` (DESIGN.md §14): the newest of
 * src/domain/event-versions.ts, where a new version is added. Version 2 added `commits`,
 * `intent` and `remediates` (DESIGN.md §10); the change is additive, so version-1 events
 * (which carry none of them) are still accepted as they are.
 */
export const EVENT_SCHEMA_VERSION = '2';

/** The most commits one event may list (DESIGN.md §10). */
export const MAX_COMMITS = 1000;

export const INTENTS = ['planned', 'remediation'] as const;
export type Intent = (typeof INTENTS)[number];

export const EVENT_TYPES = [
  'deployment.requested',
  'deployment.started',
  'deployment.succeeded',
  'deployment.failed',
  'deployment.rolled_back',
  'deployment.canceled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const KINDS = ['release', 'hotfix', 'config', 'migration', 'rollback'] as const;
export type Kind = (typeof KINDS)[number];

/** Service, environment, region and cohort names: no path characters, no upper case. */
export const NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$';
const name = (description: string) => Type.String({ pattern: NAME_PATTERN, maxLength: 63, description });
const text = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$', description });

/** A deployment key or an incident key (both follow this pattern). */
const KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,255}$';

export const EventSchema = Type.Object(
  {
    id: Type.Optional(text(128, 'Idempotency key: the same id again is stored once')),
    type: Type.Enum(EVENT_TYPES, { description: 'What happened' }),
    time: Type.Optional(
      Type.String({ format: 'date-time', description: 'When it happened (RFC 3339); default: receipt' }),
    ),
    deployment: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,255}$',
      maxLength: 256,
      description: 'Groups the events of one deployment (a CI run id, say)',
    }),
    service: name('Service name'),
    environment: name('Environment name'),
    version: Type.Optional(text(128, 'Version deployed; required on the first event of a deployment')),
    commit: Type.Optional(text(128, 'Commit deployed')),
    actor: Type.Optional(text(128, 'Who deployed; default: the token name')),
    region: Type.Optional(name('Region')),
    instance: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$',
        maxLength: 253,
        description: 'Instance',
      }),
    ),
    cohort: Type.Optional(name('Canary or blue-green cohort')),
    traffic: Type.Optional(
      Type.Number({ minimum: 0, maximum: 100, description: 'Traffic share of the cohort, %' }),
    ),
    kind: Type.Optional(Type.Enum(KINDS, { description: 'Default: release' })),
    build: Type.Optional(
      Type.Object(
        {
          id: Type.Optional(text(256, 'CI build id')),
          url: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
          provider: Type.Optional(text(64, 'CI provider')),
        },
        { additionalProperties: false },
      ),
    ),
    ticket: Type.Optional(text(128, 'Change ticket')),
    commits: Type.Optional(
      Type.Array(
        Type.Object(
          {
            sha: Type.String({ pattern: '^[0-9a-fA-F]{4,64}$', description: 'Commit id (hex)' }),
            time: Type.String({ format: 'date-time', description: 'Commit time (RFC 3339)' }),
          },
          { additionalProperties: false },
        ),
        {
          maxItems: MAX_COMMITS,
          description:
            'The commits this deployment ships that the previous one did not (lead time: DESIGN.md §10)',
        },
      ),
    ),
    intent: Type.Optional(
      Type.Enum(INTENTS, { description: 'planned (default) or remediation (a fix for a failure)' }),
    ),
    remediates: Type.Optional(
      Type.String({
        pattern: KEY_PATTERN,
        maxLength: 256,
        description: 'The deployment key or incident key this deployment fixes',
      }),
    ),
    labels: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$' }),
        Type.String({ maxLength: 256 }),
        {
          maxProperties: 64,
        },
      ),
    ),
  },
  { additionalProperties: false, $id: 'https://shiplog.dev/schema/event.json' },
);

export type EventInput = Static<typeof EventSchema>;

/** An accepted event, normalised: defaults applied, time in epoch milliseconds. */
export interface DeploymentEvent {
  readonly id: string;
  readonly type: EventType;
  readonly timeMs: number;
  readonly deployment: string;
  readonly service: string;
  readonly environment: string;
  readonly version?: string;
  readonly commit?: string;
  readonly actor: string;
  readonly region?: string;
  readonly instance?: string;
  readonly cohort?: string;
  readonly traffic?: number;
  readonly kind: Kind;
  readonly build?: { readonly id?: string; readonly url?: string; readonly provider?: string };
  readonly ticket?: string;
  readonly commits?: readonly Commit[];
  readonly intent?: Intent;
  readonly remediates?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** One commit a deployment ships: its id and time (RFC 3339, as sent). */
export interface Commit {
  readonly sha: string;
  readonly time: string;
}

const compiled = Compile(EventSchema);

/** The JSON Schema document served to clients. */
export function eventJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'shiplog deployment event',
    'x-schema-version': EVENT_SCHEMA_VERSION,
    ...(JSON.parse(JSON.stringify(EventSchema)) as Record<string, unknown>),
  };
}

/**
 * Validates one event. Returns the errors (JSON pointers prefixed by `pointer`) or none.
 * Union errors are collapsed into one line per field so the message stays readable.
 */
export function validateEvent(value: unknown, pointer = ''): ErrorDetail[] {
  if (compiled.Check(value)) return extraChecks(value as EventInput, pointer);
  const seen = new Map<string, string>();
  for (const error of compiled.Errors(value)) {
    if (error.keyword === 'boolean') continue; // reported by its additionalProperties error
    const params = error.params as { additionalProperties?: string[]; requiredProperties?: string[] };
    if (error.keyword === 'additionalProperties' && params.additionalProperties) {
      for (const key of params.additionalProperties) {
        seen.set(`${pointer}${error.instancePath}/${escapePointer(key)}`, 'is not a known field');
      }
      continue;
    }
    if (error.keyword === 'required' && params.requiredProperties) {
      for (const key of params.requiredProperties) {
        seen.set(`${pointer}${error.instancePath}/${escapePointer(key)}`, 'is required');
      }
      continue;
    }
    const path = `${pointer}${error.instancePath}`;
    if (seen.has(path)) continue;
    seen.set(path, describe(error.instancePath, error.message));
  }
  return [...seen].map(([path, message]) => ({ path, message }));
}

function extraChecks(event: EventInput, pointer: string): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  if (event.time !== undefined && Number.isNaN(Date.parse(event.time))) {
    errors.push({ path: `${pointer}/time`, message: 'is not a valid RFC 3339 time' });
  }
  event.commits?.forEach((commit, i) => {
    if (Number.isNaN(Date.parse(commit.time)))
      errors.push({ path: `${pointer}/commits/${i}/time`, message: 'is not a valid RFC 3339 time' });
  });
  // Lone UTF-16 surrogates cannot be encoded as UTF-8 nor canonicalized (RFC 8785).
  // The pointer is built only for a bad value: this runs on every event of every batch.
  const visit = (value: unknown, path: () => string): void => {
    if (typeof value === 'string') {
      if (!value.isWellFormed())
        errors.push({ path: path(), message: 'contains an unpaired UTF-16 surrogate' });
    } else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        if (!key.isWellFormed())
          errors.push({ path: path(), message: 'has a key with an unpaired UTF-16 surrogate' });
        visit((value as Record<string, unknown>)[key], () => `${path()}/${escapePointer(key)}`);
      }
    }
  };
  visit(event, () => pointer);
  return errors;
}

function describe(instancePath: string, message: string): string {
  if (instancePath === '/type') return `must be one of ${EVENT_TYPES.join(', ')}`;
  if (instancePath === '/kind') return `must be one of ${KINDS.join(', ')}`;
  if (instancePath === '/intent') return `must be one of ${INTENTS.join(', ')}`;
  if (/^\/(service|environment|region|cohort)$/.test(instancePath)) {
    return 'must be 1-63 characters of a-z 0-9 . _ - starting with a letter or digit';
  }
  if (message === 'must be object' && instancePath === '') return 'must be a JSON object';
  return message;
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Applies defaults to a valid event input. */
export function normalizeEvent(
  input: EventInput,
  ctx: { nowMs: number; actor: string; newId: () => string },
): DeploymentEvent {
  const { time, actor, kind, id, ...rest } = input;
  return {
    ...rest,
    id: id ?? ctx.newId(),
    timeMs: time === undefined ? ctx.nowMs : Date.parse(time),
    actor: actor ?? ctx.actor,
    kind: kind ?? 'release',
  };
}
