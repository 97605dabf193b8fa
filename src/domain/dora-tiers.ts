/**
 * Performance tiers from the clusters of the 2024 Accelerate State of DevOps report (DORA,
 * Google Cloud, October 2024, "Software delivery performance" chapter):
 *
 * | tier   | deployment frequency            | change lead time        | change failure rate | failed deployment recovery time |
 * | ------ | ------------------------------- | ----------------------- | ------------------- | ------------------------------- |
 * | elite  | on demand (multiple per day)    | less than one day       | 5%                  | less than one hour              |
 * | high   | between once a day and once a week | between one day and one week | 20%        | less than one day               |
 * | medium | between once a week and once a month | between one week and one month | 10%    | less than one day               |
 * | low    | between once a month and once every six months | between one month and six months | 40% | between one week and one month |
 *
 * A figure takes the best tier whose cluster figure it meets (docs/metrics.md). The report's
 * medium cluster has a lower failure rate (10%) than its high cluster (20%), and the same
 * recovery time (less than one day): those bars are subsumed by high's, so the failure rate and
 * the recovery time are never `medium` here; the report itself ranks clusters on all four
 * metrics together.
 */

export const TIERS = ['elite', 'high', 'medium', 'low'] as const;
export type Tier = (typeof TIERS)[number];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Best first: the tier and the bar a figure must meet for it. */
export const TIER_BARS = Object.freeze({
  /** Changes per day, at least. */
  deploymentFrequency: [
    ['elite', 1],
    ['high', 1 / 7],
    ['medium', 1 / 30],
  ] as const,
  /** Median lead time, less than. */
  leadTime: [
    ['elite', DAY_MS],
    ['high', 7 * DAY_MS],
    ['medium', 30 * DAY_MS],
  ] as const,
  /** Change failure rate, at most. */
  changeFailureRate: [
    ['elite', 0.05],
    ['high', 0.2],
    ['medium', 0.1],
  ] as const,
  /** Median recovery time, less than. */
  recoveryTime: [
    ['elite', HOUR_MS],
    ['high', DAY_MS],
    ['medium', DAY_MS],
  ] as const,
});

export type TieredMetric = keyof typeof TIER_BARS;

/** The tier of `value` for `metric`; null when there is no figure (nothing counted). */
export function tierOf(metric: TieredMetric, value: number | null): Tier | null {
  if (value === null || Number.isNaN(value)) return null;
  for (const [tier, bar] of TIER_BARS[metric]) {
    const meets =
      metric === 'deploymentFrequency'
        ? value >= bar
        : metric === 'changeFailureRate'
          ? value <= bar
          : value < bar;
    if (meets) return tier;
  }
  return 'low';
}
