/**
 * The one duration syntax of shiplog.yaml, flags and environment variables: Prometheus's
 * (`500ms`, `30s`, `5m`, `4h`, `1h30m`, `7d`, `2w`, `7y`), units from largest to smallest, each at
 * most once; `0` alone is zero. A year counts 366 days, so a retention of `7y` never falls short of
 * seven calendar years. Callers decide whether zero is allowed.
 */
const UNITS: readonly (readonly [string, number])[] = [
  ['y', 366 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** The syntax as a regular expression source, for JSON Schemas (`0`, or at least one unit). */
export const DURATION_PATTERN =
  '^\\s*(?:0|(?=\\d)(?:\\d+y)?(?:\\d+w)?(?:\\d+d)?(?:\\d+h)?(?:\\d+m)?(?:\\d+s)?(?:\\d+ms)?)\\s*$';

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds of `text`, or undefined when it is not a duration. */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (trimmed === '') return undefined;
  const match = DURATION.exec(trimmed);
  if (!match) return undefined;
  let total = 0;
  UNITS.forEach(([, ms], i) => {
    const value = match[i + 1];
    if (value !== undefined) total += Number(value) * ms;
  });
  return Number.isSafeInteger(total) ? total : undefined;
}

/** The message for a value that is not a duration. */
export const DURATION_MESSAGE = 'must be a duration like 30s, 5m, 4h or 1h30m';

/** `90000` → `1m30s`, for messages and docs. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of UNITS) {
    if (unit === 'y' || unit === 'w') continue;
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
