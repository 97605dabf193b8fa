/**
 * DORA metrics (DESIGN.md §10, definitions of dora.dev's 2024–2025 guides), as pure functions
 * of the stored facts: the store reads the changes of a window, the deployments that declare a
 * remediation, and the incidents that can name a change as suspect; this works out, per change,
 * whether it failed, when it recovered and whether it was rework ({@link analyseChanges});
 * src/domain/dora-summary.ts sums any subset of those facts into the five figures. A series is
 * the same sum per interval, a per-service gauge the same sum per service, so the three can
 * never disagree.
 *
 * Which incident names which change is decided by `rankSuspects` (src/domain/correlation.ts),
 * the function behind an incident's suspects (§9), over a narrowed candidate list: the incident
 * page and the failure rate agree by construction.
 */
import {
  DEFAULT_CORRELATION,
  candidateSpan,
  dependencyClosure,
  mentionedWords,
  rankSuspects,
  type CandidateDeployment,
  type CorrelationSettings,
  type IncidentFacts,
  type SuspectReason,
} from './correlation.js';
import { severityRank, type IncidentSeverity } from './incident.js';

/** A change: a deployment that succeeded (status `succeeded` or, later, `rolled_back`). */
export interface DoraChange extends CandidateDeployment {
  readonly kind: string;
  readonly intent: string | null;
  readonly remediates: string | null;
  /** The deciding `succeeded` event's time: a change is in a window by this. */
  readonly finishedMs: number;
  /** When it was rolled back (`deployment.rolled_back`), if it was. */
  readonly rolledBackMs: number | null;
  /** The earliest commit it shipped (event field `commits`), if it listed any. */
  readonly firstCommitMs: number | null;
}

/** A deployment, of any status, that says which deployment it fixes or rolls back. */
export interface DoraRemediation {
  readonly deployment: string;
  readonly service: string;
  readonly environment: string;
  readonly region: string | null;
  readonly kind: string;
  readonly remediates: string | null;
  /** Its first event (the request): when the failure it remediates became known. */
  readonly firstMs: number;
}

export interface DoraIncident extends IncidentFacts {
  readonly severity: IncidentSeverity | null;
  readonly resolvedMs: number | null;
}

export interface DoraSettings {
  /** `dora.minSeverity` (default sev2): incidents this severe or worse count. */
  readonly minSeverity: IncidentSeverity;
  readonly correlation: CorrelationSettings;
}

export const DEFAULT_DORA: DoraSettings = Object.freeze({
  minSeverity: 'sev2',
  correlation: DEFAULT_CORRELATION,
});

export interface DoraInput {
  /** Changes in (and around) the window, any order. */
  readonly changes: readonly DoraChange[];
  /**
   * The first change finished after the read range, per service (key `service`), so a failure
   * near the window's end still finds its recovery.
   */
  readonly nextChanges?: ReadonlyMap<string, { readonly deployment: string; readonly finishedMs: number }>;
  readonly remediations: readonly DoraRemediation[];
  readonly incidents: readonly DoraIncident[];
  /** Direct dependencies per service (the catalog). */
  readonly dependsOn?: ReadonlyMap<string, readonly string[]>;
}

/** Why a change counts as failed; `by` is the deployment or incident key behind it. */
export type FailureCause =
  | { readonly cause: 'rolled_back'; readonly at: string }
  | { readonly cause: 'rollback' | 'remediated'; readonly by: string }
  | { readonly cause: 'incident'; readonly by: string; readonly reason: SuspectReason };

/** What the metrics know of one change. */
export interface ChangeFacts {
  readonly deployment: string;
  readonly service: string;
  readonly finishedMs: number;
  readonly isRollback: boolean;
  readonly leadTimeMs: number | null;
  readonly failures: readonly FailureCause[];
  /** Earliest failure signal (incident start, rollback, remediation request). */
  readonly failedMs: number | null;
  readonly recoveredMs: number | null;
  /** The deployment or incident whose success or resolution ended the failure. */
  readonly recoveredBy: string | null;
  /** Why it is rework (unplanned): empty when it was planned. */
  readonly rework: readonly string[];
}

/**
 * Works out the facts of every change of `input.changes`. Changes are compared within their
 * service and environment (and the incident's region rules of §9).
 */
export function analyseChanges(input: DoraInput, settings: DoraSettings = DEFAULT_DORA): ChangeFacts[] {
  const byService = groupByService(
    input.changes,
    (a, b) => a.firstMs - b.firstMs || a.finishedMs - b.finishedMs,
  );
  const byFinish = groupByService(
    input.changes,
    (a, b) => a.finishedMs - b.finishedMs || compareText(a.deployment, b.deployment),
  );
  const byKey = new Map(input.changes.map((c) => [c.deployment, c]));
  const byTicket = new Map<string, DoraChange[]>();
  for (const c of input.changes) {
    if (c.ticket === null) continue;
    const list = byTicket.get(c.ticket);
    if (list) list.push(c);
    else byTicket.set(c.ticket, [c]);
  }
  const indexes: Indexes = { byService, byKey, byTicket };
  /** Per failed change: each cause, when it was signalled, and (incidents) when it was resolved. */
  const failures = new Map<string, Signal[]>();
  const fail = (deployment: string, signal: Signal) => {
    const list = failures.get(deployment);
    if (list) list.push(signal);
    else failures.set(deployment, [signal]);
  };

  for (const change of input.changes) {
    if (change.rolledBackMs !== null)
      fail(change.deployment, {
        cause: { cause: 'rolled_back', at: new Date(change.rolledBackMs).toISOString() },
        atMs: change.rolledBackMs,
        resolvedMs: null,
      });
  }
  for (const r of input.remediations) {
    let target: DoraChange | undefined;
    if (r.remediates !== null) target = byKey.get(r.remediates);
    // A rollback that names nothing rolls back what it replaced: the latest change of its
    // service, environment and region that finished before it was requested.
    else if (r.kind === 'rollback') target = latestBefore(byFinish.get(r.service), r);
    if (!target || target.deployment === r.deployment || r.firstMs < target.firstMs) continue;
    fail(target.deployment, {
      cause: { cause: r.kind === 'rollback' ? 'rollback' : 'remediated', by: r.deployment },
      atMs: r.firstMs,
      resolvedMs: null,
    });
  }
  for (const incident of input.incidents) {
    if (incident.severity === null || severityRank(incident.severity) > severityRank(settings.minSeverity))
      continue;
    for (const suspect of namedChanges(incident, input, indexes, settings.correlation)) {
      fail(suspect.deployment, {
        cause: { cause: 'incident', by: incident.key, reason: suspect.reason },
        atMs: incident.startedMs,
        resolvedMs: incident.resolvedMs,
      });
    }
  }

  return input.changes.map((change) => {
    const signals = failures.get(change.deployment) ?? [];
    let failedMs: number | null = null;
    for (const s of signals) if (failedMs === null || s.atMs < failedMs) failedMs = s.atMs;
    let recoveredMs: number | null = null;
    let recoveredBy: string | null = null;
    if (failedMs !== null) {
      const next = nextChangeAfter(byFinish.get(change.service), change, failedMs, input.nextChanges);
      if (next) [recoveredMs, recoveredBy] = [next.finishedMs, next.deployment];
      for (const s of signals) {
        if (s.cause.cause !== 'incident' || s.resolvedMs === null || s.resolvedMs < failedMs) continue;
        if (recoveredMs === null || s.resolvedMs < recoveredMs)
          [recoveredMs, recoveredBy] = [s.resolvedMs, s.cause.by];
      }
    }
    const rework: string[] = [];
    if (change.intent === 'remediation') rework.push('intent:remediation');
    if (change.kind === 'hotfix' || change.kind === 'rollback') rework.push(`kind:${change.kind}`);
    if (change.remediates !== null) rework.push(`remediates:${change.remediates}`);
    return {
      deployment: change.deployment,
      service: change.service,
      finishedMs: change.finishedMs,
      isRollback: change.kind === 'rollback',
      leadTimeMs:
        change.firstCommitMs === null ? null : Math.max(0, change.finishedMs - change.firstCommitMs),
      failures: signals.map((s) => s.cause),
      failedMs,
      recoveredMs,
      recoveredBy,
      rework,
    };
  });
}

interface Indexes {
  readonly byService: ReadonlyMap<string, readonly DoraChange[]>;
  readonly byKey: ReadonlyMap<string, DoraChange>;
  readonly byTicket: ReadonlyMap<string, readonly DoraChange[]>;
}

interface Signal {
  readonly cause: FailureCause;
  readonly atMs: number;
  readonly resolvedMs: number | null;
}

/** Changes per service, sorted by `order`. */
function groupByService(
  changes: readonly DoraChange[],
  order: (a: DoraChange, b: DoraChange) => number,
): Map<string, DoraChange[]> {
  const map = new Map<string, DoraChange[]>();
  for (const c of changes) {
    const list = map.get(c.service);
    if (list) list.push(c);
    else map.set(c.service, [c]);
  }
  for (const list of map.values()) list.sort(order);
  return map;
}

/**
 * Index of the first change of `list` (sorted by finish) that finished after `ms`, or at it
 * when `inclusive`.
 */
function finishedFrom(list: readonly DoraChange[], ms: number, inclusive: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = list[mid]?.finishedMs ?? 0;
    if (at < ms || (at === ms && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The latest change of the rollback's environment and region that finished before its request. */
function latestBefore(list: readonly DoraChange[] | undefined, r: DoraRemediation): DoraChange | undefined {
  if (!list) return undefined;
  for (let i = finishedFrom(list, r.firstMs, false) - 1; i >= 0; i -= 1) {
    const c = list[i];
    if (!c || c.environment !== r.environment || (c.region ?? '') !== (r.region ?? '')) continue;
    if (c.kind !== 'rollback' && c.deployment !== r.deployment) return c;
  }
  return undefined;
}

/**
 * The first change of the same service and environment that finished at or after `afterMs`
 * (a remediation reported in one go has one time for its request and its success).
 */
function nextChangeAfter(
  list: readonly DoraChange[] | undefined,
  change: DoraChange,
  afterMs: number,
  later: DoraInput['nextChanges'],
): { deployment: string; finishedMs: number } | undefined {
  if (list) {
    for (let i = finishedFrom(list, afterMs, true); i < list.length; i += 1) {
      const c = list[i];
      if (c && c.environment === change.environment && c.deployment !== change.deployment) return c;
    }
  }
  return later?.get(change.service);
}

/** Index of the first element of `list` (sorted by firstMs) with firstMs >= `fromMs`. */
function lowerBound(list: readonly DoraChange[], fromMs: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid]?.firstMs ?? 0) < fromMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The changes an incident makes failed (§10): its suspects with reason `explicit` or `ticket`,
 * or `same_service` within the window. Only changes that could be such suspects are handed to
 * `rankSuspects`: the named key, the same ticket, a mentioned key or version, and changes of
 * the incident's service in the candidate span that finished no earlier than the window.
 */
function namedChanges(
  incident: DoraIncident,
  input: DoraInput,
  { byService, byKey, byTicket }: Indexes,
  correlation: CorrelationSettings,
): { deployment: string; reason: SuspectReason }[] {
  const candidates = new Set<DoraChange>();
  const add = (c: DoraChange | undefined) => {
    if (c) candidates.add(c);
  };
  if (incident.causedBy !== null) add(byKey.get(incident.causedBy));
  const related =
    incident.service === null
      ? new Set<string>()
      : dependencyClosure(
          incident.service,
          (s) => input.dependsOn?.get(s) ?? [],
          correlation.dependencyDepth,
        );
  const span = candidateSpan(incident.startedMs, correlation);
  const windowMs = correlation.windowMinutes * 60_000;
  const services = incident.service === null ? [...related] : [incident.service, ...related];
  const mentioned = mentionedWords(incident);
  for (const w of mentioned) add(byKey.get(w));
  for (const service of services) {
    const list = byService.get(service) ?? [];
    for (let i = lowerBound(list, span.fromMs); i < list.length; i += 1) {
      const c = list[i];
      if (!c || c.firstMs > span.toMs) break;
      const sameService = service === incident.service && c.finishedMs >= incident.startedMs - windowMs;
      if (sameService || (c.version !== null && mentioned.has(c.version))) add(c);
    }
  }
  // The same ticket names a change of any service (§9 `ticket`).
  if (incident.ticket !== null) for (const c of byTicket.get(incident.ticket) ?? []) add(c);
  if (candidates.size === 0) return [];
  return rankSuspects(incident, [...candidates], related, correlation)
    .filter(
      (s) =>
        s.reason === 'explicit' || s.reason === 'ticket' || (s.reason === 'same_service' && s.withinWindow),
    )
    .map((s) => ({ deployment: s.deployment, reason: s.reason }));
}

/** Orders keys by code unit, the same in every locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
