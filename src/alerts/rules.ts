/**
 * The alert rules of DESIGN.md §11, as verdicts over one change: what fires and what
 * resolves. A rule looks only at the change it is given and the few facts it names (the
 * environment's policy, one gate look-up, one indexed count), never at the whole store.
 *
 * Alerts are keyed by fingerprint: rules about a deployment's state that a later deployment
 * settles (failed, rolled back, ungated, outside a window, verification failed) are keyed by
 * rule and scope (service, environment, region), so the next good deployment of that scope
 * resolves them; overdue and approval_overdue are keyed by deployment; frequency rules by
 * rule and the scope they count (`by`).
 */
import type { DeploymentEvent } from '../domain/event.js';
import type { EnvironmentPolicy } from '../policy/index.js';
import { isInsideWindow } from '../policy/windows.js';
import type { AlertRule } from './alerts-config.js';
import { formatDuration } from '../domain/duration.js';
import type { Labels } from './matchers.js';

/** What happened, as the alert rules are told it. */
export type AlertChange =
  /** A deployment's event, committed, with the deployment's status after it. */
  | { readonly kind: 'deployment'; readonly event: DeploymentEvent; readonly status: string }
  /** A recorded gate decision. */
  | {
      readonly kind: 'gate';
      readonly deployment: string;
      readonly service: string;
      readonly environment: string;
      readonly allow: boolean;
    }
  /** An approval given or refused; `approved`: the deployment's approvals are now met. */
  | { readonly kind: 'approval'; readonly deployment: string; readonly approved: boolean }
  /** Post-deployment verification finished (DESIGN.md §11, Verification). */
  | { readonly kind: 'verification'; readonly deployment: string; readonly status: 'failed' | 'passed' };

/** The subject of an alert: a deployment, or a scope a frequency rule counts. */
export interface Subject {
  readonly service?: string | undefined;
  readonly environment: string;
  readonly region?: string | undefined;
  readonly kind?: string | undefined;
  readonly deployment?: string | undefined;
  readonly version?: string | undefined;
}

export interface Firing {
  readonly rule: AlertRule;
  readonly fingerprint: string;
  readonly subject: Subject;
  readonly summary: string;
}

export type Verdict =
  { readonly fire: Firing } | { readonly resolve: string; readonly onlyDeployment?: string };

/** The facts rules may ask for beyond the change itself. */
export interface RuleFacts {
  policyOf(environment: string): EnvironmentPolicy | undefined;
  gateAllowed(deployment: string): Promise<boolean>;
  countBegun(
    scope: { service: string | null; environment: string },
    fromMs: number,
    toMs: number,
  ): Promise<number>;
  countChanges(
    scope: { service: string | null; environment: string },
    fromMs: number,
    toMs: number,
  ): Promise<number>;
}

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  'succeeded',
  'failed',
  'canceled',
  'rolled_back',
]);

/** The labels `match` is compared with, and the alert's labels beside `alertname` and `severity`. */
export function subjectLabels(subject: Subject): Record<string, string> {
  const labels: Record<string, string> = { environment: subject.environment };
  if (subject.service) labels.service = subject.service;
  if (subject.region) labels.region = subject.region;
  if (subject.kind) labels.kind = subject.kind;
  if (subject.deployment) labels.deployment = subject.deployment;
  if (subject.version) labels.version = subject.version;
  return labels;
}

/** The labels of an alert: its subject's, `alertname` (the rule), `rule` (its kind), `severity`. */
export function alertLabels(rule: AlertRule, subject: Subject): Labels {
  return { ...subjectLabels(subject), alertname: rule.name, rule: rule.when, severity: rule.severity };
}

/** True when every `match` label of the rule equals the subject's. */
export function ruleMatches(rule: AlertRule, subject: Subject): boolean {
  const labels = subjectLabels(subject);
  for (const [name, value] of Object.entries(rule.match)) if (labels[name] !== value) return false;
  return true;
}

export function scopeFingerprint(rule: AlertRule, subject: Subject): string {
  return `${rule.name}|${subject.service ?? ''}|${subject.environment}|${subject.region ?? ''}`;
}

export function deploymentFingerprint(rule: AlertRule, deployment: string): string {
  return `${rule.name}|deployment|${deployment}`;
}

/**
 * How many deployments a frequency rule counts in its scope over `[fromMs, toMs]`: changes
 * (succeeded deployments) for `change_velocity`, begun deployments for the others.
 */
export function frequencyCount(
  rule: AlertRule,
  facts: RuleFacts,
  scope: { service: string | null; environment: string },
  fromMs: number,
  toMs: number,
): Promise<number> {
  return rule.when === 'change_velocity'
    ? facts.countChanges(scope, fromMs, toMs)
    : facts.countBegun(scope, fromMs, toMs);
}

/** The scope a frequency rule counts for a subject. */
export function frequencyScope(
  rule: AlertRule,
  subject: Subject,
): { service: string | null; environment: string } {
  return {
    service: rule.by === 'service' ? (subject.service ?? null) : null,
    environment: subject.environment,
  };
}

export function frequencyFingerprint(
  rule: AlertRule,
  scope: { service: string | null; environment: string },
): string {
  return `${rule.name}|${scope.service ?? '*'}|${scope.environment}`;
}

export function subjectOfEvent(event: DeploymentEvent): Subject {
  return {
    service: event.service,
    environment: event.environment,
    region: event.region,
    kind: event.kind,
    deployment: event.deployment,
    version: event.version,
  };
}

const fire = (rule: AlertRule, fingerprint: string, subject: Subject, summary: string): Verdict => ({
  fire: { rule, fingerprint, subject, summary },
});

const who = (s: Subject) =>
  `${s.service ?? 'every service'} ${s.version ? `${s.version} ` : ''}to ${s.environment}${s.region ? ` (${s.region})` : ''}`;

/** The verdicts of every rule on one deployment event. */
export async function judgeDeploymentEvent(
  rules: readonly AlertRule[],
  event: DeploymentEvent,
  status: string,
  facts: RuleFacts,
): Promise<Verdict[]> {
  const subject = subjectOfEvent(event);
  const verdicts: Verdict[] = [];
  const started = event.type === 'deployment.started';
  for (const rule of rules) {
    if (!ruleMatches(rule, subject)) continue;
    const scoped = scopeFingerprint(rule, subject);
    const own = deploymentFingerprint(rule, event.deployment);
    switch (rule.when) {
      case 'deployment_failed':
        if (status === 'failed')
          verdicts.push(
            fire(rule, scoped, subject, `Deployment ${event.deployment} of ${who(subject)} failed`),
          );
        else if (status === 'succeeded') verdicts.push({ resolve: scoped });
        break;
      case 'rolled_back':
        if (status === 'rolled_back')
          verdicts.push(
            fire(rule, scoped, subject, `Deployment ${event.deployment} of ${who(subject)} was rolled back`),
          );
        else if (status === 'succeeded' && event.kind !== 'rollback') verdicts.push({ resolve: scoped });
        break;
      case 'deployment_overdue':
        if (TERMINAL_STATUSES.has(status)) verdicts.push({ resolve: own });
        break;
      case 'approval_overdue':
        if (status !== 'requested') verdicts.push({ resolve: own });
        break;
      case 'ungated_deployment': {
        if (!started || facts.policyOf(event.environment)?.protected !== true) break;
        if (await facts.gateAllowed(event.deployment)) verdicts.push({ resolve: scoped });
        else
          verdicts.push(
            fire(
              rule,
              scoped,
              subject,
              `Deployment ${event.deployment} of ${who(subject)} started without an allowing gate decision`,
            ),
          );
        break;
      }
      case 'outside_window': {
        const windows = facts.policyOf(event.environment)?.windows ?? [];
        if (!started || windows.length === 0) break;
        if (windows.some((w) => isInsideWindow(w, event.timeMs))) verdicts.push({ resolve: scoped });
        else
          verdicts.push(
            fire(
              rule,
              scoped,
              subject,
              `Deployment ${event.deployment} of ${who(subject)} started outside every change window of ${event.environment}`,
            ),
          );
        break;
      }
      case 'frequency_above':
      case 'change_velocity': {
        // A start counts toward frequency_above, a success (a change) toward change_velocity.
        const counted =
          rule.when === 'change_velocity'
            ? status === 'succeeded' && event.type === 'deployment.succeeded'
            : started;
        if (!counted) break;
        const scope = frequencyScope(rule, subject);
        const n = await frequencyCount(rule, facts, scope, event.timeMs - rule.perMs, event.timeMs);
        if (n > rule.count)
          verdicts.push(
            fire(
              rule,
              frequencyFingerprint(rule, scope),
              scopeSubject(scope),
              frequencySummary(rule, scope, n),
            ),
          );
        break;
      }
      case 'verification_failed':
      case 'frequency_below':
        break;
    }
  }
  return verdicts;
}

export function scopeSubject(scope: { service: string | null; environment: string }): Subject {
  return { service: scope.service ?? undefined, environment: scope.environment };
}

export function frequencySummary(
  rule: AlertRule,
  scope: { service: string | null; environment: string },
  n: number,
): string {
  const what = rule.when === 'change_velocity' ? 'changes (succeeded deployments)' : 'deployments';
  const where = `${scope.service ? `${scope.service} in ` : ''}${scope.environment}`;
  const relation = rule.when === 'frequency_below' ? 'fewer than' : 'more than';
  return `${n} ${what} of ${where} in the last ${formatDuration(rule.perMs)}: ${relation} ${rule.count}`;
}

/** The threshold of deployment_overdue: `factor` × p90 of recent durations, else `after`. */
export function overdueThresholdMs(rule: AlertRule, recentDurations: readonly number[]): number {
  if (recentDurations.length < MIN_HISTORY) return rule.afterMs;
  return rule.factor * percentile(recentDurations, 0.9);
}

/** Fewer successful deployments than this: no p90, `after` applies. */
export const MIN_HISTORY = 3;
/** The successful deployments the p90 is taken over. */
export const HISTORY = 20;

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1] ?? 0;
}
