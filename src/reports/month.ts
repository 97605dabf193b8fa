/**
 * A report month: `YYYY-MM`, bounded by local midnight of its first day and of the next
 * month's first day in the configured IANA zone (`reports.timeZone`, default UTC). So a
 * Berlin auditor's November starts at 2026-10-31T23:00:00Z, and a month that contains a DST
 * change is an hour longer or shorter in real time, as the wall calendar says.
 */
import { instantAtWall } from '../policy/local-time.js';

export interface MonthRange {
  /** `YYYY-MM`. */
  readonly month: string;
  readonly timeZone: string;
  /** Inclusive start, epoch ms. */
  readonly fromMs: number;
  /** Exclusive end, epoch ms. */
  readonly toMs: number;
}

export const MONTH_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])$';

/** The range of `month` in `timeZone`; undefined when `month` is not `YYYY-MM`. */
export function monthRange(month: string, timeZone: string): MonthRange | undefined {
  const match = new RegExp(MONTH_PATTERN).exec(month);
  if (!match) return undefined;
  const year = Number(month.slice(0, 4));
  const index = Number(month.slice(5, 7)) - 1;
  return {
    month,
    timeZone,
    fromMs: instantAtWall(timeZone, Date.UTC(year, index, 1)),
    toMs: instantAtWall(timeZone, Date.UTC(year, index + 1, 1)),
  };
}
