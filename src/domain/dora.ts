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
import type { ChangeTable } from './dora-changes.js';
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
  readonly changes: ChangeTable;
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
 * instead of keeping one object per change of a window. A change is its row in the table.
 */
export function analyseChanges(
  input: DoraInput,
  settings: DoraSettings,
  each: (facts: ChangeFacts) => void,
): void {
  // Each step is its own function: a request runs each once, over every change, and V8
  // optimises a function whose loops have all run better than one large function.
  const t = input.changes;
  const byFinish = groupByService(t);
  const counted = input.incidents.filter(
    (i) => i.severity !== null && severityRank(i.severity) <= severityRank(settings.minSeverity),
  );
  const mentions = counted.map((i) => mentionedWords(i));
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
  const indexes: Indexes = {
    table: t,
    byFinish,
    ...keyIndexes(t, counted, mentions, input.remediations),
    longestRun: longestRuns(t, byFinish),
    related,
  };
  const failures = new Failures(t.length);
  rolledBack(t, failures);
  remediated(indexes, input.remediations, failures);
  for (let k = 0; k < counted.length; k += 1) {
    const incident = counted[k] as DoraIncident;
    for (const suspect of namedChanges(incident, mentions[k] as Set<string>, indexes, settings.correlation)) {
      failures.add(suspect.change, {
        cause: { cause: 'incident', by: incident.key, reason: suspect.reason },
        atMs: incident.startedMs,
        resolvedMs: incident.resolvedMs,
      });
    }
  }
  emitFacts(t, byFinish, failures, input.nextChanges, each);
}

/**
 * Per failed change: each cause, when it was signalled, and (incidents) when it was resolved.
 * Most changes never failed, and looking one up costs nothing then.
 */
class Failures {
  private readonly signals: (Signal[] | undefined)[];

  constructor(changes: number) {
    this.signals = new Array<Signal[] | undefined>(changes);
  }

  add(change: number, signal: Signal): void {
    const signals = this.signals[change];
    if (signals) signals.push(signal);
    else this.signals[change] = [signal];
  }

  of(change: number): readonly Signal[] {
    return this.signals[change] ?? NONE;
  }
}

/**
 * The changes by key, ticket and (per service) version, of only the keys something names and
 * the versions some incident mentions: those are the only ones looked up.
 */
function keyIndexes(
  t: ChangeTable,
  incidents: readonly DoraIncident[],
  mentions: readonly ReadonlySet<string>[],
  remediations: readonly DoraRemediation[],
): Pick<Indexes, 'byKey' | 'byTicket' | 'byVersion'> {
  const mentioned = new Set<string>();
  for (const words of mentions) for (const w of words) mentioned.add(w);
  const named = new Set(mentioned);
  for (const r of remediations) if (r.remediates !== null) named.add(r.remediates);
  for (const i of incidents) if (i.causedBy !== null) named.add(i.causedBy);
  const byKey = new Map<string, number>();
  const byTicket = new Map<string, number[]>();
  const byVersion = new Map<number, Map<string, number[]>>();
  for (let i = 0; i < t.length; i += 1) {
    const key = t.deployment[i] as string;
    if (named.has(key)) byKey.set(key, i);
    const ticket = t.ticket[i] ?? null;
    if (ticket !== null) push(byTicket, ticket, i);
    const version = t.version[i] ?? null;
    if (version !== null && mentioned.has(version)) {
      const service = t.service[i] as number;
      let versions = byVersion.get(service);
      if (!versions) byVersion.set(service, (versions = new Map()));
      push(versions, version, i);
    }
  }
  return { byKey, byTicket, byVersion };
}

/** Per service, the longest time from a change's first event (or start) to its finish. */
function longestRuns(t: ChangeTable, byFinish: ReadonlyMap<number, readonly number[]>): Map<number, number> {
  const longestRun = new Map<number, number>();
  for (const [service, list] of byFinish) {
    let longest = 0;
    for (let at = 0; at < list.length; at += 1) {
      const i = list[at] as number;
      const first = t.firstMs[i] as number;
      const started = t.startedMs[i] as number;
      const run = (t.finishedMs[i] as number) - (started < first ? started : first);
      if (run > longest) longest = run;
    }
    longestRun.set(service, longest);
  }
  return longestRun;
}

function rolledBack(t: ChangeTable, failures: Failures): void {
  for (let i = 0; i < t.length; i += 1) {
    const rolledBackMs = t.rolledBackMs[i] as number;
    if (!Number.isNaN(rolledBackMs))
      failures.add(i, {
        cause: { cause: 'rolled_back', at: new Date(rolledBackMs).toISOString() },
        atMs: rolledBackMs,
        resolvedMs: null,
      });
  }
}

/** The changes that a remediation names, or a rollback that names nothing rolls back. */
function remediated(
  { table: t, byKey, byFinish }: Indexes,
  remediations: readonly DoraRemediation[],
  failures: Failures,
): void {
  for (const r of remediations) {
    let target: number | undefined;
    if (r.remediates !== null) target = byKey.get(r.remediates);
    // A rollback that names nothing rolls back what it replaced: the latest change of its
    // service, environment and region that finished before it was requested.
    else if (r.kind === 'rollback') {
      const service = t.findName(r.service);
      if (service !== undefined) target = latestBefore(t, byFinish.get(service), r);
    }
    if (
      target === undefined ||
      t.deployment[target] === r.deployment ||
      r.firstMs < (t.firstMs[target] as number)
    )
      continue;
    failures.add(target, {
      cause: { cause: r.kind === 'rollback' ? 'rollback' : 'remediated', by: r.deployment },
      atMs: r.firstMs,
      resolvedMs: null,
    });
  }
}

/** Hands `each` the facts of every change, in table order. */
function emitFacts(
  t: ChangeTable,
  byFinish: ReadonlyMap<number, readonly number[]>,
  failures: Failures,
  nextChanges: DoraInput['nextChanges'],
  each: (facts: ChangeFacts) => void,
): void {
  // Undefined when no change holds the name: then no change is of that kind or intent.
  const rollback = t.findName('rollback');
  const hotfix = t.findName('hotfix');
  const remediation = t.findName('remediation');
  for (let i = 0; i < t.length; i += 1) {
    const finished = t.finishedMs[i] as number;
    const service = t.service[i] as number;
    const signals = failures.of(i);
    let failedMs: number | null = null;
    let recoveredMs: number | null = null;
    let recoveredBy: string | null = null;
    if (signals.length > 0) {
      let failed = Infinity;
      for (const s of signals) if (s.atMs < failed) failed = s.atMs;
      failedMs = failed;
      const next = nextChangeAfter(t, byFinish.get(service), i, failed, nextChanges);
      if (next) [recoveredMs, recoveredBy] = [next.finishedMs, next.deployment];
      for (const s of signals) {
        if (s.cause.cause !== 'incident' || s.resolvedMs === null || s.resolvedMs < failed) continue;
        if (recoveredMs === null || s.resolvedMs < recoveredMs)
          [recoveredMs, recoveredBy] = [s.resolvedMs, s.cause.by];
      }
    }
    const kind = t.kind[i] as number;
    const intent = t.intent[i] as number;
    const remediates = t.remediates[i] ?? null;
    let rework: readonly string[] = NONE;
    const isHotfix = kind === hotfix || kind === rollback;
    if (intent === remediation || isHotfix || remediates !== null) {
      const why: string[] = [];
      if (intent === remediation) why.push('intent:remediation');
      if (isHotfix) why.push(`kind:${t.name(kind) ?? ''}`);
      if (remediates !== null) why.push(`remediates:${remediates}`);
      rework = why;
    }
    const firstCommitMs = t.firstCommitMs[i] as number;
    each({
      deployment: t.deployment[i] as string,
      service: t.name(service) ?? '',
      finishedMs: finished,
      isRollback: kind === rollback,
      leadTimeMs: Number.isNaN(firstCommitMs) ? null : Math.max(0, finished - firstCommitMs),
      failures: signals.length === 0 ? NONE : signals.map((s) => s.cause),
      failedMs,
      recoveredMs,
      recoveredBy,
      rework,
    });
  }
}

interface Indexes {
  readonly table: ChangeTable;
  /** Changes per service (name index), by finish time. */
  readonly byFinish: ReadonlyMap<number, readonly number[]>;
  /** The changes a remediation, an incident's cause or an incident's words name, by key. */
  readonly byKey: ReadonlyMap<string, number>;
  readonly byTicket: ReadonlyMap<string, readonly number[]>;
  /** Changes per service (name index), then per version. */
  readonly byVersion: ReadonlyMap<number, ReadonlyMap<string, readonly number[]>>;
  /** Per service (name index), the longest time from a change's first event (or start) to its finish. */
  readonly longestRun: ReadonlyMap<number, number>;
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

/** The changes of each service (name index), by finish time, then key. */
function groupByService(t: ChangeTable): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (let i = 0; i < t.length; i += 1) push(map, t.service[i] as number, i);
  const { finishedMs, deployment } = t;
  const order = (a: number, b: number) =>
    (finishedMs[a] as number) - (finishedMs[b] as number) ||
    compareText(deployment[a] as string, deployment[b] as string);
  for (const list of map.values()) list.sort(order);
  return map;
}

/**
 * Position of the first change of `list` (sorted by finish) that finished after `ms`, or at it
 * when `inclusive`.
 */
function finishedFrom(t: ChangeTable, list: readonly number[], ms: number, inclusive: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = t.finishedMs[list[mid] as number] as number;
    if (at < ms || (at === ms && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The latest change of the rollback's environment and region that finished before its request. */
function latestBefore(
  t: ChangeTable,
  list: readonly number[] | undefined,
  r: DoraRemediation,
): number | undefined {
  if (!list) return undefined;
  const environment = t.findName(r.environment);
  const rollback = t.findName('rollback');
  for (let at = finishedFrom(t, list, r.firstMs, false) - 1; at >= 0; at -= 1) {
    const i = list[at] as number;
    if (t.environment[i] !== environment || (t.name(t.region[i] as number) ?? '') !== (r.region ?? ''))
      continue;
    if (t.kind[i] !== rollback && t.deployment[i] !== r.deployment) return i;
  }
  return undefined;
}

/**
 * The first change of the same service and environment as change `i` that finished at or after
 * `afterMs` (a remediation reported in one go has one time for its request and its success).
 */
function nextChangeAfter(
  t: ChangeTable,
  list: readonly number[] | undefined,
  i: number,
  afterMs: number,
  later: DoraInput['nextChanges'],
): { deployment: string; finishedMs: number } | undefined {
  if (list) {
    for (let at = finishedFrom(t, list, afterMs, true); at < list.length; at += 1) {
      const j = list[at] as number;
      if (t.environment[j] === t.environment[i] && t.deployment[j] !== t.deployment[i])
        return { deployment: t.deployment[j] as string, finishedMs: t.finishedMs[j] as number };
    }
  }
  return later?.get(t.name(t.service[i] as number) ?? '');
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
  { table: t, byFinish, byKey, byTicket, byVersion, longestRun, related: relatedTo }: Indexes,
  correlation: CorrelationSettings,
): { change: number; reason: SuspectReason }[] {
  const candidates = new Set<number>();
  const add = (i: number | undefined) => {
    if (i !== undefined) candidates.add(i);
  };
  if (incident.causedBy !== null) add(byKey.get(incident.causedBy));
  const related = incident.service === null ? new Set<string>() : relatedTo(incident.service);
  const span = candidateSpan(incident.startedMs, correlation);
  for (const w of mentioned) add(byKey.get(w));
  const services = incident.service === null ? [...related] : [incident.service, ...related];
  for (const service of services) {
    const id = t.findName(service);
    const versions = id === undefined ? undefined : byVersion.get(id);
    if (versions) for (const w of mentioned) for (const i of versions.get(w) ?? NONE) add(i);
  }
  const service = incident.service === null ? undefined : t.findName(incident.service);
  if (service !== undefined) {
    // Same service: finished at or after the window's start; a change that finished later
    // still counts when it began by the incident's start, at most its service's longest run
    // before its finish.
    const list = byFinish.get(service) ?? NONE;
    const lastMs = span.toMs + (longestRun.get(service) ?? 0);
    const fromMs = incident.startedMs - correlation.windowMinutes * 60_000;
    for (let at = finishedFrom(t, list, fromMs, true); at < list.length; at += 1) {
      const i = list[at] as number;
      if ((t.finishedMs[i] as number) > lastMs) break;
      add(i);
    }
  }
  // The same ticket names a change of any service (§9 `ticket`).
  if (incident.ticket !== null) for (const i of byTicket.get(incident.ticket) ?? NONE) add(i);
  if (candidates.size === 0) return [];
  const byName = new Map<string, number>();
  const changes: DoraChange[] = [];
  for (const i of candidates) {
    byName.set(t.deployment[i] as string, i);
    changes.push(t.change(i));
  }
  return rankSuspects(incident, changes, related, correlation, mentioned).flatMap((s) => {
    const change = byName.get(s.deployment);
    const names =
      s.reason === 'explicit' || s.reason === 'ticket' || (s.reason === 'same_service' && s.withinWindow);
    return change !== undefined && names ? [{ change, reason: s.reason }] : [];
  });
}

/** Orders keys by code unit, the same in every locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
