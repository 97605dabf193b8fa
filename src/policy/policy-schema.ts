/**
 * The `environments:` section of `shiplog.yaml` (DESIGN.md §8, a contract: the keys
 * `protected`, `approvals`, `requireTicket`, `windows` and `freezes` keep their names and
 * meaning). The schema checks shape only; the rules that need more than a shape (time zones,
 * regular expressions, inverted windows, overlapping freezes) live in `load-policy.ts`.
 */
import { DURATION_PATTERN } from '../domain/duration.js';
import { Type, type Static } from 'typebox';
import type { Kind } from '../domain/event.js';
import { INCIDENT_SEVERITIES } from '../domain/incident.js';

/** Days in the order the gate counts them: index 0 is Monday (ISO 8601). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** Incident severities, most severe first; ingest adapters map P1/SEV1/critical onto these. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** `HH:MM`, 00:00 to 23:59; a window's `to` may also be `24:00` (end of the day). */
const TIME_OF_DAY_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$';
const END_OF_DAY_PATTERN = '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$';
/** `MM-DD` of a yearly freeze. */
const MONTH_DAY_PATTERN = '^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$';
/** `<day> HH:MM` of a weekly freeze, e.g. `fri 18:00`. */
const WEEK_TIME_PATTERN = '^(mon|tue|wed|thu|fri|sat|sun) ([01][0-9]|2[0-3]):[0-5][0-9]$';
/** `30m`, `24h`, `7d`, `1d12h`: the validity of an approval. */
/** Deployment facts a policy can require: the ticket, the justification, the commit, a label. */
const FIELD_PATTERN = '^(ticket|justification|commit|labels\\.[A-Za-z0-9][A-Za-z0-9._/-]{0,62})$';

const nonEmpty = (description: string) => Type.String({ minLength: 1, description });

const ChangeWindowSchema = Type.Object(
  {
    days: Type.Array(Type.Enum(WEEKDAYS), { minItems: 1, description: 'Days on which the window opens' }),
    from: Type.String({ pattern: TIME_OF_DAY_PATTERN, description: 'Local opening time, inclusive' }),
    to: Type.String({
      pattern: END_OF_DAY_PATTERN,
      description: 'Local closing time, exclusive; earlier than `from` means the next day',
    }),
    timezone: nonEmpty('IANA time zone, e.g. Europe/Berlin'),
  },
  { additionalProperties: false },
);
export type ChangeWindow = Static<typeof ChangeWindowSchema>;

export const FixedFreezeSchema = Type.Object(
  {
    from: nonEmpty('RFC 3339 instant with offset, inclusive'),
    to: nonEmpty('RFC 3339 instant with offset, exclusive'),
    reason: nonEmpty('Shown in deny messages'),
  },
  { additionalProperties: false },
);

export const YearlyFreezeSchema = Type.Object(
  {
    every: Type.Literal('year'),
    from: Type.String({ pattern: MONTH_DAY_PATTERN, description: 'MM-DD, frozen from 00:00 local' }),
    to: Type.String({ pattern: MONTH_DAY_PATTERN, description: 'MM-DD, thawed at 00:00 local' }),
    timezone: nonEmpty('IANA time zone'),
    reason: nonEmpty('Shown in deny messages'),
  },
  { additionalProperties: false },
);
export type YearlyFreeze = Static<typeof YearlyFreezeSchema>;

export const WeeklyFreezeSchema = Type.Object(
  {
    every: Type.Literal('week'),
    from: Type.String({ pattern: WEEK_TIME_PATTERN, description: '`<day> HH:MM`, inclusive' }),
    to: Type.String({ pattern: WEEK_TIME_PATTERN, description: '`<day> HH:MM`, exclusive' }),
    timezone: nonEmpty('IANA time zone'),
    reason: nonEmpty('Shown in deny messages'),
  },
  { additionalProperties: false },
);
export type WeeklyFreeze = Static<typeof WeeklyFreezeSchema>;

const FreezeSchema = Type.Union([FixedFreezeSchema, YearlyFreezeSchema, WeeklyFreezeSchema]);
export type Freeze = Static<typeof FreezeSchema>;

const FieldListSchema = Type.Array(Type.String({ pattern: FIELD_PATTERN }), {
  description: 'ticket, justification, commit or labels.<key>',
});

/** What a kind of deployment (a hotfix, say) requires instead of the environment's defaults. */
const KindRuleSchema = Type.Object(
  {
    fields: Type.Optional(FieldListSchema),
    approvals: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    allowOutsideWindows: Type.Optional(
      Type.Boolean({ description: 'Windows do not apply; freezes still do' }),
    ),
    allowDuringIncident: Type.Optional(
      Type.Boolean({ description: '`incidentFreeze` and `blockOnIncidentSeverity` do not apply' }),
    ),
  },
  { additionalProperties: false },
);
export type KindRule = Static<typeof KindRuleSchema>;

const EnvironmentPolicySchema = Type.Object(
  {
    protected: Type.Optional(
      Type.Boolean({ description: 'Deny is enforced (else advisory); default false' }),
    ),
    approvals: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'Default 0' })),
    approvers: Type.Optional(
      Type.Object(
        {
          roles: Type.Optional(Type.Array(nonEmpty('Token role'), { minItems: 1 })),
          names: Type.Optional(Type.Array(nonEmpty('Token name'), { minItems: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    approvalTtl: Type.Optional(
      Type.String({ pattern: DURATION_PATTERN, description: 'e.g. 24h; default: forever' }),
    ),
    requireTicket: Type.Optional(nonEmpty('JavaScript regular expression the ticket must match')),
    require: Type.Optional(
      Type.Object(
        {
          fields: Type.Optional(FieldListSchema),
          byKind: Type.Optional(
            Type.Object(
              {
                release: Type.Optional(KindRuleSchema),
                hotfix: Type.Optional(KindRuleSchema),
                config: Type.Optional(KindRuleSchema),
                migration: Type.Optional(KindRuleSchema),
                rollback: Type.Optional(KindRuleSchema),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    windows: Type.Optional(Type.Array(ChangeWindowSchema)),
    freezes: Type.Optional(Type.Array(FreezeSchema)),
    blockOnIncidentSeverity: Type.Optional(Type.Enum(SEVERITIES)),
    incidentFreeze: Type.Optional(
      Type.Enum(INCIDENT_SEVERITIES, {
        description:
          'sev1..sev5: an open incident of the service at this severity or worse blocks (DESIGN.md §9)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type EnvironmentPolicy = Static<typeof EnvironmentPolicySchema>;

/** The environments map; names are checked against the event's name rule separately. */
export const EnvironmentsSchema = Type.Record(Type.String(), EnvironmentPolicySchema);

/** A validated, deeply frozen policy: one entry per configured environment. */
export interface Policy {
  readonly environments: Readonly<Record<string, Readonly<EnvironmentPolicy>>>;
}

/** Keys whose presence means an environment has rules, so `protected` must be stated. */
export const RULE_KEYS = [
  'approvals',
  'approvers',
  'approvalTtl',
  'requireTicket',
  'require',
  'windows',
  'freezes',
  'blockOnIncidentSeverity',
  'incidentFreeze',
] as const;

/** `HH:MM` (or `24:00`) to minutes after midnight. */
export function minutesOfDay(hhmm: string): number {
  const [h = '0', m = '0'] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** The rule a kind of deployment follows: its own entry under `require.byKind`, if any. */
export function kindRule(policy: EnvironmentPolicy, kind: Kind): KindRule | undefined {
  return policy.require?.byKind?.[kind];
}
