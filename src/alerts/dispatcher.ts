/**
 * The periodic half of alerts, run by the leader (one replica): time-based rules, held alerts,
 * Alertmanager-style group flushes (group_wait, group_interval, repeat_interval), escalation
 * levels and the notification outbox. Every timer is a `next_ms` column in the database, so a
 * restart, or a new leader, resumes where the old one stood.
 *
 * Deliveries run per receiver, concurrently, each receiver in order: a receiver that hangs
 * (every call has a deadline) or answers 500 delays only itself. A failed delivery is retried
 * with exponential backoff; after `maxAttempts`, or when refused with a 4xx, it becomes a dead
 * letter an admin sees at `GET /v1/webhooks/outbound/dead-letters` (sink `alerts:<receiver>`).
 * Every attempt is a ledger entry (`alert_notification`).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { canonicalJson } from '../ledger/jcs.js';
import { OutboundError, callOut } from '../outbound/http-client.js';
import type { Store, WriteTransaction } from '../store/database.js';
import type { LedgerAppender } from '../store/event-writer.js';
import type { AlertDeliveriesTable, AlertEscalationsTable, AlertsTable } from '../store/schema.js';
import type { AlertsConfig, EscalationPolicy, ReceiverConfig } from './alerts-config.js';
import { toAlertView } from './alert-view.js';
import {
  opsgenieRequest,
  pagerdutyRequest,
  perAlert,
  slackRequest,
  webhookRequest,
  type AlertAction,
  type PreparedRequest,
  type ReceiverSecrets,
} from './receivers.js';
import { groupKey, groupLabels, matchRoutes, routeById } from './routing.js';
import {
  HISTORY,
  deploymentFingerprint,
  frequencyCount,
  frequencyFingerprint,
  frequencyScope,
  frequencySummary,
  overdueThresholdMs,
  ruleMatches,
  scopeSubject,
  type RuleFacts,
  type Subject,
  type Verdict,
} from './rules.js';
import { formatDuration } from '../domain/duration.js';

export interface DispatcherOptions {
  /** Attempts per delivery before it is a dead letter. Default 5. */
  readonly maxAttempts?: number;
  /** Delay before attempt n+1 (n ≥ 1). Default 1 s × 2^(n-1), at most 5 min. */
  readonly backoffMs?: (attempt: number) => number;
  /** Deadline of one call to a receiver. Default 10 s. */
  readonly timeoutMs?: number;
  /** Least time between two messages to one Slack webhook. Default 1 s. */
  readonly slackIntervalMs?: number;
}

/** frequency_below watches scopes that deployed within this many periods. */
export const FREQUENCY_LOOKBACK_PERIODS = 4;

export interface Dispatcher {
  route(alert: AlertsTable, nowMs: number, trx: WriteTransaction): Promise<void>;
  resolved(alert: AlertsTable, nowMs: number, trx: WriteTransaction): Promise<void>;
  acknowledged(alert: AlertsTable, nowMs: number, trx: WriteTransaction): Promise<void>;
  checkTimedRules(nowMs: number): Promise<void>;
  dispatch(nowMs: number): Promise<void>;
  idle(): Promise<void>;
}

interface DispatcherDeps {
  readonly store: Store;
  readonly ledger?: LedgerAppender | undefined;
  readonly config: AlertsConfig;
  readonly secrets: Readonly<Record<string, ReceiverSecrets>>;
  readonly logger?: FastifyBaseLogger | undefined;
  readonly now: () => number;
  readonly options?: DispatcherOptions | undefined;
  readonly facts: RuleFacts;
  readonly apply: (verdicts: readonly Verdict[], nowMs: number) => Promise<void>;
  readonly deployingUntil: (
    service: string,
    environment: string,
    nowMs: number,
    graceMs: number,
  ) => Promise<number | null>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newId = (prefix: string) => `${prefix}_${randomBytes(9).toString('base64url')}`;

/** How long one pass over the levels lasts: the last level waits as long as the gap before it (at least 1 min). */
export function cycleLengthMs(policy: EscalationPolicy): number {
  const levels = policy.levels;
  const last = levels[levels.length - 1]?.afterMs ?? 0;
  const previous = levels.length > 1 ? (levels[levels.length - 2]?.afterMs ?? 0) : 0;
  return Math.max(last + (last - previous), 60_000);
}

/** The escalation after level `row.level` was notified: the next level, the next pass, or done. */
export function nextEscalationStep(
  policy: EscalationPolicy,
  row: Pick<AlertEscalationsTable, 'cycle_ms' | 'cycle' | 'level'>,
): Pick<AlertEscalationsTable, 'cycle_ms' | 'cycle' | 'level' | 'next_ms'> {
  const next = policy.levels[row.level + 1];
  if (next)
    return {
      cycle_ms: row.cycle_ms,
      cycle: row.cycle,
      level: row.level + 1,
      next_ms: row.cycle_ms + next.afterMs,
    };
  if (row.cycle < policy.repeat) {
    const cycleMs = row.cycle_ms + cycleLengthMs(policy);
    return {
      cycle_ms: cycleMs,
      cycle: row.cycle + 1,
      level: 0,
      next_ms: cycleMs + (policy.levels[0]?.afterMs ?? 0),
    };
  }
  return { cycle_ms: row.cycle_ms, cycle: row.cycle, level: row.level, next_ms: null };
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { store, config, logger: log } = deps;
  const options = deps.options ?? {};
  const maxAttempts = options.maxAttempts ?? 5;
  const backoff = options.backoffMs ?? ((n: number) => Math.min(1000 * 2 ** (n - 1), 300_000));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const slackIntervalMs = options.slackIntervalMs ?? 1000;
  const busy = new Set<string>();
  const inflight = new Set<Promise<void>>();
  /** Per Slack webhook URL: the earliest instant (real clock) the next message may go (the pace). */
  const slackNext = new Map<string, number>();
  /** Per Slack webhook URL: told to wait by a 429 until then (dispatch clock). */
  const slackBlocked = new Map<string, number>();
  const durations = new Map<string, { at: number; values: number[] }>();

  async function ledger(trx: WriteTransaction, record: Record<string, unknown> & { recordType: string }) {
    if (deps.ledger) await deps.ledger.append(trx, [canonicalJson(record)], record.recordType);
  }

  function deliveryRows(
    receiverName: string,
    alerts: readonly AlertsTable[],
    action: AlertAction,
    group: string | null,
    nowMs: number,
  ): AlertDeliveriesTable[] {
    const receiver = config.receivers[receiverName];
    if (!receiver || alerts.length === 0) return [];
    const base = {
      receiver: receiverName,
      group_key: group,
      status: 'pending',
      attempts: 0,
      next_ms: nowMs,
      last_error: null,
      created_ms: nowMs,
      updated_ms: nowMs,
    };
    if (perAlert(receiver))
      return alerts.map((a) => ({ ...base, id: newId('dlv'), action, alert_ids: JSON.stringify([a.id]) }));
    return [
      { ...base, id: newId('dlv'), action: 'notify', alert_ids: JSON.stringify(alerts.map((a) => a.id)) },
    ];
  }

  async function route(alert: AlertsTable, nowMs: number, trx: WriteTransaction): Promise<void> {
    if (!config.route) return;
    const labels = JSON.parse(alert.labels) as Record<string, string>;
    for (const r of matchRoutes(config.route, labels)) {
      const group = groupLabels(r, labels);
      const key = groupKey(r, group);
      const existing = (await store.alerts.groups([key], trx)).get(key);
      let next: number;
      if (!existing) next = nowMs + r.groupWaitMs;
      else if (existing.last_sent_ms === null) next = existing.next_ms ?? nowMs + r.groupWaitMs;
      else
        next = Math.min(
          existing.next_ms ?? Infinity,
          Math.max(nowMs, existing.last_sent_ms + r.groupIntervalMs),
        );
      await store.alerts.putGroup(
        {
          key,
          route_id: r.id,
          receiver: r.receiver,
          labels: JSON.stringify(group),
          next_ms: next,
          last_sent_ms: existing?.last_sent_ms ?? null,
          created_ms: existing?.created_ms ?? nowMs,
        },
        trx,
      );
      await store.alerts.putMember({ group_key: key, alert_id: alert.id, notified: '' }, trx);
    }
  }

  async function stopEscalations(
    alert: AlertsTable,
    nowMs: number,
    trx: WriteTransaction,
    tellResolved: boolean,
  ) {
    for (const e of await store.alerts.escalations(alert.id, trx)) {
      if (tellResolved) {
        const reached = JSON.parse(e.reached) as string[];
        const rows = reached.flatMap((name) => deliveryRows(name, [alert], 'resolve', null, nowMs));
        await store.alerts.enqueue(rows, trx);
      }
      if (e.next_ms !== null || tellResolved)
        await store.alerts.putEscalation({ ...e, next_ms: null, stopped_ms: e.stopped_ms ?? nowMs }, trx);
    }
  }

  async function resolved(alert: AlertsTable, nowMs: number, trx: WriteTransaction): Promise<void> {
    const keys = await store.alerts.groupsOfAlert(alert.id, trx);
    const groups = await store.alerts.groups(keys, trx);
    for (const g of groups.values()) {
      if (g.last_sent_ms === null) continue;
      const r = config.route ? routeById(config.route, g.route_id) : undefined;
      const next = Math.max(nowMs, g.last_sent_ms + (r?.groupIntervalMs ?? 0));
      await store.alerts.putGroup({ ...g, next_ms: Math.min(g.next_ms ?? Infinity, next) }, trx);
    }
    await stopEscalations(alert, nowMs, trx, true);
  }

  /**
   * Stops the escalation, and tells every PagerDuty and Opsgenie receiver that was paged for the
   * alert (by an escalation or by a route) that someone has taken it, under the same key, so the
   * page stops ringing there too. Chat and webhook receivers hear of it with the group's next message.
   */
  async function acknowledged(alert: AlertsTable, nowMs: number, trx: WriteTransaction): Promise<void> {
    const paged = new Set<string>();
    for (const e of await store.alerts.escalations(alert.id, trx))
      for (const name of JSON.parse(e.reached) as string[]) paged.add(name);
    const groups = await store.alerts.groups(await store.alerts.groupsOfAlert(alert.id, trx), trx);
    for (const g of groups.values()) {
      if (config.escalation[g.receiver]) continue; // its escalation's levels were paged instead
      const members = await store.alerts.members(g.key, trx);
      if (members.some((m) => m.alert_id === alert.id && m.notified === 'firing')) paged.add(g.receiver);
    }
    const rows = [...paged]
      .filter((name) => config.receivers[name] && perAlert(config.receivers[name]))
      .flatMap((name) => deliveryRows(name, [alert], 'acknowledge', null, nowMs));
    await store.alerts.enqueue(rows, trx);
    await stopEscalations(alert, nowMs, trx, false);
  }

  async function recentDurations(service: string, environment: string, nowMs: number): Promise<number[]> {
    const key = `${service}\u0000${environment}`;
    const cached = durations.get(key);
    if (cached && nowMs - cached.at < 60_000) return cached.values;
    const values = await store.alerts.recentDurations(service, environment, HISTORY);
    durations.set(key, { at: nowMs, values });
    return values;
  }

  async function checkTimedRules(nowMs: number): Promise<void> {
    const verdicts: Verdict[] = [];
    const rules = config.rules;
    const overdue = rules.filter((r) => r.when === 'deployment_overdue');
    const approval = rules.filter((r) => r.when === 'approval_overdue');
    if (overdue.length > 0 || approval.length > 0) {
      const pending = await store.alerts.pendingDeployments();
      const stillPending = new Set<string>();
      for (const d of pending) {
        const subject: Subject = {
          service: d.service,
          environment: d.environment,
          region: d.region || undefined,
          kind: d.kind,
          deployment: d.deployment,
          version: d.version ?? undefined,
        };
        if (d.status === 'in_progress' && d.startedMs !== null) {
          for (const rule of overdue) {
            if (!ruleMatches(rule, subject)) continue;
            stillPending.add(deploymentFingerprint(rule, d.deployment));
            const threshold = overdueThresholdMs(
              rule,
              await recentDurations(d.service, d.environment, nowMs),
            );
            if (nowMs - d.startedMs > threshold)
              verdicts.push({
                fire: {
                  rule,
                  fingerprint: deploymentFingerprint(rule, d.deployment),
                  subject,
                  summary: `Deployment ${d.deployment} of ${d.service} to ${d.environment} has run ${formatDuration(nowMs - d.startedMs)}, over its ${formatDuration(Math.round(threshold))}`,
                },
              });
          }
        }
        if (d.status === 'requested' && d.requestedMs !== null) {
          for (const rule of approval) {
            if (!ruleMatches(rule, subject)) continue;
            stillPending.add(deploymentFingerprint(rule, d.deployment));
            if (nowMs - d.requestedMs > rule.afterMs)
              verdicts.push({
                fire: {
                  rule,
                  fingerprint: deploymentFingerprint(rule, d.deployment),
                  subject,
                  summary: `Deployment ${d.deployment} of ${d.service} to ${d.environment} has waited ${formatDuration(nowMs - d.requestedMs)} for approval`,
                },
              });
          }
        }
      }
      // Missed changes (another replica's commit): an open alert whose deployment moved on resolves.
      for (const alert of await store.alerts.openOfKinds(['deployment_overdue', 'approval_overdue'])) {
        if (!stillPending.has(alert.fingerprint)) verdicts.push({ resolve: alert.fingerprint });
      }
    }
    for (const rule of rules.filter((r) => r.when === 'frequency_below')) {
      const counts = await store.alerts.scopeCounts(
        rule.by,
        nowMs - FREQUENCY_LOOKBACK_PERIODS * rule.perMs,
        nowMs - rule.perMs,
      );
      for (const c of counts) {
        const scope = { service: c.service, environment: c.environment };
        if (!ruleMatches(rule, scopeSubject(scope))) continue;
        const fingerprint = frequencyFingerprint(rule, scope);
        verdicts.push(
          c.count < rule.count
            ? {
                fire: {
                  rule,
                  fingerprint,
                  subject: scopeSubject(scope),
                  summary: frequencySummary(rule, scope, c.count),
                },
              }
            : { resolve: fingerprint },
        );
      }
    }
    const above = rules.filter((r) => r.when === 'frequency_above' || r.when === 'change_velocity');
    if (above.length > 0) {
      for (const alert of await store.alerts.openOfKinds(['frequency_above', 'change_velocity'])) {
        const rule = above.find((r) => r.name === alert.rule);
        if (!rule || alert.environment === null) {
          verdicts.push({ resolve: alert.fingerprint });
          continue;
        }
        const scope = frequencyScope(rule, {
          service: alert.service ?? undefined,
          environment: alert.environment,
        });
        if ((await frequencyCount(rule, deps.facts, scope, nowMs - rule.perMs, nowMs)) <= rule.count)
          verdicts.push({ resolve: alert.fingerprint });
      }
    }
    await deps.apply(verdicts, nowMs);
  }

  async function releaseHeld(nowMs: number): Promise<void> {
    const graceMs = config.suppression?.graceMs ?? 0;
    for (const alert of await store.alerts.heldUntil(nowMs)) {
      const until =
        alert.status === 'resolved' || alert.service === null || alert.environment === null
          ? null
          : await deps.deployingUntil(alert.service, alert.environment, nowMs, graceMs);
      await store.writeTransaction(async function releaseAlert(trx) {
        if (until !== null && until > nowMs) {
          await store.alerts.update(alert.id, { held_until_ms: until }, trx);
          return;
        }
        await store.alerts.update(alert.id, { held_until_ms: null }, trx);
        // A held alert that resolved meanwhile is never notified.
        if (alert.status !== 'resolved') await route(alert, nowMs, trx);
      });
    }
  }

  async function flushGroups(nowMs: number): Promise<void> {
    for (const g of await store.alerts.dueGroups(nowMs, 100)) {
      const r = config.route ? routeById(config.route, g.route_id) : undefined;
      await store.writeTransaction(async function flushGroup(trx) {
        const members = await store.alerts.members(g.key, trx);
        if (!r || r.receiver !== g.receiver) {
          // The configuration changed: the route is gone.
          await store.alerts.deleteMembers(
            g.key,
            members.map((m) => m.alert_id),
            trx,
          );
          await store.alerts.deleteGroup(g.key, trx);
          return;
        }
        const alerts = new Map(
          (
            await store.alerts.getMany(
              members.map((m) => m.alert_id),
              trx,
            )
          ).map((a) => [a.id, a]),
        );
        const fresh: AlertsTable[] = [];
        const resolvedNow: AlertsTable[] = [];
        const drop: string[] = [];
        const open: AlertsTable[] = [];
        for (const m of members) {
          const a = alerts.get(m.alert_id);
          if (!a) drop.push(m.alert_id);
          else if (a.status === 'resolved') {
            if (m.notified === 'firing') resolvedNow.push(a);
            else drop.push(a.id);
          } else {
            open.push(a);
            if (m.notified !== 'firing') fresh.push(a);
          }
        }
        const repeat =
          fresh.length === 0 &&
          resolvedNow.length === 0 &&
          g.last_sent_ms !== null &&
          nowMs - g.last_sent_ms >= r.repeatIntervalMs
            ? open.filter((a) => a.status === 'firing')
            : [];
        const policy = config.escalation[g.receiver];
        const sent = fresh.length + resolvedNow.length + repeat.length > 0;
        if (policy) {
          for (const a of fresh) {
            const known = await store.alerts.escalations(a.id, trx);
            if (known.some((e) => e.policy === g.receiver) || a.status !== 'firing') continue;
            await store.alerts.putEscalation(
              {
                alert_id: a.id,
                policy: g.receiver,
                cycle_ms: nowMs,
                cycle: 0,
                level: 0,
                next_ms: nowMs + (policy.levels[0]?.afterMs ?? 0),
                reached: '[]',
                stopped_ms: null,
              },
              trx,
            );
          }
        } else if (sent) {
          const receiver = config.receivers[g.receiver];
          const rows =
            receiver && perAlert(receiver)
              ? [
                  ...deliveryRows(g.receiver, [...fresh, ...repeat], 'trigger', g.key, nowMs),
                  ...deliveryRows(g.receiver, resolvedNow, 'resolve', g.key, nowMs),
                ]
              : deliveryRows(g.receiver, [...fresh, ...repeat, ...resolvedNow], 'trigger', g.key, nowMs);
          await store.alerts.enqueue(rows, trx);
        }
        for (const a of fresh)
          await store.alerts.putMember({ group_key: g.key, alert_id: a.id, notified: 'firing' }, trx);
        await store.alerts.deleteMembers(g.key, [...drop, ...resolvedNow.map((a) => a.id)], trx);
        if (open.length === 0) {
          await store.alerts.deleteGroup(g.key, trx);
          return;
        }
        const lastSent = sent ? nowMs : g.last_sent_ms;
        const repeatable = open.some((a) => a.status === 'firing') && !policy;
        await store.alerts.putGroup(
          {
            ...g,
            last_sent_ms: lastSent,
            next_ms: repeatable ? (lastSent ?? nowMs) + r.repeatIntervalMs : null,
          },
          trx,
        );
      });
    }
  }

  async function escalate(nowMs: number): Promise<void> {
    for (const e of await store.alerts.dueEscalations(nowMs, 100)) {
      await store.writeTransaction(async function escalateAlert(trx) {
        const alert = await store.alerts.get(e.alert_id, trx);
        const policy = config.escalation[e.policy];
        const level = policy?.levels[e.level];
        if (!alert || alert.status !== 'firing' || !policy || !level) {
          await store.alerts.putEscalation({ ...e, next_ms: null, stopped_ms: nowMs }, trx);
          return;
        }
        await store.alerts.enqueue(deliveryRows(level.receiver, [alert], 'trigger', null, nowMs), trx);
        const reached = new Set(JSON.parse(e.reached) as string[]);
        reached.add(level.receiver);
        const step = nextEscalationStep(policy, e);
        await store.alerts.putEscalation({ ...e, ...step, reached: JSON.stringify([...reached]) }, trx);
        await ledger(trx, {
          recordType: 'alert',
          change: 'escalated',
          policy: e.policy,
          cycle: e.cycle,
          level: e.level,
          receiver: level.receiver,
          ...toAlertView(alert),
        });
        log?.info(
          { alert: alert.id, policy: e.policy, level: e.level, receiver: level.receiver },
          'alert escalated',
        );
      });
    }
  }

  function prepare(
    receiver: ReceiverConfig,
    row: AlertDeliveriesTable,
    alerts: readonly AlertsTable[],
    groupLabelsJson: Record<string, string>,
  ): PreparedRequest {
    const secrets = deps.secrets[receiver.name] ?? {};
    const messages = alerts.map(toAlertView);
    const action: AlertAction =
      row.action === 'resolve' || row.action === 'acknowledge' ? row.action : 'trigger';
    const first = messages[0];
    switch (receiver.type) {
      case 'pagerduty':
        if (!first || secrets.routingKey === undefined)
          throw new Error(`no routing key in ${receiver.routingKeyEnv}`);
        return pagerdutyRequest(receiver.url, secrets.routingKey, first, action);
      case 'opsgenie':
        if (!first || secrets.apiKey === undefined) throw new Error(`no API key in ${receiver.apiKeyEnv}`);
        return opsgenieRequest(receiver.url, secrets.apiKey, first, action);
      case 'slack':
        if (secrets.url === undefined) throw new Error(`no webhook URL in ${receiver.urlEnv}`);
        return slackRequest(secrets.url, messages);
      case 'webhook':
        return webhookRequest(
          receiver.url,
          secrets.secret,
          receiver.name,
          groupLabelsJson,
          messages,
          deps.now(),
        );
    }
  }

  /** The request with every secret of the receiver replaced by its variable's name. */
  function redact(
    receiver: ReceiverConfig,
    request: PreparedRequest,
  ): { headers: Record<string, string>; body: string } {
    const secrets = deps.secrets[receiver.name] ?? {};
    let body = request.body;
    for (const value of [secrets.routingKey, secrets.apiKey, secrets.url, secrets.secret]) {
      if (value) body = body.replaceAll(value, '<redacted>');
    }
    const headers = { ...request.headers };
    delete headers.authorization;
    delete headers['x-shiplog-signature'];
    return { headers, body };
  }

  async function attempt(row: AlertDeliveriesTable, clockMs: number): Promise<void> {
    const receiver = config.receivers[row.receiver];
    const ids = JSON.parse(row.alert_ids) as string[];
    const alerts = await store.alerts.getMany(ids);
    const attemptNo = row.attempts + 1;
    let outcome: 'delivered' | 'retry' | 'dead';
    let error: string | null = null;
    let status: number | null = null;
    let waitMs: number | undefined;
    let request: PreparedRequest | undefined;
    if (!receiver || alerts.length === 0) {
      outcome = 'dead';
      error = receiver ? 'the alerts are gone' : `receiver ${row.receiver} is no longer configured`;
    } else {
      let labels: Record<string, string> = {};
      if (row.group_key !== null) {
        const match = /:(\{.*\})$/.exec(row.group_key);
        labels = match ? groupLabelsOf(match[1] ?? '{}') : {};
      }
      try {
        request = prepare(receiver, row, alerts, labels);
        const blocked = slackBlocked.get(request.url) ?? 0;
        if (receiver.type === 'slack' && blocked > clockMs) {
          // The webhook said 429 with Retry-After: wait, without spending an attempt.
          await store.alerts.updateDelivery(row.id, { next_ms: blocked, updated_ms: clockMs });
          return;
        }
        if (receiver.type === 'slack') {
          const wait = (slackNext.get(request.url) ?? 0) - Date.now();
          if (wait > 0) await sleep(wait);
          slackNext.set(request.url, Date.now() + slackIntervalMs);
        }
        const response = await callOut(request.url, {
          method: 'POST',
          headers: request.headers,
          body: request.body,
          timeoutMs,
          maxBytes: 64 * 1024,
          ignoreBody: true,
        });
        status = response.status;
        if (response.ok) outcome = 'delivered';
        else {
          error = `HTTP ${response.status}`;
          if (response.status === 429) {
            waitMs = retryAfterMs(response.headers.get('retry-after'), Date.now());
            if (receiver.type === 'slack' && waitMs !== undefined)
              slackBlocked.set(request.url, clockMs + waitMs);
          }
          const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
          outcome = retryable && attemptNo < maxAttempts ? 'retry' : 'dead';
        }
      } catch (e) {
        error = e instanceof OutboundError ? `${e.kind}: ${e.message}` : (e as Error).message;
        outcome = request !== undefined && attemptNo < maxAttempts ? 'retry' : 'dead';
      }
    }
    const nowMs = clockMs;
    const nextMs = outcome === 'retry' ? nowMs + (waitMs ?? backoff(attemptNo)) : nowMs;
    await store.writeTransaction(async function recordAttempt(trx) {
      await store.alerts.updateDelivery(
        row.id,
        {
          attempts: attemptNo,
          status: outcome === 'delivered' ? 'sent' : outcome === 'dead' ? 'dead' : 'pending',
          next_ms: nextMs,
          last_error: error,
          updated_ms: nowMs,
        },
        trx,
      );
      await ledger(trx, {
        recordType: 'alert_notification',
        delivery: row.id,
        receiver: row.receiver,
        action: row.action,
        alerts: ids,
        attempt: attemptNo,
        outcome,
        httpStatus: status,
        error,
        at: new Date(nowMs).toISOString(),
      });
    });
    if (outcome !== 'delivered')
      log?.warn(
        { receiver: row.receiver, delivery: row.id, attempt: attemptNo, outcome, error },
        'alert notification failed',
      );
    if (outcome === 'dead') {
      const redacted = receiver && request ? redact(receiver, request) : { headers: {}, body: row.alert_ids };
      await store.deadLetters.insert({
        sink: `alerts:${row.receiver}`,
        eventId: row.id,
        type: `alert.${row.action}`,
        headers: redacted.headers,
        body: redacted.body,
        attempts: attemptNo,
        lastError: error ?? 'unknown',
        createdMs: nowMs,
      });
    }
  }

  function deliver(nowMs: number, due: readonly AlertDeliveriesTable[]): void {
    const byReceiver = new Map<string, AlertDeliveriesTable[]>();
    for (const row of due) byReceiver.set(row.receiver, [...(byReceiver.get(row.receiver) ?? []), row]);
    for (const [name, rows] of byReceiver) {
      if (busy.has(name)) continue;
      busy.add(name);
      const work = (async function deliverToReceiver() {
        for (const row of rows) {
          try {
            await attempt(row, nowMs);
          } catch (error) {
            log?.error({ err: error, receiver: name, delivery: row.id }, 'alert delivery failed');
          }
        }
      })().finally(() => {
        busy.delete(name);
        inflight.delete(work);
      });
      inflight.add(work);
    }
  }

  return {
    route,
    resolved,
    acknowledged,
    checkTimedRules,
    async dispatch(nowMs) {
      if (config.suppression) await releaseHeld(nowMs);
      await flushGroups(nowMs);
      await escalate(nowMs);
      deliver(nowMs, await store.alerts.dueDeliveries(nowMs, 200));
    },
    async idle() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
  };
}

function groupLabelsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.slice(1, -1).split(/,(?=[A-Za-z_][A-Za-z0-9_]*=")/)) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      out[part.slice(0, eq)] = JSON.parse(part.slice(eq + 1)) as string;
    } catch {
      // not a label
    }
  }
  return out;
}
