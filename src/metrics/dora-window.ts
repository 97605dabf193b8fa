/**
 * The windows and intervals of DORA metrics in an IANA time zone (DESIGN.md §10 `tz`): a day
 * is a local calendar day (23 or 25 hours across a DST change), a week starts on Monday at local
 * midnight (ISO 8601), and a window's length in days is read on the local clock, so a week
 * across a DST change is 7 days, not 6.958.
 */
import { instantAtWall, wallClock } from '../policy/local-time.js';

const DAY_MS = 86_400_000;

export type Interval = 'day' | 'week';

/** The window's length in local days (rounded to the second, so it prints cleanly). */
export function localDays(tz: string, sinceMs: number, untilMs: number): number {
  const wallDiff = wallClock(tz, untilMs).wallMs - wallClock(tz, sinceMs).wallMs;
  return Math.round(wallDiff / 1000) / 86_400;
}

/** `instantMs` minus `days` local days (same local time of day, earlier date). */
export function localDaysBefore(tz: string, instantMs: number, days: number): number {
  return instantAtWall(tz, wallClock(tz, instantMs).wallMs - days * DAY_MS);
}

/** The local midnight starting the day (or ISO week) that holds `instantMs`. */
export function intervalStart(tz: string, instantMs: number, interval: Interval): number {
  const local = wallClock(tz, instantMs);
  let wall = Date.UTC(local.year, local.month - 1, local.day);
  if (interval === 'week') wall -= local.weekday * DAY_MS;
  return instantAtWall(tz, wall);
}

/** The local midnight one day (or week) after the interval starting at `startMs`. */
function nextStart(tz: string, startMs: number, interval: Interval): number {
  const local = wallClock(tz, startMs);
  const wall = Date.UTC(local.year, local.month - 1, local.day) + (interval === 'week' ? 7 : 1) * DAY_MS;
  return instantAtWall(tz, wall);
}

/** The intervals covering [sinceMs, untilMs), the first and last cut to the window. */
export function intervals(
  tz: string,
  sinceMs: number,
  untilMs: number,
  interval: Interval,
): { startMs: number; endMs: number }[] {
  const found: { startMs: number; endMs: number }[] = [];
  let start = intervalStart(tz, sinceMs, interval);
  while (start < untilMs) {
    const end = nextStart(tz, start, interval);
    found.push({ startMs: Math.max(start, sinceMs), endMs: Math.min(end, untilMs) });
    start = end;
  }
  return found;
}
