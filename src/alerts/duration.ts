/**
 * Durations as Prometheus and Alertmanager write them (`30s`, `5m`, `4h`, `1h30m`, `2d`, `1w`,
 * `500ms`): units from largest to smallest, each at most once. `0` alone is zero.
 */
const UNITS: readonly (readonly [string, number])[] = [
  ['y', 365 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds of `text`, or undefined when it is not a duration. */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  if (text === '0') return 0;
  if (text === '') return undefined;
  const match = DURATION.exec(text);
  if (!match) return undefined;
  let total = 0;
  UNITS.forEach(([, ms], i) => {
    const value = match[i + 1];
    if (value !== undefined) total += Number(value) * ms;
  });
  return total;
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
