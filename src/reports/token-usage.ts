/**
 * "Last used" and uses per day of every token, for the access review, without a write per
 * request: each authenticated request is counted in memory, and the counts are written in one
 * batch every `intervalMs` (default 30 s), before an access review is read, and when the
 * server closes. Each replica counts its own requests and adds them to the shared totals, so
 * nothing is lost or counted twice across replicas. A crash loses at most one interval of
 * counts (never a ledger entry: token use is telemetry, not an audit record).
 */
import type { ReportsRepository, TokenUse } from '../store/reports-repository.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface TokenUsageRecorder {
  /** Counts one use of the token at `atMs`. Synchronous and allocation-light: it runs on every request. */
  record(tokenId: string, atMs?: number): void;
  /** Writes the counts gathered so far. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left. */
  close(): Promise<void>;
}

export function createTokenUsageRecorder(
  reports: Pick<ReportsRepository, 'recordTokenUse'>,
  options: { intervalMs?: number; onError?: (error: Error) => void } = {},
): TokenUsageRecorder {
  let pending = new Map<string, { tokenId: string; day: number; uses: number; lastMs: number }>();
  let flushing: Promise<void> = Promise.resolve();
  const timer =
    options.intervalMs === 0
      ? undefined
      : setInterval(() => {
          flush().catch((error: unknown) => options.onError?.(error as Error));
        }, options.intervalMs ?? 30_000);
  timer?.unref();

  function flush(): Promise<void> {
    const batch = pending;
    pending = new Map();
    const uses: TokenUse[] = [...batch.values()];
    // One flush at a time, in order: counts are added, so order matters only for last use.
    // A failed flush must not fail the next one: its counts were put back.
    flushing = flushing
      .catch(() => undefined)
      .then(async () => {
        try {
          await reports.recordTokenUse(uses);
        } catch (error) {
          // Put the counts back for the next flush rather than lose them.
          for (const use of uses) add(use.tokenId, use.day, use.uses, use.lastMs);
          throw error;
        }
      });
    return flushing;
  }

  function add(tokenId: string, day: number, count: number, atMs: number): void {
    const key = `${tokenId} ${day}`;
    const entry = pending.get(key);
    if (entry) {
      entry.uses += count;
      if (atMs > entry.lastMs) entry.lastMs = atMs;
    } else {
      pending.set(key, { tokenId, day, uses: count, lastMs: atMs });
    }
  }

  return {
    record(tokenId, atMs = Date.now()) {
      add(tokenId, Math.floor(atMs / DAY_MS), 1, atMs);
    },
    flush,
    async close() {
      if (timer) clearInterval(timer);
      await flush();
    },
  };
}

/** The UTC day number of an instant. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}
