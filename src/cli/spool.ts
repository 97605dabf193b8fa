/**
 * The local spool of `shiplog run`: events that could not be sent are appended to a JSON-lines
 * file and resent (idempotently, they carry their ids) at the start of the next call.
 */
import fs from 'node:fs';
import type { ClientConfig } from '../config.js';
import { ApiError, request } from './client.js';

export function spool(config: ClientConfig, event: Record<string, unknown>): void {
  fs.appendFileSync(config.spoolFile, `${JSON.stringify(event)}\n`, { mode: 0o600 });
}

/**
 * Statuses that reject the events themselves: resending them will never help. Anything else
 * (no answer, 401/403 a wrong or revoked token, 404 a wrong URL, 408, 429, 5xx) says nothing
 * about the events, so they stay spooled for the next call.
 */
const PERMANENT = new Set([400, 409, 413, 415, 422]);

const isPermanent = (error: unknown): error is ApiError =>
  error instanceof ApiError && PERMANENT.has(error.status);

/** Where events the server rejected for good are moved: beside the spool, never deleted. */
export function rejectedFile(config: ClientConfig): string {
  return `${config.spoolFile}.rejected`;
}

/**
 * Resends spooled events. Those the server rejects for good are moved to
 * {@link rejectedFile} (with the reason) and named in a warning; all others that could not be
 * sent stay spooled. Returns how many were sent.
 */
export async function flushSpool(config: ClientConfig, warn: (line: string) => void): Promise<number> {
  let text: string;
  try {
    text = fs.readFileSync(config.spoolFile, 'utf8');
  } catch {
    return 0;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return 0;
  const events: Record<string, unknown>[] = [];
  const rejected: { event: unknown; reason: string }[] = [];
  for (const line of lines) {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      rejected.push({ event: line, reason: 'not a JSON line' });
    }
  }
  const send = (batch: Record<string, unknown>[]) =>
    request(config, 'POST', '/v1/events', batch.length === 1 ? batch[0] : { events: batch });
  let sent = 0;
  let kept: Record<string, unknown>[] = [];
  let failure: unknown;
  for (let i = 0; i < events.length && failure === undefined; i += 1000) {
    const batch = events.slice(i, i + 1000);
    try {
      await send(batch);
      sent += batch.length;
      continue;
    } catch (error) {
      if (!isPermanent(error)) {
        failure = error;
        kept = events.slice(i);
        break;
      }
    }
    // A batch is atomic: one bad event refuses all of them, so find which one by one.
    for (const [j, event] of batch.entries()) {
      try {
        await send([event]);
        sent++;
      } catch (error) {
        if (isPermanent(error)) {
          rejected.push({ event, reason: error.message });
        } else {
          failure = error;
          kept = [...batch.slice(j), ...events.slice(i + batch.length)];
          break;
        }
      }
    }
  }
  if (rejected.length > 0) {
    const file = rejectedFile(config);
    fs.appendFileSync(file, rejected.map((r) => `${JSON.stringify(r)}\n`).join(''), { mode: 0o600 });
    warn(
      `shiplog: the server rejected ${rejected.length} spooled event(s) for good; moved them to ${file} (${rejected[0]?.reason ?? ''})`,
    );
  }
  if (kept.length > 0) {
    fs.writeFileSync(config.spoolFile, kept.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
    warn(
      `shiplog: kept ${kept.length} spooled event(s) in ${config.spoolFile} for the next call: ${(failure as Error).message}`,
    );
  } else {
    fs.rmSync(config.spoolFile, { force: true });
  }
  return sent;
}
