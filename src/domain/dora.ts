/**
 * DORA metrics (DESIGN.md §10, definitions of dora.dev's 2024–2025 guides), as pure functions
 * of the stored facts: the store reads the changes of a window, the deployments that declare a
 * remediation, and the incidents that can name a change as suspect; this works out, per change,
 * whether it failed, when it recovered and whether it was rework ({@link analyseChanges}), then
 * sums any subset of those facts into the five figures ({@link summariseChanges}). A series is
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
import { tierOf, type Tier } from './dora-tiers.js';

export type { Tier } from './dora-tiers.js';

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

/** The window a summary covers, as answered. */
export interface DoraWindow {
  readonly since: string;
  readonly until: string;
  readonly tz: string;
  /** Days on the local clock of `tz` (a week across a DST change is 7). */
  readonly days: number;
}

export interface DoraFigures {
  readonly window: DoraWindow;
  readonly deploymentFrequency: {
    readonly perDay: number;
    readonly count: number;
    readonly tier: Tier | null;
    readonly explain?: { readonly deployments: readonly string[] };
  };
  readonly leadTime: {
    readonly medianMs: number | null;
    readonly p90Ms: number | null;
    readonly count: number;
    readonly tier: Tier | null;
    readonly explain?: { readonly deployments: readonly { deployment: string; leadTimeMs: number }[] };
  };
  readonly changeFailureRate: {
    readonly rate: number | null;
    readonly failed: number;
    readonly total: number;
    readonly tier: Tier | null;
    readonly explain?: {
      readonly total: readonly string[];
      readonly failed: readonly { deployment: string; causes: readonly FailureCause[] }[];
      /** Rollbacks: changes, but not counted in the failure rate. */
      readonly excluded: readonly string[];
    };
  };
  readonly recoveryTime: {
    readonly medianMs: number | null;
    readonly count: number;
    readonly tier: Tier | null;
    readonly explain?: {
      readonly recoveries: readonly {
        deployment: string;
        failedAt: string;
        recoveredAt: string;
        recoveryMs: number;
        recoveredBy: string;
      }[];
      /** Failed changes not recovered yet. */
      readonly unrecovered: readonly string[];
    };
  };
  readonly reworkRate: {
    readonly rate: number | null;
    readonly rework: number;
    readonly total: number;
    readonly explain?: {
      readonly total: readonly string[];
      readonly rework: readonly { deployment: string; why: readonly string[] }[];
    };
  };
}

/**
 * The five figures over `facts` (the changes of one window, one interval or one service).
 * `days` is the window's length on the local clock; `explain` adds the keys behind each figure.
 */
export function summariseChanges(
  facts: readonly ChangeFacts[],
  window: DoraWindow,
  explain = false,
): DoraFigures {
  const sorted = [...facts].sort(
    (a, b) => a.finishedMs - b.finishedMs || compareText(a.deployment, b.deployment),
  );
  const leadTimes: { deployment: string; leadTimeMs: number }[] = [];
  const counted: ChangeFacts[] = [];
  const failed: ChangeFacts[] = [];
  const recoveries: NonNullable<DoraFigures['recoveryTime']['explain']>['recoveries'][number][] = [];
  const unrecovered: string[] = [];
  const rework: ChangeFacts[] = [];
  for (const f of sorted) {
    if (f.leadTimeMs !== null) leadTimes.push({ deployment: f.deployment, leadTimeMs: f.leadTimeMs });
    if (f.rework.length > 0) rework.push(f);
    if (f.isRollback) continue;
    counted.push(f);
    if (f.failures.length === 0) continue;
    failed.push(f);
    if (f.failedMs !== null && f.recoveredMs !== null && f.recoveredBy !== null) {
      recoveries.push({
        deployment: f.deployment,
        failedAt: new Date(f.failedMs).toISOString(),
        recoveredAt: new Date(f.recoveredMs).toISOString(),
        recoveryMs: f.recoveredMs - f.failedMs,
        recoveredBy: f.recoveredBy,
      });
    } else unrecovered.push(f.deployment);
  }
  const perDay = window.days > 0 ? sorted.length / window.days : 0;
  const leadMedian = percentile(
    leadTimes.map((l) => l.leadTimeMs),
    0.5,
  );
  const failureRate = counted.length === 0 ? null : failed.length / counted.length;
  const recoveryMedian = percentile(
    recoveries.map((r) => r.recoveryMs),
    0.5,
  );
  return {
    window,
    deploymentFrequency: {
      perDay,
      count: sorted.length,
      tier: sorted.length === 0 ? null : tierOf('deploymentFrequency', perDay),
      ...(explain ? { explain: { deployments: sorted.map((f) => f.deployment) } } : {}),
    },
    leadTime: {
      medianMs: leadMedian,
      p90Ms: percentile(
        leadTimes.map((l) => l.leadTimeMs),
        0.9,
      ),
      count: leadTimes.length,
      tier: tierOf('leadTime', leadMedian),
      ...(explain ? { explain: { deployments: leadTimes } } : {}),
    },
    changeFailureRate: {
      rate: failureRate,
      failed: failed.length,
      total: counted.length,
      tier: tierOf('changeFailureRate', failureRate),
      ...(explain
        ? {
            explain: {
              total: counted.map((f) => f.deployment),
              failed: failed.map((f) => ({ deployment: f.deployment, causes: f.failures })),
              excluded: sorted.filter((f) => f.isRollback).map((f) => f.deployment),
            },
          }
        : {}),
    },
    recoveryTime: {
      medianMs: recoveryMedian,
      count: recoveries.length,
      tier: tierOf('recoveryTime', recoveryMedian),
      ...(explain ? { explain: { recoveries, unrecovered } } : {}),
    },
    reworkRate: {
      rate: sorted.length === 0 ? null : rework.length / sorted.length,
      rework: rework.length,
      total: sorted.length,
      ...(explain
        ? {
            explain: {
              total: sorted.map((f) => f.deployment),
              rework: rework.map((f) => ({ deployment: f.deployment, why: f.rework })),
            },
          }
        : {}),
    },
  };
}

/**
 * The `q` quantile of `values` by linear interpolation between closest ranks (Hyndman and Fan
 * type 7, what NumPy, R and spreadsheets compute by default), rounded to the millisecond:
 * the median of 1, 2, 3, 4 is 2.5 → 3 ms. null for no values.
 */
export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = (sorted.length - 1) * q;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return Math.round(a + (b - a) * (rank - lo));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
