/**
 * The `alerts:` section of shiplog.yaml (DESIGN.md §11, a contract: `rules`, `route`,
 * `receivers`, `escalation`, `suppression` and their keys keep their names). Validation
 * collects every problem with its path, so src/config-file.ts can name file, line and field;
 * parsing turns a valid section into frozen, typed settings with Alertmanager's defaults.
 */
import { isRecord, type ConfigPath, type PolicyProblem } from '../policy/policy-problems.js';
import { DURATION_MESSAGE, parseDuration } from '../domain/duration.js';
import { parseMatcher, type Matcher } from './matchers.js';
import { parseSuppression, type SuppressionSettings } from './suppression-config.js';

export const RULE_KINDS = [
  'deployment_failed',
  'deployment_overdue',
  'ungated_deployment',
  'outside_window',
  'rolled_back',
  'verification_failed',
  'approval_overdue',
  'frequency_above',
  'frequency_below',
  'change_velocity',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** PagerDuty's severities, which every receiver understands. */
export const ALERT_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export interface AlertRule {
  readonly name: string;
  readonly when: RuleKind;
  /** Labels the alert's subject must carry (service, environment, region, kind). */
  readonly match: Readonly<Record<string, string>>;
  readonly severity: AlertSeverity;
  /** deployment_overdue: multiple of the p90 of recent successful durations. Default 2. */
  readonly factor: number;
  /** deployment_overdue without history, approval_overdue: the threshold. Defaults 30m, 1h. */
  readonly afterMs: number;
  /** frequency rules: the threshold count within `perMs`. */
  readonly count: number;
  readonly perMs: number;
  /** frequency rules: count per service (in each environment) or per environment. */
  readonly by: 'service' | 'environment';
}

export interface Route {
  readonly receiver: string;
  readonly matchers: readonly Matcher[];
  /** Label names; `['...']` groups by every label. */
  readonly groupBy: readonly string[];
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
  readonly continue: boolean;
  readonly routes: readonly Route[];
  /** `0`, `0.1`, `0.1.2`: where the route is in the tree (names its groups). */
  readonly id: string;
}

export type ReceiverConfig =
  | {
      readonly name: string;
      readonly type: 'pagerduty';
      readonly routingKeyEnv: string;
      readonly url: string;
    }
  | { readonly name: string; readonly type: 'slack'; readonly urlEnv: string }
  | { readonly name: string; readonly type: 'opsgenie'; readonly apiKeyEnv: string; readonly url: string }
  | {
      readonly name: string;
      readonly type: 'webhook';
      readonly url: string;
      readonly secretEnv?: string | undefined;
    };

export interface EscalationPolicy {
  readonly levels: readonly { readonly afterMs: number; readonly receiver: string }[];
  /** How many times the levels run again after the first pass. Default 0. */
  readonly repeat: number;
}

export interface AlertsConfig {
  readonly rules: readonly AlertRule[];
  readonly route: Route | undefined;
  readonly receivers: Readonly<Record<string, ReceiverConfig>>;
  readonly escalation: Readonly<Record<string, EscalationPolicy>>;
  /** `suppression:`, parsed by src/alerts/suppression-config.ts; undefined: off. */
  readonly suppression: SuppressionSettings | undefined;
}

export const DEFAULT_ALERTS: AlertsConfig = Object.freeze({
  rules: Object.freeze([]),
  route: undefined,
  receivers: Object.freeze({}),
  escalation: Object.freeze({}),
  suppression: undefined,
});

/** Alertmanager's defaults (prometheus.io/docs/alerting/latest/configuration/#route). */
export const ROUTE_DEFAULTS = Object.freeze({
  groupWaitMs: 30_000,
  groupIntervalMs: 5 * 60_000,
  repeatIntervalMs: 4 * 3600_000,
});

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
export const OPSGENIE_API_URL = 'https://api.opsgenie.com';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const ROOT: ConfigPath = ['alerts'];
const RULE_KEYS = ['name', 'when', 'match', 'severity', 'factor', 'after', 'count', 'per', 'by'];
const ROUTE_KEYS = [
  'receiver',
  'matchers',
  'group_by',
  'group_wait',
  'group_interval',
  'repeat_interval',
  'continue',
  'routes',
];

/** Every problem of the `alerts:` section, paths from the top of the file. */
export function validateAlerts(section: unknown): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  if (section === undefined || section === null) return problems;
  // A section that is not a mapping is reported once, by the file's own check (src/config-file.ts).
  if (!isRecord(section)) return problems;
  for (const key of Object.keys(section)) {
    if (!['rules', 'route', 'receivers', 'escalation', 'suppression'].includes(key))
      problems.push({ path: [...ROOT, key], atKey: true, message: 'is not a known key' });
  }
  const receivers = receiverNames(section.receivers, problems);
  validateRules(section.rules, problems);
  if (section.route !== undefined && section.route !== null) {
    validateRoute(section.route, [...ROOT, 'route'], receivers, problems, true);
  }
  validateEscalation(section.escalation, receivers, problems);
  // `suppression` is validated with its silences (src/alerts/suppression-config.ts).
  return problems;
}

function unknownKeys(
  value: Record<string, unknown>,
  known: readonly string[],
  path: ConfigPath,
  problems: PolicyProblem[],
) {
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      problems.push({ path: [...path, key], atKey: true, message: 'is not a known key' });
  }
}

function checkDuration(value: unknown, path: ConfigPath, problems: PolicyProblem[]): void {
  if (value !== undefined && parseDuration(value) === undefined)
    problems.push({ path, message: DURATION_MESSAGE });
}

function checkMatchers(value: unknown, path: ConfigPath, problems: PolicyProblem[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    problems.push({ path, message: 'must be a list of matchers like severity="critical"' });
    return;
  }
  value.forEach((text: unknown, i) => {
    if (typeof text !== 'string') {
      problems.push({ path: [...path, i], message: 'must be a matcher like severity="critical"' });
      return;
    }
    try {
      parseMatcher(text);
    } catch (error) {
      problems.push({ path: [...path, i], message: (error as Error).message });
    }
  });
}

function validateRules(rules: unknown, problems: PolicyProblem[]): void {
  if (rules === undefined || rules === null) return;
  const base = [...ROOT, 'rules'];
  if (!Array.isArray(rules)) {
    problems.push({ path: base, message: 'must be a list of rules' });
    return;
  }
  const seen = new Set<string>();
  rules.forEach((rule: unknown, i) => {
    const path = [...base, i];
    if (!isRecord(rule)) {
      problems.push({ path, message: 'must be a mapping with name and when' });
      return;
    }
    unknownKeys(rule, RULE_KEYS, path, problems);
    if (typeof rule.name !== 'string' || !NAME.test(rule.name)) {
      problems.push({ path: [...path, 'name'], message: 'is required: 1-63 characters of a-z 0-9 . _ -' });
    } else if (seen.has(rule.name)) {
      problems.push({ path: [...path, 'name'], message: 'is used by another rule' });
    } else seen.add(rule.name);
    if (!(RULE_KINDS as readonly unknown[]).includes(rule.when)) {
      problems.push({ path: [...path, 'when'], message: `must be one of ${RULE_KINDS.join(', ')}` });
    }
    if (
      rule.match !== undefined &&
      (!isRecord(rule.match) || Object.values(rule.match).some((v) => typeof v !== 'string'))
    ) {
      problems.push({ path: [...path, 'match'], message: 'must map label names to values' });
    }
    if (rule.severity !== undefined && !(ALERT_SEVERITIES as readonly unknown[]).includes(rule.severity)) {
      problems.push({
        path: [...path, 'severity'],
        message: `must be one of ${ALERT_SEVERITIES.join(', ')}`,
      });
    }
    if (rule.factor !== undefined && (typeof rule.factor !== 'number' || !(rule.factor > 0))) {
      problems.push({ path: [...path, 'factor'], message: 'must be a number above 0' });
    }
    checkDuration(rule.after, [...path, 'after'], problems);
    checkDuration(rule.per, [...path, 'per'], problems);
    const frequency =
      rule.when === 'frequency_above' || rule.when === 'frequency_below' || rule.when === 'change_velocity';
    if (frequency) {
      if (!Number.isInteger(rule.count) || (rule.count as number) < 0)
        problems.push({ path: [...path, 'count'], message: 'is required: a whole number, 0 or more' });
      if (rule.per === undefined)
        problems.push({ path: [...path, 'per'], message: 'is required: a duration like 1h' });
      else if (parseDuration(rule.per) === 0)
        problems.push({ path: [...path, 'per'], message: 'must be longer than 0' });
      if (rule.by !== undefined && rule.by !== 'service' && rule.by !== 'environment')
        problems.push({ path: [...path, 'by'], message: 'must be service or environment' });
    } else {
      for (const key of ['count', 'per', 'by'] as const) {
        if (rule[key] !== undefined)
          problems.push({
            path: [...path, key],
            atKey: true,
            message: 'applies to frequency_above, frequency_below and change_velocity only',
          });
      }
    }
    if (rule.factor !== undefined && rule.when !== 'deployment_overdue')
      problems.push({
        path: [...path, 'factor'],
        atKey: true,
        message: 'applies to deployment_overdue only',
      });
    if (rule.after !== undefined && rule.when !== 'deployment_overdue' && rule.when !== 'approval_overdue')
      problems.push({
        path: [...path, 'after'],
        atKey: true,
        message: 'applies to deployment_overdue and approval_overdue only',
      });
  });
}

function receiverNames(receivers: unknown, problems: PolicyProblem[]): Set<string> {
  const names = new Set<string>();
  if (receivers === undefined || receivers === null) return names;
  const base = [...ROOT, 'receivers'];
  if (!Array.isArray(receivers)) {
    problems.push({ path: base, message: 'must be a list of receivers' });
    return names;
  }
  receivers.forEach((receiver: unknown, i) => {
    const path = [...base, i];
    if (!isRecord(receiver)) {
      problems.push({
        path,
        message: 'must be a mapping with name and one of pagerduty, slack, opsgenie, webhook',
      });
      return;
    }
    unknownKeys(receiver, ['name', 'pagerduty', 'slack', 'opsgenie', 'webhook'], path, problems);
    if (typeof receiver.name !== 'string' || !NAME.test(receiver.name)) {
      problems.push({ path: [...path, 'name'], message: 'is required: 1-63 characters of a-z 0-9 . _ -' });
    } else if (names.has(receiver.name)) {
      problems.push({ path: [...path, 'name'], message: 'is used by another receiver' });
    } else names.add(receiver.name);
    const kinds = ['pagerduty', 'slack', 'opsgenie', 'webhook'].filter((k) => receiver[k] !== undefined);
    if (kinds.length !== 1) {
      problems.push({ path, message: 'must have exactly one of pagerduty, slack, opsgenie, webhook' });
      return;
    }
    const kind = kinds[0] as 'pagerduty' | 'slack' | 'opsgenie' | 'webhook';
    const body = receiver[kind];
    const at = [...path, kind];
    if (!isRecord(body)) {
      problems.push({ path: at, message: 'must be a mapping' });
      return;
    }
    const spec: Record<
      typeof kind,
      { env: string[]; optionalEnv: string[]; urls: string[]; requiredUrls: string[] }
    > = {
      pagerduty: { env: ['routingKeyEnv'], optionalEnv: [], urls: ['url'], requiredUrls: [] },
      slack: { env: ['urlEnv'], optionalEnv: [], urls: [], requiredUrls: [] },
      opsgenie: { env: ['apiKeyEnv'], optionalEnv: [], urls: ['url'], requiredUrls: [] },
      webhook: { env: [], optionalEnv: ['secretEnv'], urls: ['url'], requiredUrls: ['url'] },
    };
    const { env, optionalEnv, urls, requiredUrls } = spec[kind];
    unknownKeys(body, [...env, ...optionalEnv, ...urls], at, problems);
    for (const key of [...env, ...optionalEnv]) {
      const value = body[key];
      if (value === undefined && optionalEnv.includes(key)) continue;
      if (typeof value !== 'string' || !ENV_NAME.test(value))
        problems.push({
          path: [...at, key],
          message: 'is required: the NAME of an environment variable (A-Z 0-9 _), never the secret',
        });
    }
    for (const key of urls) {
      const value = body[key];
      if (value === undefined && !requiredUrls.includes(key)) continue;
      if (typeof value !== 'string' || !/^https?:\/\/[^\s]+$/.test(value))
        problems.push({ path: [...at, key], message: 'must be an http:// or https:// URL' });
    }
  });
  return names;
}

function validateRoute(
  route: unknown,
  path: ConfigPath,
  receivers: Set<string>,
  problems: PolicyProblem[],
  root: boolean,
): void {
  if (!isRecord(route)) {
    problems.push({ path, message: 'must be a mapping' });
    return;
  }
  unknownKeys(route, ROUTE_KEYS, path, problems);
  if (route.receiver === undefined) {
    if (root) problems.push({ path: [...path, 'receiver'], message: 'is required on the root route' });
  } else if (typeof route.receiver !== 'string' || !receivers.has(route.receiver)) {
    problems.push({
      path: [...path, 'receiver'],
      message: `names receiver "${String(route.receiver)}", which is not under alerts.receivers`,
    });
  }
  if (root && route.matchers !== undefined)
    problems.push({
      path: [...path, 'matchers'],
      atKey: true,
      message: 'the root route matches every alert: it takes no matchers',
    });
  checkMatchers(route.matchers, [...path, 'matchers'], problems);
  if (
    route.group_by !== undefined &&
    (!Array.isArray(route.group_by) || route.group_by.some((l) => typeof l !== 'string'))
  )
    problems.push({ path: [...path, 'group_by'], message: 'must be a list of label names (or [...])' });
  for (const key of ['group_wait', 'group_interval', 'repeat_interval'])
    checkDuration(route[key], [...path, key], problems);
  for (const key of ['group_interval', 'repeat_interval']) {
    if (parseDuration(route[key]) === 0)
      problems.push({ path: [...path, key], message: 'must be longer than 0' });
  }
  if (route.continue !== undefined && typeof route.continue !== 'boolean')
    problems.push({ path: [...path, 'continue'], message: 'must be true or false' });
  if (route.routes !== undefined) {
    if (!Array.isArray(route.routes))
      problems.push({ path: [...path, 'routes'], message: 'must be a list of routes' });
    else
      route.routes.forEach((child: unknown, i) =>
        validateRoute(child, [...path, 'routes', i], receivers, problems, false),
      );
  }
}

function validateEscalation(escalation: unknown, receivers: Set<string>, problems: PolicyProblem[]): void {
  if (escalation === undefined || escalation === null) return;
  const base = [...ROOT, 'escalation'];
  if (!isRecord(escalation)) {
    problems.push({ path: base, message: 'must map receiver names to escalation policies' });
    return;
  }
  for (const [name, policy] of Object.entries(escalation)) {
    const path = [...base, name];
    if (!receivers.has(name))
      problems.push({
        path,
        atKey: true,
        message: `names receiver "${name}", which is not under alerts.receivers`,
      });
    if (!isRecord(policy)) {
      problems.push({ path, message: 'must be a mapping with levels and repeat' });
      continue;
    }
    unknownKeys(policy, ['levels', 'repeat'], path, problems);
    if (!Array.isArray(policy.levels) || policy.levels.length === 0) {
      problems.push({
        path: [...path, 'levels'],
        message: 'is required: a non-empty list of {after, receiver}',
      });
    } else {
      let previous = -1;
      policy.levels.forEach((level: unknown, i) => {
        const at = [...path, 'levels', i];
        if (!isRecord(level)) {
          problems.push({ path: at, message: 'must be a mapping with after and receiver' });
          return;
        }
        unknownKeys(level, ['after', 'receiver'], at, problems);
        const after = parseDuration(level.after);
        if (after === undefined) problems.push({ path: [...at, 'after'], message: DURATION_MESSAGE });
        else if (after < previous)
          problems.push({ path: [...at, 'after'], message: 'must not be earlier than the level before' });
        else previous = after;
        if (typeof level.receiver !== 'string' || !receivers.has(level.receiver))
          problems.push({
            path: [...at, 'receiver'],
            message: `names receiver "${String(level.receiver)}", which is not under alerts.receivers`,
          });
      });
    }
    if (
      policy.repeat !== undefined &&
      (!Number.isInteger(policy.repeat) || (policy.repeat as number) < 0 || (policy.repeat as number) > 100)
    )
      problems.push({ path: [...path, 'repeat'], message: 'must be a whole number from 0 to 100' });
  }
}

/** The settings of a valid `alerts:` section (call {@link validateAlerts} first). */
export function parseAlerts(section: unknown): AlertsConfig {
  if (!isRecord(section)) return DEFAULT_ALERTS;
  const rules = (Array.isArray(section.rules) ? section.rules : []).map((raw) => {
    const rule = raw as Record<string, unknown>;
    const when = rule.when as RuleKind;
    return {
      name: rule.name as string,
      when,
      match: { ...((rule.match as Record<string, string> | undefined) ?? {}) },
      severity: (rule.severity as AlertSeverity | undefined) ?? 'warning',
      factor: (rule.factor as number | undefined) ?? 2,
      afterMs: parseDuration(rule.after) ?? (when === 'approval_overdue' ? 3600_000 : 30 * 60_000),
      count: (rule.count as number | undefined) ?? 0,
      perMs: parseDuration(rule.per) ?? 3600_000,
      by: (rule.by as 'service' | 'environment' | undefined) ?? 'service',
    } satisfies AlertRule;
  });
  const receivers: Record<string, ReceiverConfig> = {};
  for (const raw of Array.isArray(section.receivers) ? section.receivers : []) {
    const r = raw as Record<string, Record<string, string> | string>;
    const name = r.name as string;
    const body = (key: string) => r[key] as Record<string, string>;
    if (r.pagerduty)
      receivers[name] = {
        name,
        type: 'pagerduty',
        routingKeyEnv: body('pagerduty').routingKeyEnv ?? '',
        url: body('pagerduty').url ?? PAGERDUTY_EVENTS_URL,
      };
    else if (r.slack) receivers[name] = { name, type: 'slack', urlEnv: body('slack').urlEnv ?? '' };
    else if (r.opsgenie)
      receivers[name] = {
        name,
        type: 'opsgenie',
        apiKeyEnv: body('opsgenie').apiKeyEnv ?? '',
        url: body('opsgenie').url ?? OPSGENIE_API_URL,
      };
    else
      receivers[name] = {
        name,
        type: 'webhook',
        url: body('webhook').url ?? '',
        secretEnv: body('webhook').secretEnv,
      };
  }
  const escalation: Record<string, EscalationPolicy> = {};
  for (const [name, raw] of Object.entries(isRecord(section.escalation) ? section.escalation : {})) {
    const policy = raw as { levels: { after: string; receiver: string }[]; repeat?: number };
    escalation[name] = {
      levels: policy.levels.map((l) => ({ afterMs: parseDuration(l.after) ?? 0, receiver: l.receiver })),
      repeat: policy.repeat ?? 0,
    };
  }
  return {
    rules,
    route: isRecord(section.route) ? parseRoute(section.route, undefined, '0') : undefined,
    receivers,
    escalation,
    suppression: parseSuppression(section.suppression),
  };
}

/** A child route inherits receiver, group_by and the timings of its parent (Alertmanager). */
function parseRoute(raw: Record<string, unknown>, parent: Route | undefined, id: string): Route {
  const own = {
    receiver: (raw.receiver as string | undefined) ?? parent?.receiver ?? '',
    matchers: ((raw.matchers as string[] | undefined) ?? []).map(parseMatcher),
    groupBy: (raw.group_by as string[] | undefined) ?? parent?.groupBy ?? [],
    groupWaitMs: parseDuration(raw.group_wait) ?? parent?.groupWaitMs ?? ROUTE_DEFAULTS.groupWaitMs,
    groupIntervalMs:
      parseDuration(raw.group_interval) ?? parent?.groupIntervalMs ?? ROUTE_DEFAULTS.groupIntervalMs,
    repeatIntervalMs:
      parseDuration(raw.repeat_interval) ?? parent?.repeatIntervalMs ?? ROUTE_DEFAULTS.repeatIntervalMs,
    continue: raw.continue === true,
    id,
  };
  const children = Array.isArray(raw.routes) ? (raw.routes as Record<string, unknown>[]) : [];
  const route: Route = { ...own, routes: [] };
  return { ...own, routes: children.map((child, i) => parseRoute(child, route, `${id}.${i}`)) };
}
