/**
 * `tickets:` of shiplog.yaml: the optional check that a deployment's change ticket exists in
 * Jira or ServiceNow and is in an allowed state (docs/governance.md, "Ticket check"). The token
 * is named by environment variable, never written in the file (DESIGN.md §5).
 *
 * ```yaml
 * tickets:
 *   provider: jira                  # or servicenow
 *   url: https://acme.atlassian.net
 *   auth: basic                     # Jira Cloud: email + API token; default bearer
 *   username: release-bot@acme.com
 *   tokenVariable: SHIPLOG_JIRA_TOKEN
 *   allowedStates: [Approved, In Progress]
 *   timeoutMs: 2000
 *   pattern: '^[A-Z][A-Z0-9_]*-[0-9]+$'  # the ticket key; default per provider
 *   environments: [production]      # default: the protected ones
 * ```
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { NAME_PATTERN } from '../domain/event.js';
import { patternProblem } from '../domain/pattern.js';
import { isRecord, pointerSegments, schemaProblem, type PolicyProblem } from '../policy/policy-problems.js';

const TICKET_PROVIDERS = ['jira', 'servicenow'] as const;
type TicketProvider = (typeof TICKET_PROVIDERS)[number];
const TICKET_AUTH = ['bearer', 'basic'] as const;

/**
 * What a ticket key looks like when `pattern` is not given: a Jira issue key (`OPS-123`), a
 * ServiceNow change number (`CHG0030001`). Anything else is never sent to the provider.
 */
const DEFAULT_TICKET_PATTERNS: Readonly<Record<TicketProvider, string>> = {
  jira: '^[A-Z][A-Z0-9_]*-[0-9]+$',
  servicenow: '^[A-Z]+[0-9]+$',
};

/** How long shiplog waits for the provider when `timeoutMs` is not given. */
const DEFAULT_TICKET_TIMEOUT_MS = 2000;

const TicketsSchema = Type.Object(
  {
    provider: Type.Enum(TICKET_PROVIDERS),
    url: Type.String({ pattern: '^https?://' }),
    tokenVariable: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
    auth: Type.Optional(Type.Enum(TICKET_AUTH)),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    allowedStates: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
    environments: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  },
  { additionalProperties: false },
);
const check = Compile(TicketsSchema);

const PATTERN_MESSAGES = {
  url: 'must start with http:// or https://',
  tokenVariable: 'must be an environment variable name (A-Z, 0-9 and _), not the token itself',
};

/** A validated `tickets:` section with its defaults filled in. */
export interface TicketCheckConfig {
  readonly provider: TicketProvider;
  /** Base URL of the Jira or ServiceNow instance, without a trailing slash. */
  readonly url: string;
  /** Environment variable holding the token; none: requests go without Authorization. */
  readonly tokenVariable?: string | undefined;
  /** `bearer` (default): `Authorization: Bearer <token>`; `basic`: `Basic base64(username:token)`. */
  readonly auth?: 'bearer' | 'basic' | undefined;
  /** With `auth: basic`: the Jira Cloud account's email, or the ServiceNow user. */
  readonly username?: string | undefined;
  /** RE2 pattern a ticket must match before the provider is asked; default per provider. */
  readonly pattern?: string | undefined;
  /** Ticket states (Jira status names, ServiceNow `state` values) that let a deploy through. */
  readonly allowedStates: readonly string[];
  readonly timeoutMs: number;
  /** Environments whose gate decisions verify the ticket. */
  readonly environments: readonly string[];
}

/**
 * Problems of the `tickets:` section, paths from the top of the file. `environments` is the
 * (unvalidated) `environments:` section: the ones named must be configured there, and without
 * a list the protected ones are covered, so at least one must be protected.
 */
export function validateTickets(value: unknown, environments: unknown): PolicyProblem[] {
  if (value === undefined || value === null) return [];
  const base = ['tickets'];
  const problems = [...check.Errors(value)].flatMap((error): PolicyProblem[] => {
    const path = [...base, ...pointerSegments(error.instancePath)];
    const key = path[path.length - 1];
    if (error.keyword === 'pattern' && (key === 'url' || key === 'tokenVariable')) {
      return [{ path, message: PATTERN_MESSAGES[key] }];
    }
    return schemaProblem(path, error);
  });
  if (problems.length > 0 || !isRecord(value)) return problems;
  const section = value as Static<typeof TicketsSchema>;
  if (!URL.canParse(section.url)) problems.push({ path: [...base, 'url'], message: 'is not a URL' });
  if (section.auth === 'basic' && (section.username === undefined || section.tokenVariable === undefined)) {
    problems.push({
      path: [...base, 'auth'],
      message:
        'basic needs `username` (the Jira Cloud email) and `tokenVariable` (the variable holding the API token)',
    });
  }
  if (section.username !== undefined && section.auth !== 'basic') {
    problems.push({ path: [...base, 'username'], message: 'is only used with `auth: basic`' });
  }
  const patternIssue = section.pattern === undefined ? undefined : patternProblem(section.pattern);
  if (patternIssue !== undefined) {
    problems.push({
      path: [...base, 'pattern'],
      message: `is not a valid regular expression (${patternIssue})`,
    });
  }
  const configured = isRecord(environments) ? environments : {};
  const nameRule = new RegExp(NAME_PATTERN);
  section.environments?.forEach((environment, i) => {
    const path = [...base, 'environments', i];
    if (!nameRule.test(environment)) {
      problems.push({ path, message: 'must be an environment name (1-63 characters of a-z 0-9 . _ -)' });
    } else if (!Object.hasOwn(configured, environment)) {
      problems.push({
        path,
        message: `names environment "${environment}", which is not configured under environments`,
      });
    }
  });
  if (section.environments === undefined && protectedOf(configured).length === 0) {
    problems.push({
      path: base,
      message: 'covers no environment: none is protected, so name them in tickets.environments',
    });
  }
  return problems;
}

/** A valid `tickets:` section (call {@link validateTickets} first) with its defaults; none: undefined. */
export function parseTickets(value: unknown, environments: unknown): TicketCheckConfig | undefined {
  if (!isRecord(value)) return undefined;
  const section = structuredClone(value) as Static<typeof TicketsSchema>;
  return {
    provider: section.provider,
    url: section.url.replace(/\/+$/, ''),
    ...(section.tokenVariable === undefined ? {} : { tokenVariable: section.tokenVariable }),
    auth: section.auth ?? 'bearer',
    ...(section.username === undefined ? {} : { username: section.username }),
    ...(section.pattern === undefined ? {} : { pattern: section.pattern }),
    allowedStates: section.allowedStates,
    timeoutMs: section.timeoutMs ?? DEFAULT_TICKET_TIMEOUT_MS,
    environments: section.environments ?? protectedOf(isRecord(environments) ? environments : {}),
  };
}

function protectedOf(environments: Record<string, unknown>): string[] {
  return Object.entries(environments)
    .filter(([, policy]) => isRecord(policy) && policy.protected === true)
    .map(([name]) => name);
}

/** The pattern a ticket must match before the provider is asked. */
export function ticketPatternOf(config: Pick<TicketCheckConfig, 'provider' | 'pattern'>): string {
  return config.pattern ?? DEFAULT_TICKET_PATTERNS[config.provider];
}
