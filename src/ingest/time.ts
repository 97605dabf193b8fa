/**
 * Times as tools send them, turned into RFC 3339 UTC. GitLab writes `2021-04-28 21:50:00 +0200`
 * and `2016-08-12 15:23:28 UTC`; Jenkins sends epoch milliseconds; the rest send RFC 3339.
 */

const GITLAB_TIME =
  /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)\s*(UTC|GMT|Z|[+-]\d{2}:?\d{2})?$/i;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const MAX_EPOCH_MS = 8.64e15;

/**
 * An RFC 3339 / GitLab time string → RFC 3339 UTC (`...Z`, milliseconds only when non-zero), or
 * `undefined` when it is not a time. A string without a zone is read as UTC.
 */
export function toRfc3339(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  let iso: string | undefined;
  if (RFC3339.test(text)) iso = text.replace(' ', 'T');
  else {
    const m = GITLAB_TIME.exec(text);
    if (!m) return undefined;
    const [, date = '', clock = '', offset] = m;
    const zone =
      offset === undefined || /^(utc|gmt|z)$/i.test(offset)
        ? 'Z'
        : offset.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
    iso = `${date}T${clock.length === 5 ? `${clock}:00` : clock}${zone}`;
  }
  return fromEpochMs(Date.parse(iso));
}

/** Epoch milliseconds → RFC 3339 UTC, or `undefined` when out of range. */
export function fromEpochMs(ms: unknown): string | undefined {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_EPOCH_MS) return undefined;
  const d = new Date(Math.trunc(ms));
  if (d.getUTCFullYear() > 9999) return undefined;
  return d.toISOString().replace('.000Z', 'Z');
}
