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

/** Resends spooled events; keeps those that still cannot be delivered. Returns how many were sent. */
export async function flushSpool(config: ClientConfig, warn: (line: string) => void): Promise<number> {
  let text: string;
  try {
    text = fs.readFileSync(config.spoolFile, 'utf8');
  } catch {
    return 0;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return 0;
  const events = lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      warn(`shiplog: dropping an unreadable spool line: ${line.slice(0, 80)}`);
      return [];
    }
  });
  try {
    for (let i = 0; i < events.length; i += 1000) {
      await request(config, 'POST', '/v1/events', { events: events.slice(i, i + 1000) });
    }
  } catch (error) {
    // Unreachable again: keep everything for next time. Rejected: the events will never be accepted.
    if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) {
      warn(`shiplog: the server rejected ${events.length} spooled event(s), dropping them: ${error.message}`);
      fs.rmSync(config.spoolFile, { force: true });
    }
    return 0;
  }
  fs.rmSync(config.spoolFile, { force: true });
  return events.length;
}
