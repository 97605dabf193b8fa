/**
 * Checks of the `freezes:` list: each freeze against the shape of its own kind (fixed, yearly
 * or weekly, told apart by `every`), then what it means (real days, `from` before `to`), then
 * overlaps between freezes, which are almost always a copy-paste mistake.
 */
import { Compile } from 'typebox/compile';
import { instantAtWall } from './local-time.js';
import {
  checkTimeZone,
  isRecord,
  pointerSegments,
  schemaProblem,
  type ConfigPath,
  type PolicyProblem,
} from './policy-problems.js';
import { FixedFreezeSchema, WeeklyFreezeSchema, YearlyFreezeSchema } from './policy-schema.js';
import { minuteOfWeek, monthDay } from './windows.js';

const freezeChecks = {
  fixed: Compile(FixedFreezeSchema),
  year: Compile(YearlyFreezeSchema),
  week: Compile(WeeklyFreezeSchema),
};

interface FreezeSpan {
  readonly index: number;
  /** Spans compare only within one domain: instants, or one zone's weekly wall time. */
  readonly domain: string;
  readonly reason: string;
  readonly intervals: readonly (readonly [number, number])[];
}

/** Every problem with one environment's `freezes:` list at `path`. */
export function checkFreezes(freezes: unknown[], path: ConfigPath): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const spans: FreezeSpan[] = [];
  freezes.forEach((freeze, index) => {
    const at = [...path, index];
    if (!isRecord(freeze)) {
      problems.push({ path: at, message: 'must be a mapping' });
      return;
    }
    const kind = freeze.every === undefined ? 'fixed' : freeze.every;
    if (kind !== 'fixed' && kind !== 'year' && kind !== 'week') {
      problems.push({
        path: [...at, 'every'],
        message: 'must be `year` or `week` (or absent for a fixed freeze)',
      });
      return;
    }
    const own: PolicyProblem[] = [];
    for (const error of freezeChecks[kind].Errors(freeze)) {
      own.push(...schemaProblem([...at, ...pointerSegments(error.instancePath)], error));
    }
    // Unknown keys aside, a well-shaped freeze is also checked for what it means.
    if (own.every((problem) => problem.atKey === true)) {
      own.push(...checkFreezeMeaning(freeze, kind, at, index, spans));
    }
    problems.push(...own);
  });
  for (let i = 0; i < spans.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = spans[j];
      const b = spans[i];
      if (a && b && a.domain === b.domain && overlaps(a.intervals, b.intervals)) {
        problems.push({
          path: [...path, b.index],
          message: `overlaps freezes[${a.index}] ("${a.reason}"): merge them into one freeze`,
        });
      }
    }
  }
  return problems;
}

/** Checks one well-shaped freeze and, when it is sound, records the intervals it covers. */
function checkFreezeMeaning(
  freeze: Record<string, unknown>,
  kind: 'fixed' | 'year' | 'week',
  at: ConfigPath,
  index: number,
  spans: FreezeSpan[],
): PolicyProblem[] {
  const from = String(freeze.from);
  const to = String(freeze.to);
  const reason = String(freeze.reason);
  if (kind === 'fixed') {
    const problems: PolicyProblem[] = [];
    const fromMs = parseInstant(from);
    const toMs = parseInstant(to);
    if (fromMs === undefined) problems.push({ path: [...at, 'from'], message: RFC3339_MESSAGE });
    if (toMs === undefined) problems.push({ path: [...at, 'to'], message: RFC3339_MESSAGE });
    if (fromMs !== undefined && toMs !== undefined) {
      if (fromMs >= toMs)
        problems.push({ path: [...at, 'to'], message: `must be later than \`from\` (${from})` });
      else spans.push({ index, reason, domain: 'instant', intervals: [[fromMs, toMs]] });
    }
    return problems;
  }
  const problems = checkTimeZone(freeze.timezone, at);
  if (from === to) problems.push({ path: [...at, 'to'], message: 'must differ from `from`' });
  if (kind === 'year') {
    const [fromMonth, fromDay] = monthDay(from);
    const [toMonth, toDay] = monthDay(to);
    if (fromDay > daysIn(fromMonth))
      problems.push({ path: [...at, 'from'], message: `${from} is not a day of the year` });
    if (toDay > daysIn(toMonth))
      problems.push({ path: [...at, 'to'], message: `${to} is not a day of the year` });
  }
  if (problems.length === 0) {
    const zone = String(freeze.timezone);
    const domain = kind === 'week' ? `week:${zone}` : 'instant';
    spans.push({ index, reason, domain, intervals: recurringIntervals(freeze, kind, zone) });
  }
  return problems;
}

const RFC3339_MESSAGE = 'must be an RFC 3339 instant with an offset, e.g. 2026-12-20T00:00:00Z';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function parseInstant(text: string): number | undefined {
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Feb 29 is allowed: in other years a freeze from 02-29 starts on 03-01. */
function daysIn(month: number): number {
  return [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 31;
}

/**
 * Concrete occurrences of a recurring freeze over a span long enough to meet any other freeze
 * it could overlap: yearly ones as instants from 2000 to 2100, weekly ones as minutes of two
 * consecutive weeks of wall time (compared only with weekly freezes in the same zone).
 */
function recurringIntervals(
  freeze: Record<string, unknown>,
  kind: 'year' | 'week',
  zone: string,
): [number, number][] {
  if (kind === 'week') {
    const from = minuteOfWeek(String(freeze.from));
    const to = minuteOfWeek(String(freeze.to));
    const end = from < to ? to : to + 10_080;
    return [0, 1].map((week): [number, number] => [from + week * 10_080, end + week * 10_080]);
  }
  const [fromMonth, fromDay] = monthDay(String(freeze.from));
  const [toMonth, toDay] = monthDay(String(freeze.to));
  const crossesYear = fromMonth * 100 + fromDay > toMonth * 100 + toDay;
  const intervals: [number, number][] = [];
  for (let year = 2000; year <= 2100; year++) {
    intervals.push([
      instantAtWall(zone, Date.UTC(year, fromMonth - 1, fromDay)),
      instantAtWall(zone, Date.UTC(crossesYear ? year + 1 : year, toMonth - 1, toDay)),
    ]);
  }
  return intervals;
}

function overlaps(
  a: readonly (readonly [number, number])[],
  b: readonly (readonly [number, number])[],
): boolean {
  return a.some(([aFrom, aTo]) => b.some(([bFrom, bTo]) => aFrom < bTo && bFrom < aTo));
}
