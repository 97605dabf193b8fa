/**
 * Alerts (DESIGN.md §11): the rules judge each change handed to {@link Alerts.evaluate} (the
 * event writer's commits, gate decisions, approvals, verification results); a verdict that
 * fires or resolves an alert changes its record, appends a ledger entry and places it in its
 * notification groups, in one transaction. Evaluation runs after the commit, off the request's
 * path: a hung receiver or a slow rule never delays ingest. The periodic work (time-based rules,
 * group flushes, escalations, deliveries) is src/alerts/dispatcher.ts, run by the leader.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { StoredEvent } from '../domain/write-plan.js';
import { ShiplogError } from '../errors.js';
import { canonicalJson } from '../ledger/jcs.js';
import type { Policy } from '../policy/index.js';
import type { Store, WriteTransaction } from '../store/database.js';
import type { LedgerAppender } from '../store/event-writer.js';
import type { AlertsTable } from '../store/schema.js';
import type { Page } from '../store/cursor.js';
import { DEFAULT_ALERTS, type AlertsConfig } from './alerts-config.js';
import { toAlertView, type AlertView } from './alert-view.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher.js';
import { matchesAll } from './matchers.js';
import type { ReceiverSecrets } from './receivers.js';
import {
  alertLabels,
  frequencyScope,
  judgeDeploymentEvent,
  ruleMatches,
  scopeFingerprint,
  subjectOfEvent,
  type AlertChange,
  type Firing,
  type RuleFacts,
  type Subject,
  type Verdict,
} from './rules.js';

export type { AlertChange };

export interface AlertsDeps {
  readonly store: Store;
  readonly ledger?: LedgerAppender | undefined;
  readonly config?: AlertsConfig | undefined;
  /** `environments:` of shiplog.yaml: protected environments and change windows. */
  readonly policy?: Policy | undefined;
  /** Per receiver: the secrets read from the variables its config names. */
  readonly secrets?: Readonly<Record<string, ReceiverSecrets>> | undefined;
  readonly logger?: FastifyBaseLogger | undefined;
  readonly now?: (() => number) | undefined;
  readonly dispatcher?: DispatcherOptions | undefined;
}

export interface Alerts {
  /** Judges changes; never throws (a failure is logged), resolves when their alerts are recorded. */
  evaluate(change: AlertChange | readonly AlertChange[]): Promise<void>;
  /** The event writer's hook: judges a committed group in the background. */
  onCommit(stored: readonly StoredEvent[]): void;
  /** Time-based rules, then notification work, as of `nowMs`. */
  tick(nowMs?: number): Promise<void>;
  /** Time-based rules only (deployment_overdue, approval_overdue, frequency rules). */
  checkTimedRules(nowMs?: number): Promise<void>;
  /** Group flushes, escalations, held alerts and deliveries due at `nowMs`. */
  dispatch(nowMs?: number): Promise<void>;
  list(f: {
    status?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<AlertView>>;
  get(id: string): Promise<AlertView | undefined>;
  /** Acknowledges a firing alert: its escalation stops. Idempotent; a resolved alert is a 409. */
  ack(id: string, by: string): Promise<AlertView>;
  /** Resolves when background evaluations and deliveries in flight are done (tests, shutdown). */
  idle(): Promise<void>;
  readonly config: AlertsConfig;
}

export function createAlerts(deps: AlertsDeps): Alerts {
  const config = deps.config ?? DEFAULT_ALERTS;
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const policy = deps.policy ?? { environments: {} };
  const log = deps.logger;
  let pending: Promise<void> = Promise.resolve();

  const facts: RuleFacts = {
    policyOf: (environment) =>
      Object.hasOwn(policy.environments, environment) ? policy.environments[environment] : undefined,
    gateAllowed: (deployment) => store.alerts.hasAllowingDecision(deployment),
    countBegun: (scope, from, to) => store.alerts.countBegun(scope, from, to),
    countChanges: (scope, from, to) => store.alerts.countChanges(scope, from, to),
  };

  /**
   * The frequency counts a group of deployment changes needs, read in one query per rule (not
   * one per event), over the span from the earliest event's window to the latest event: the
   * events of one commit count each other whatever their order within it.
   */
  async function prefetchCounts(changes: readonly AlertChange[]): Promise<RuleFacts> {
    const known = new Map<string, number>();
    for (const rule of config.rules) {
      if (rule.when !== 'frequency_above' && rule.when !== 'change_velocity') continue;
      const wanted = rule.when === 'frequency_above' ? 'deployment.started' : 'deployment.succeeded';
      const scopes = new Map<string, { service: string | null; environment: string }>();
      let from = Infinity;
      let to = -Infinity;
      for (const c of changes) {
        if (c.kind !== 'deployment' || c.event.type !== wanted) continue;
        const subject = subjectOfEvent(c.event);
        if (!ruleMatches(rule, subject)) continue;
        const scope = frequencyScope(rule, subject);
        scopes.set(`${scope.service ?? '*'}|${scope.environment}`, scope);
        from = Math.min(from, c.event.timeMs - rule.perMs);
        to = Math.max(to, c.event.timeMs);
      }
      if (scopes.size === 0) continue;
      const counts = await store.alerts.countMany(
        [...scopes.values()],
        from,
        to,
        rule.when === 'change_velocity',
      );
      for (const key of scopes.keys()) known.set(`${rule.when}|${rule.perMs}|${key}`, counts.get(key) ?? 0);
    }
    if (known.size === 0) return facts;
    const lookup =
      (kind: string, fallback: RuleFacts['countBegun']): RuleFacts['countBegun'] =>
      async (scope, fromMs, toMs) =>
        known.get(`${kind}|${toMs - fromMs}|${scope.service ?? '*'}|${scope.environment}`) ??
        fallback(scope, fromMs, toMs);
    return {
      ...facts,
      countBegun: lookup('frequency_above', facts.countBegun),
      countChanges: lookup('change_velocity', facts.countChanges),
    };
  }

  async function judge(change: AlertChange, batch: RuleFacts): Promise<Verdict[]> {
    switch (change.kind) {
      case 'deployment':
        return judgeDeploymentEvent(config.rules, change.event, change.status, batch);
      case 'gate': {
        const rules = config.rules.filter((r) => r.when === 'ungated_deployment');
        if (!change.allow || rules.length === 0) return [];
        // A late allowing decision resolves the ungated alert that names this deployment.
        const row = await store.deployments.find(change.deployment);
        const subject: Subject = {
          service: change.service,
          environment: change.environment,
          region: row?.region || undefined,
        };
        return rules.map((rule) => ({
          resolve: scopeFingerprint(rule, subject),
          onlyDeployment: change.deployment,
        }));
      }
      case 'approval':
        if (!change.approved) return [];
        return config.rules
          .filter((r) => r.when === 'approval_overdue')
          .map((r) => ({ resolve: `${r.name}|deployment|${change.deployment}` }));
      case 'verification': {
        const rules = config.rules.filter((r) => r.when === 'verification_failed');
        if (rules.length === 0) return [];
        const row = await store.deployments.find(change.deployment);
        if (!row) return [];
        const subject: Subject = {
          service: row.service,
          environment: row.environment,
          region: row.region || undefined,
          kind: row.kind,
          deployment: row.deployment,
          version: row.version ?? undefined,
        };
        return rules
          .filter((r) => ruleMatches(r, subject))
          .map((rule): Verdict => {
            const fingerprint = scopeFingerprint(rule, subject);
            return change.status === 'failed'
              ? {
                  fire: {
                    rule,
                    fingerprint,
                    subject,
                    summary: `Verification of deployment ${row.deployment} (${row.service} ${row.version ?? ''} to ${row.environment}) failed`,
                  },
                }
              : { resolve: fingerprint };
          });
      }
    }
  }

  /** Records what the verdicts change; reads first, and writes only when something changes. */
  async function apply(verdicts: readonly Verdict[], nowMs: number): Promise<void> {
    if (verdicts.length === 0) return;
    const fingerprints = [...new Set(verdicts.map((v) => ('fire' in v ? v.fire.fingerprint : v.resolve)))];
    const active = await store.alerts.active(fingerprints);
    // In order: a failure and the success that settles it, in one commit, fire and resolve.
    const open = new Map<string, string | null>([...active].map(([fp, a]) => [fp, a.deployment]));
    const changes = verdicts.filter((v) => {
      if ('fire' in v) {
        if (open.has(v.fire.fingerprint)) return false;
        open.set(v.fire.fingerprint, v.fire.subject.deployment ?? null);
        return true;
      }
      if (!open.has(v.resolve)) return false;
      if (v.onlyDeployment !== undefined && open.get(v.resolve) !== v.onlyDeployment) return false;
      open.delete(v.resolve);
      return true;
    });
    if (changes.length === 0) return;
    const holds = new Map<string, number | null>();
    for (const v of changes) if ('fire' in v) holds.set(v.fire.fingerprint, await holdUntil(v.fire, nowMs));
    await store.writeTransaction(async function recordAlerts(trx) {
      const current = await store.alerts.active(fingerprints, trx);
      for (const v of changes) {
        if ('fire' in v) {
          if (current.has(v.fire.fingerprint)) continue;
          current.set(
            v.fire.fingerprint,
            await fire(v.fire, holds.get(v.fire.fingerprint) ?? null, nowMs, trx),
          );
        } else {
          const alert = current.get(v.resolve);
          if (!alert || (v.onlyDeployment !== undefined && alert.deployment !== v.onlyDeployment)) continue;
          await resolve(alert, nowMs, trx);
          current.delete(v.resolve);
        }
      }
    });
  }

  /**
   * Until when a new alert's notifications wait: while its service deploys to its environment
   * and `grace` after (suppression), for alerts the suppression matchers select (default: not
   * critical). Null: notify now.
   */
  async function holdUntil(firing: Firing, nowMs: number): Promise<number | null> {
    const am = config.suppression;
    const { service, environment } = firing.subject;
    if (am === undefined || service === undefined) return null;
    if (!matchesAll(am.matchers, alertLabels(firing.rule, firing.subject))) return null;
    return deployingUntil(service, environment, nowMs, am.graceMs);
  }

  async function deployingUntil(service: string, environment: string, nowMs: number, graceMs: number) {
    const rows = await store.alerts.deployingSince(service, environment, nowMs - graceMs);
    if (rows.length === 0) return null;
    if (rows.some((r) => r.status === 'in_progress')) return nowMs + graceMs;
    return Math.max(...rows.map((r) => (r.finishedMs ?? nowMs) + graceMs));
  }

  async function record(
    alert: AlertsTable,
    change: string,
    trx: WriteTransaction,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    if (!deps.ledger) return;
    await deps.ledger.append(
      trx,
      [canonicalJson({ recordType: 'alert', change, ...extra, ...toAlertView(alert) })],
      'alert',
    );
  }

  async function fire(
    firing: Firing,
    held: number | null,
    nowMs: number,
    trx: WriteTransaction,
  ): Promise<AlertsTable> {
    const labels = alertLabels(firing.rule, firing.subject);
    const row: AlertsTable = {
      id: `alt_${randomBytes(9).toString('base64url')}`,
      fingerprint: firing.fingerprint,
      rule: firing.rule.name,
      kind: firing.rule.when,
      severity: firing.rule.severity,
      status: 'firing',
      summary: firing.summary,
      labels: JSON.stringify(labels),
      deployment: firing.subject.deployment ?? null,
      service: firing.subject.service ?? null,
      environment: firing.subject.environment,
      starts_ms: nowMs,
      acked_ms: null,
      acked_by: null,
      resolved_ms: null,
      held_until_ms: held,
      updated_ms: nowMs,
    };
    await store.alerts.insert(row, trx);
    await record(row, 'fired', trx);
    log?.info({ alert: row.id, rule: row.rule, severity: row.severity, held: held !== null }, 'alert firing');
    if (held === null) await dispatcher.route(row, nowMs, trx);
    return row;
  }

  async function resolve(alert: AlertsTable, nowMs: number, trx: WriteTransaction): Promise<void> {
    const row: AlertsTable = { ...alert, status: 'resolved', resolved_ms: nowMs, updated_ms: nowMs };
    await store.alerts.update(alert.id, { status: 'resolved', resolved_ms: nowMs, updated_ms: nowMs }, trx);
    await record(row, 'resolved', trx);
    log?.info({ alert: alert.id, rule: alert.rule }, 'alert resolved');
    await dispatcher.resolved(row, nowMs, trx);
  }

  const dispatcher: Dispatcher = createDispatcher({
    store,
    ledger: deps.ledger,
    config,
    secrets: deps.secrets ?? {},
    logger: log,
    now,
    options: deps.dispatcher,
    facts,
    apply,
    deployingUntil,
  });

  function evaluate(change: AlertChange | readonly AlertChange[]): Promise<void> {
    const changes = Array.isArray(change) ? (change as readonly AlertChange[]) : [change as AlertChange];
    if (config.rules.length === 0 || changes.length === 0) return Promise.resolve();
    // Serialized: two changes of one deployment are judged in commit order.
    const run = pending.then(async function evaluateChanges() {
      try {
        const verdicts: Verdict[] = [];
        const batch = await prefetchCounts(changes);
        for (const c of changes) verdicts.push(...(await judge(c, batch)));
        await apply(verdicts, now());
      } catch (error) {
        log?.error({ err: error }, 'alert evaluation failed');
      }
    });
    pending = run;
    return run;
  }

  return {
    config,
    evaluate,
    onCommit(stored) {
      if (config.rules.length === 0) return;
      void evaluate(stored.map((s) => ({ kind: 'deployment', event: s.event, status: s.status })));
    },
    async tick(nowMs = now()) {
      await dispatcher.checkTimedRules(nowMs);
      await dispatcher.dispatch(nowMs);
    },
    checkTimedRules: (nowMs = now()) => dispatcher.checkTimedRules(nowMs),
    dispatch: (nowMs = now()) => dispatcher.dispatch(nowMs),
    async list(f) {
      const page = await store.alerts.list(f);
      return { ...page, items: page.items.map(toAlertView) };
    },
    async get(id) {
      const row = await store.alerts.get(id);
      return row ? toAlertView(row) : undefined;
    },
    async ack(id, by) {
      const nowMs = now();
      const row = await store.writeTransaction(async function ackAlert(trx) {
        const alert = await store.alerts.get(id, trx);
        if (!alert) throw new ShiplogError('SHIPLOG_NOT_FOUND', `No alert "${id}"`);
        if (alert.status === 'acknowledged') return alert;
        if (alert.status === 'resolved')
          throw new ShiplogError('SHIPLOG_CONFLICT', `Alert "${id}" is resolved already`);
        const acked: AlertsTable = {
          ...alert,
          status: 'acknowledged',
          acked_ms: nowMs,
          acked_by: by,
          updated_ms: nowMs,
        };
        await store.alerts.update(
          id,
          { status: 'acknowledged', acked_ms: nowMs, acked_by: by, updated_ms: nowMs },
          trx,
        );
        await record(acked, 'acknowledged', trx, { by });
        await dispatcher.acknowledged(acked, nowMs, trx);
        return acked;
      });
      return toAlertView(row);
    },
    async idle() {
      await pending;
      await dispatcher.idle();
    },
  };
}
