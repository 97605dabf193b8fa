/**
 * Webhook authentication by each tool's own mechanism (DESIGN.md §7). All comparisons are
 * constant-time over equal-length digests, so neither content nor length leaks through timing.
 */
import { createHmac, timingSafeEqual, createHash } from 'node:crypto';

function digest(text: string | Buffer): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time equality of two strings (compares their SHA-256 digests). */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function hmacHex(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/**
 * GitHub `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`. False when the header
 * is missing or malformed or the secret is empty.
 */
export function verifyGithubSignature(
  rawBody: Buffer | string,
  header: string | undefined,
  secret: string,
): boolean {
  if (typeof header !== 'string' || secret === '') return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return false;
  return sameText((m[1] ?? '').toLowerCase(), hmacHex(rawBody, secret));
}

/**
 * A shared secret sent verbatim (GitLab `X-Gitlab-Token`, a bearer token): constant-time
 * equality. An empty expected secret never matches.
 */
export function verifySharedToken(given: string | undefined, expected: string): boolean {
  if (typeof given !== 'string' || expected === '') return false;
  return sameText(given, expected);
}

/**
 * PagerDuty `X-PagerDuty-Signature: v1=<hex>,v1=<hex>` (several during a secret rotation):
 * true when any `v1=` value is the HMAC-SHA256 of the raw body. Every value is compared, so
 * the time taken does not tell which one matched.
 */
export function verifyPagerDutySignature(
  rawBody: Buffer | string,
  header: string | undefined,
  secret: string,
): boolean {
  if (typeof header !== 'string' || secret === '') return false;
  const expected = hmacHex(rawBody, secret);
  let ok = false;
  for (const part of header.split(',')) {
    const m = /^v1=([0-9a-fA-F]{64})$/.exec(part.trim());
    if (m && sameText((m[1] ?? '').toLowerCase(), expected)) ok = true;
  }
  return ok;
}

/**
 * Grafana alerting's optional HMAC: `X-Grafana-Alerting-Signature: <hex HMAC-SHA256>` (no
 * prefix) of the body, or of `<timestamp>:<body>` when Grafana is configured to send a
 * timestamp header.
 */
export function verifyGrafanaSignature(
  rawBody: Buffer,
  header: string | undefined,
  timestamp: string | undefined,
  secret: string,
): boolean {
  if (typeof header !== 'string' || secret === '') return false;
  const m = /^([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return false;
  const signed = timestamp === undefined ? rawBody : Buffer.concat([Buffer.from(`${timestamp}:`), rawBody]);
  return sameText((m[1] ?? '').toLowerCase(), hmacHex(signed, secret));
}
