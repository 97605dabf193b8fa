/**
 * Wall-clock arithmetic in IANA time zones with nothing but Intl (Node ships full ICU).
 * An instant's local date and time come from `Intl.DateTimeFormat#formatToParts`, one cached
 * formatter per zone. The way back, local wall time to instant, follows RFC 9557 / Temporal's
 * "compatible" disambiguation: a time that happens twice (autumn fall-back) maps to its first
 * occurrence, a time that never happens (spring gap) to the first instant after the gap.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The local calendar date and time of an instant in one zone. */
export interface WallClock {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number; // 1-31
  /** 0 = Monday ... 6 = Sunday (ISO 8601). */
  readonly weekday: number;
  /** Minutes after local midnight, 0-1439. */
  readonly minuteOfDay: number;
  /** The local date and time encoded as if it were UTC: comparable, and `Date.UTC`-compatible. */
  readonly wallMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True when Intl knows the zone (`Europe/Berlin`, `UTC`); false for `Mars/Olympus`. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local date and time of `instantMs` in `timeZone`. Throws RangeError on an unknown zone. */
export function wallClock(timeZone: string, instantMs: number): WallClock {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instantMs)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const year = fields.year ?? 1970;
  const month = fields.month ?? 1;
  const day = fields.day ?? 1;
  const hour = fields.hour ?? 0;
  const minute = fields.minute ?? 0;
  const second = fields.second ?? 0;
  const millis = ((instantMs % 1000) + 1000) % 1000;
  const wallMs = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  return { year, month, day, weekday: isoWeekday(wallMs), minuteOfDay: hour * 60 + minute, wallMs };
}

/** 0 = Monday ... 6 = Sunday of a `wallMs`-style value. */
function isoWeekday(wallMs: number): number {
  return (new Date(wallMs).getUTCDay() + 6) % 7;
}

function offsetAt(timeZone: string, instantMs: number): number {
  return wallClock(timeZone, instantMs).wallMs - instantMs;
}

/**
 * The earliest instant whose local wall clock in `timeZone` reads `wallMs` or later (`wallMs`
 * built with `Date.UTC(y, m - 1, d, h, min)`). Equal to the wall time when it exists once; its
 * first occurrence when it exists twice; the end of the gap when it does not exist.
 */
export function instantAtWall(timeZone: string, wallMs: number): number {
  const offsetBefore = offsetAt(timeZone, wallMs - DAY_MS);
  const offsetAfter = offsetAt(timeZone, wallMs + DAY_MS);
  const exact = [wallMs - offsetBefore, wallMs - offsetAfter]
    .filter((instant) => wallClock(timeZone, instant).wallMs === wallMs)
    .sort((a, b) => a - b);
  if (exact[0] !== undefined) return exact[0];
  // In a gap: the local clock jumps over wallMs between these two instants.
  let lo = Math.min(wallMs - offsetBefore, wallMs - offsetAfter);
  let hi = Math.max(wallMs - offsetBefore, wallMs - offsetAfter);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClock(timeZone, mid).wallMs >= wallMs) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** `Mon 2026-11-30 09:00 Europe/Berlin`: how deny messages name a local moment. */
export function formatLocal(timeZone: string, instantMs: number): string {
  const local = wallClock(timeZone, instantMs);
  const day = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][local.weekday] ?? '';
  const date = new Date(local.wallMs - (local.wallMs % MINUTE_MS))
    .toISOString()
    .slice(0, 16)
    .replace('T', ' ');
  return `${day} ${date} ${timeZone}`;
}
