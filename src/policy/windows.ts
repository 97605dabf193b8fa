/**
 * Change windows and freezes, evaluated on the local wall clock of their own time zone. A
 * window `09:00`-`16:00` is open while the clock on the wall in that zone reads 09:00 to
 * 15:59, whatever the UTC offset is that day; so across a DST change a window lasts one hour
 * more or less in real time, and a boundary that falls into the spring-forward gap takes
 * effect at the end of the gap (see docs/governance.md, "Time zones and DST").
 */
import type { ChangeWindow, Freeze, WeeklyFreeze, YearlyFreeze } from './policy-schema.js';
import { WEEKDAYS, minutesOfDay } from './policy-schema.js';
import { instantAtWall, wallClock, type WallClock } from './local-time.js';

const DAY_MINUTES = 1440;
const WEEK_MINUTES = 7 * DAY_MINUTES;

/**
 * True when `instantMs` is inside the window: on one of its `days`, local time in
 * [`from`, `to`). When `to` is earlier than `from` the window runs overnight: it opens on the
 * listed day at `from` and closes at `to` on the following day.
 */
export function isInsideWindow(window: ChangeWindow, instantMs: number): boolean {
  const local = wallClock(window.timezone, instantMs);
  const from = minutesOfDay(window.from);
  const to = minutesOfDay(window.to);
  const opensOn = (weekday: number) => window.days.some((day) => WEEKDAYS.indexOf(day) === weekday);
  if (from < to) return opensOn(local.weekday) && local.minuteOfDay >= from && local.minuteOfDay < to;
  const yesterday = (local.weekday + 6) % 7;
  return (
    (opensOn(local.weekday) && local.minuteOfDay >= from) || (opensOn(yesterday) && local.minuteOfDay < to)
  );
}

/** A freeze in force at some instant, and when it ends. */
export interface ActiveFreeze {
  readonly freeze: Freeze;
  /** The first instant after the freeze (its `to`, exclusive). */
  readonly untilMs: number;
}

/**
 * The freeze in force at `instantMs`, or undefined. When several are, the one that lasts
 * longest, so "frozen until" names the real end.
 */
export function activeFreeze(freezes: readonly Freeze[], instantMs: number): ActiveFreeze | undefined {
  let found: ActiveFreeze | undefined;
  for (const freeze of freezes) {
    const untilMs = freezeEnd(freeze, instantMs);
    if (untilMs !== undefined && (found === undefined || untilMs > found.untilMs))
      found = { freeze, untilMs };
  }
  return found;
}

/** The end of `freeze` if it is in force at `instantMs`, else undefined. */
function freezeEnd(freeze: Freeze, instantMs: number): number | undefined {
  if (!('every' in freeze)) {
    const from = Date.parse(freeze.from);
    const to = Date.parse(freeze.to);
    return instantMs >= from && instantMs < to ? to : undefined;
  }
  const local = wallClock(freeze.timezone, instantMs);
  return freeze.every === 'year' ? yearlyEnd(freeze, local) : weeklyEnd(freeze, local);
}

function yearlyEnd(freeze: YearlyFreeze, local: WallClock): number | undefined {
  const [fromMonth, fromDay] = monthDay(freeze.from);
  const [toMonth, toDay] = monthDay(freeze.to);
  const today = local.month * 100 + local.day;
  const from = fromMonth * 100 + fromDay;
  const to = toMonth * 100 + toDay;
  const inside = from < to ? today >= from && today < to : today >= from || today < to;
  if (!inside) return undefined;
  const endYear = from > to && today >= from ? local.year + 1 : local.year;
  return instantAtWall(freeze.timezone, Date.UTC(endYear, toMonth - 1, toDay));
}

function weeklyEnd(freeze: WeeklyFreeze, local: WallClock): number | undefined {
  const now = local.weekday * DAY_MINUTES + local.minuteOfDay;
  const from = minuteOfWeek(freeze.from);
  const to = minuteOfWeek(freeze.to);
  const inside = from < to ? now >= from && now < to : now >= from || now < to;
  if (!inside) return undefined;
  const minutesLeft = (((to - now) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
  const startOfMinute = local.wallMs - (local.wallMs % 60_000);
  return instantAtWall(freeze.timezone, startOfMinute + minutesLeft * 60_000);
}

/** `12-20` to [12, 20]. */
export function monthDay(text: string): [number, number] {
  const [month = '1', day = '1'] = text.split('-');
  return [Number(month), Number(day)];
}

/** `fri 18:00` to minutes after Monday 00:00. */
export function minuteOfWeek(text: string): number {
  const [day = 'mon', time = '00:00'] = text.split(' ');
  return WEEKDAYS.indexOf(day as (typeof WEEKDAYS)[number]) * DAY_MINUTES + minutesOfDay(time);
}

/** When the next window opens, and which one. */
export interface WindowOpening {
  readonly atMs: number;
  readonly window: ChangeWindow;
}

/**
 * The first instant after `instantMs` at which one of `windows` opens, for deny messages
 * ("next window opens Mon 2026-11-30 09:00 Europe/Berlin"); undefined when there are none. An
 * opening time inside a spring-forward gap opens at the end of the gap; one that happens twice
 * opens at its first occurrence.
 */
export function nextWindowOpening(
  windows: readonly ChangeWindow[],
  instantMs: number,
): WindowOpening | undefined {
  let next: WindowOpening | undefined;
  for (const window of windows) {
    const local = wallClock(window.timezone, instantMs);
    const midnight = Date.UTC(local.year, local.month - 1, local.day);
    const from = minutesOfDay(window.from);
    for (let ahead = 0; ahead <= 7; ahead++) {
      const weekday = WEEKDAYS[(local.weekday + ahead) % 7];
      if (weekday === undefined || !window.days.includes(weekday)) continue;
      const atMs = instantAtWall(window.timezone, midnight + ahead * 86_400_000 + from * 60_000);
      if (atMs <= instantMs) continue;
      if (next === undefined || atMs < next.atMs) next = { atMs, window };
      break;
    }
  }
  return next;
}
