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
 * Works out the facts of every change of `input.changes` and hands each to `each`, in the order
 * of `input.changes`. Changes are compared within their service and environment (and the
 * incident's region rules of §9). A caller sums the facts as they come (src/domain/dora-summary.ts)
 * instead of keeping one object per change of a window.
 */
export function analyseChanges(
  input: DoraInput,
  settings: DoraSettings,
  each: (facts: ChangeFacts) => void,
): void {
  const byFinish = groupByService(
    input.changes,
    (a, b) => a.finishedMs - b.finishedMs || compareText(a.deployment, b.deployment),
  );
  const counted = input.incidents.filter(
    (i) => i.severity !== null && severityRank(i.severity) <= severityRank(settings.minSeverity),
  );
  const mentions = counted.map((i) => [i, mentionedWords(i)] as const);
  // Only versions some incident mentions, and keys something names, are looked up: index just those.
  const mentioned = new Set<string>();
  for (const [, words] of mentions) for (const w of words) mentioned.add(w);
  const named = new Set(mentioned);
  for (const r of input.remediations) if (r.remediates !== null) named.add(r.remediates);
  for (const i of counted) if (i.causedBy !== null) named.add(i.causedBy);
  const byKey = new Map<string, DoraChange>();
  const byTicket = new Map<string, DoraChange[]>();
  const byVersion = new Map<string, Map<string, DoraChange[]>>();
  for (const c of input.changes) {
    if (named.has(c.deployment)) byKey.set(c.deployment, c);
    if (c.ticket !== null) push(byTicket, c.ticket, c);
    if (c.version !== null && mentioned.has(c.version)) {
      let versions = byVersion.get(c.service);
      if (!versions) byVersion.set(c.service, (versions = new Map()));
      push(versions, c.version, c);
    }
  }
  const longestRun = new Map<string, number>();
  for (const [service, list] of byFinish) {
    let longest = 0;
    for (const c of list)
      longest = Math.max(longest, c.finishedMs - Math.min(c.firstMs, c.startedMs ?? c.firstMs));
    longestRun.set(service, longest);
  }
  const closures = new Map<string, ReadonlySet<string>>();
  const related = (service: string): ReadonlySet<string> => {
    let found = closures.get(service);
    if (!found) {
      found = dependencyClosure(
        service,
        (s) => input.dependsOn?.get(s) ?? [],
        settings.correlation.dependencyDepth,
      );
      closures.set(service, found);
    }
    return found;
  };
  const indexes: Indexes = { byFinish, byKey, byTicket, byVersion, longestRun, related };
  /**
   * Per failed change: each cause, when it was signalled, and (incidents) when it was resolved.
   * Keyed by the change itself: most changes never failed, and looking one up costs nothing then.
   */
  const failures = new Map<DoraChange, Signal[]>();
  const fail = (change: DoraChange, signal: Signal) => push(failures, change, signal);

  for (const change of input.changes) {
    if (change.rolledBackMs !== null)
      fail(change, {
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
    fail(target, {
      cause: { cause: r.kind === 'rollback' ? 'rollback' : 'remediated', by: r.deployment },
      atMs: r.firstMs,
      resolvedMs: null,
    });
  }
  for (const [incident, words] of mentions) {
    for (const suspect of namedChanges(incident, words, indexes, settings.correlation)) {
      fail(suspect.change, {
        cause: { cause: 'incident', by: incident.key, reason: suspect.reason },
        atMs: incident.startedMs,
        resolvedMs: incident.resolvedMs,
      });
    }
  }

  for (const change of input.changes) {
    const signals = failures.get(change) ?? NONE;
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
    let rework: readonly string[] = NONE;
    const hotfix = change.kind === 'hotfix' || change.kind === 'rollback';
    if (change.intent === 'remediation' || hotfix || change.remediates !== null) {
      const why: string[] = [];
      if (change.intent === 'remediation') why.push('intent:remediation');
      if (hotfix) why.push(`kind:${change.kind}`);
      if (change.remediates !== null) why.push(`remediates:${change.remediates}`);
      rework = why;
    }
    each({
      deployment: change.deployment,
      service: change.service,
      finishedMs: change.finishedMs,
      isRollback: change.kind === 'rollback',
      leadTimeMs:
        change.firstCommitMs === null ? null : Math.max(0, change.finishedMs - change.firstCommitMs),
      failures: signals.length === 0 ? NONE : signals.map((s) => s.cause),
      failedMs,
      recoveredMs,
      recoveredBy,
      rework,
    });
  }
}

interface Indexes {
  /** Changes per service, by finish time. */
  readonly byFinish: ReadonlyMap<string, readonly DoraChange[]>;
  /** The changes a remediation, an incident's cause or an incident's words name, by key. */
  readonly byKey: ReadonlyMap<string, DoraChange>;
  readonly byTicket: ReadonlyMap<string, readonly DoraChange[]>;
  /** Changes per service, then per version. */
  readonly byVersion: ReadonlyMap<string, ReadonlyMap<string, readonly DoraChange[]>>;
  /** Per service, the longest time from a change's first event (or start) to its finish. */
  readonly longestRun: ReadonlyMap<string, number>;
  /** The services an incident of this service counts as related (§9 dependencies), cached. */
  readonly related: (service: string) => ReadonlySet<string>;
}

/** Shared by every change with no failure or no rework: most of them. */
const NONE: readonly never[] = Object.freeze([]);

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
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
  for (const c of changes) push(map, c.service, c);
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

/**
 * The changes an incident makes failed (§10): its suspects with reason `explicit` or `ticket`,
 * or `same_service` within the window. Only changes that could be such suspects are handed to
 * `rankSuspects`: the named key, the same ticket, a mentioned key, a mentioned version of the
 * incident's or a related service, and the changes of the incident's service that finished no
 * earlier than the window and began by the incident's start.
 */
function namedChanges(
  incident: DoraIncident,
  mentioned: ReadonlySet<string>,
  { byFinish, byKey, byTicket, byVersion, longestRun, related: relatedTo }: Indexes,
  correlation: CorrelationSettings,
): { change: DoraChange; reason: SuspectReason }[] {
  const candidates = new Set<DoraChange>();
  const add = (c: DoraChange | undefined) => {
    if (c) candidates.add(c);
  };
  if (incident.causedBy !== null) add(byKey.get(incident.causedBy));
  const related = incident.service === null ? new Set<string>() : relatedTo(incident.service);
  const span = candidateSpan(incident.startedMs, correlation);
  for (const w of mentioned) add(byKey.get(w));
  const services = incident.service === null ? [...related] : [incident.service, ...related];
  for (const service of services) {
    const versions = byVersion.get(service);
    if (versions) for (const w of mentioned) for (const c of versions.get(w) ?? NONE) add(c);
  }
  if (incident.service !== null) {
    // Same service: finished at or after the window's start; a change that finished later
    // still counts when it began by the incident's start, at most its service's longest run
    // before its finish.
    const list = byFinish.get(incident.service) ?? NONE;
    const lastMs = span.toMs + (longestRun.get(incident.service) ?? 0);
    const fromMs = incident.startedMs - correlation.windowMinutes * 60_000;
    for (let i = finishedFrom(list, fromMs, true); i < list.length; i += 1) {
      const c = list[i];
      if (!c || c.finishedMs > lastMs) break;
      add(c);
    }
  }
  // The same ticket names a change of any service (§9 `ticket`).
  if (incident.ticket !== null) for (const c of byTicket.get(incident.ticket) ?? NONE) add(c);
  if (candidates.size === 0) return [];
  const byName = new Map([...candidates].map((c) => [c.deployment, c]));
  return rankSuspects(incident, [...candidates], related, correlation).flatMap((s) => {
    const change = byName.get(s.deployment);
    const names =
      s.reason === 'explicit' || s.reason === 'ticket' || (s.reason === 'same_service' && s.withinWindow);
    return change && names ? [{ change, reason: s.reason }] : [];
  });
}

/** Orders keys by code unit, the same in every locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
