/**
 * The five DORA figures (DESIGN.md §10) of a set of analysed changes (src/domain/dora.ts): a
 * window, one interval of a series, or one service. Pure; `explain` adds the keys behind each
 * figure, and every count is the length of its list.
 */
import type { ChangeFacts, FailureCause } from './dora.js';
import { tierOf, type Tier } from './dora-tiers.js';

export type { Tier } from './dora-tiers.js';

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
 * Sums analysed changes (src/domain/dora.ts) into the five figures of one window, one interval
 * of a series or one service, a change at a time, so that no list of every change is kept for
 * it; `explain` keeps the changes, for the keys behind each figure.
 */
export interface DoraTally {
  add(facts: ChangeFacts): void;
  /** The figures of the changes added so far; `window.days` is the window's length on the local clock. */
  figures(window: DoraWindow): DoraFigures;
}

export function doraTally(explain = false): DoraTally {
  const kept: ChangeFacts[] = [];
  const leadTimes: number[] = [];
  const recoveryTimes: number[] = [];
  let total = 0;
  let counted = 0;
  let failed = 0;
  let rework = 0;
  return {
    add(f) {
      total += 1;
      if (explain) kept.push(f);
      if (f.leadTimeMs !== null) leadTimes.push(f.leadTimeMs);
      if (f.rework.length > 0) rework += 1;
      if (f.isRollback) return;
      counted += 1;
      if (f.failures.length === 0) return;
      failed += 1;
      if (f.failedMs !== null && f.recoveredMs !== null && f.recoveredBy !== null)
        recoveryTimes.push(f.recoveredMs - f.failedMs);
    },
    figures(window) {
      return figuresOf(
        { total, counted, failed, rework, leadTimes, recoveryTimes },
        window,
        explain ? kept : null,
      );
    },
  };
}

/** The five figures over `facts` (the changes of one window, one interval or one service). */
export function summariseChanges(
  facts: readonly ChangeFacts[],
  window: DoraWindow,
  explain = false,
): DoraFigures {
  const tally = doraTally(explain);
  for (const f of facts) tally.add(f);
  return tally.figures(window);
}

interface Sums {
  readonly total: number;
  readonly counted: number;
  readonly failed: number;
  readonly rework: number;
  readonly leadTimes: readonly number[];
  readonly recoveryTimes: readonly number[];
}

function figuresOf(
  { total, counted, failed, rework, leadTimes, recoveryTimes }: Sums,
  window: DoraWindow,
  kept: readonly ChangeFacts[] | null,
): DoraFigures {
  // Explain lists changes by finish; the figures themselves do not depend on the order.
  const sorted = kept
    ? [...kept].sort((a, b) => a.finishedMs - b.finishedMs || compareText(a.deployment, b.deployment))
    : [];
  const explain = kept !== null;
  const perDay = window.days > 0 ? total / window.days : 0;
  const leads = Float64Array.from(leadTimes).sort();
  const leadMedian = quantileOfSorted(leads, 0.5);
  const failureRate = counted === 0 ? null : failed / counted;
  const recoveryMedian = quantileOfSorted(Float64Array.from(recoveryTimes).sort(), 0.5);
  return {
    window,
    deploymentFrequency: {
      perDay,
      count: total,
      tier: total === 0 ? null : tierOf('deploymentFrequency', perDay),
      ...(explain ? { explain: { deployments: sorted.map((f) => f.deployment) } } : {}),
    },
    leadTime: {
      medianMs: leadMedian,
      p90Ms: quantileOfSorted(leads, 0.9),
      count: leads.length,
      tier: tierOf('leadTime', leadMedian),
      ...(explain
        ? {
            explain: {
              deployments: sorted.flatMap((f) =>
                f.leadTimeMs === null ? [] : [{ deployment: f.deployment, leadTimeMs: f.leadTimeMs }],
              ),
            },
          }
        : {}),
    },
    changeFailureRate: {
      rate: failureRate,
      failed,
      total: counted,
      tier: tierOf('changeFailureRate', failureRate),
      ...(explain
        ? {
            explain: {
              total: sorted.filter((f) => !f.isRollback).map((f) => f.deployment),
              failed: sorted
                .filter((f) => !f.isRollback && f.failures.length > 0)
                .map((f) => ({ deployment: f.deployment, causes: f.failures })),
              excluded: sorted.filter((f) => f.isRollback).map((f) => f.deployment),
            },
          }
        : {}),
    },
    recoveryTime: {
      medianMs: recoveryMedian,
      count: recoveryTimes.length,
      tier: tierOf('recoveryTime', recoveryMedian),
      ...(explain ? { explain: recoveriesOf(sorted) } : {}),
    },
    reworkRate: {
      rate: total === 0 ? null : rework / total,
      rework,
      total,
      ...(explain
        ? {
            explain: {
              total: sorted.map((f) => f.deployment),
              rework: sorted
                .filter((f) => f.rework.length > 0)
                .map((f) => ({ deployment: f.deployment, why: f.rework })),
            },
          }
        : {}),
    },
  };
}

type RecoveryExplain = NonNullable<DoraFigures['recoveryTime']['explain']>;

/** The recoveries and the unrecovered failed changes behind the recovery time, in `facts`' order. */
function recoveriesOf(facts: readonly ChangeFacts[]): RecoveryExplain {
  const recoveries: RecoveryExplain['recoveries'][number][] = [];
  const unrecovered: string[] = [];
  for (const f of facts) {
    if (f.isRollback || f.failures.length === 0) continue;
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
  return { recoveries, unrecovered };
}

/**
 * The `q` quantile of `values` by linear interpolation between closest ranks (Hyndman and Fan
 * type 7, what NumPy, R and spreadsheets compute by default), rounded to the millisecond:
 * the median of 1, 2, 3, 4 is 2.5 → 3 ms. null for no values.
 */
export function percentile(values: readonly number[], q: number): number | null {
  return quantileOfSorted(Float64Array.from(values).sort(), q);
}

/** {@link percentile} of values already sorted ascending. */
function quantileOfSorted(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
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
