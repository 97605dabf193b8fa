/**
 * Group commit: items submitted while a transaction is in flight are committed together in the
 * next one, and each submitter is answered only after that commit. A group starts on
 * `setImmediate`, after the event loop's poll phase, so every request whose bytes arrived
 * meanwhile has been parsed and queued by then (SQLite transactions run synchronously: started
 * at once, each would commit alone). If a shared transaction fails, each item of the group is
 * retried alone, so one bad item cannot fail the others.
 */
import type { Transaction } from 'kysely';
import type { Store } from './database.js';
import type { Database } from './schema.js';

/** The outcome of one item: its result, or the error to answer it with. */
export type Settled<R> = { readonly value: R } | { readonly error: unknown };

export interface GroupCommit<T, R> {
  submit(item: T): Promise<R>;
  /** Resolves when every item submitted so far is committed. */
  drain(): Promise<void>;
}

export interface GroupCommitOptions<T> {
  /** How much an item weighs against `maxWeight` (default 1). */
  readonly weight?: (item: T) => number;
  /** The most weight in one transaction (default 5000). */
  readonly maxWeight?: number;
  /**
   * Called once a group's transaction has committed, before its submitters are answered (so
   * what it starts reads committed rows on every database, PostgreSQL's other pool
   * connections included). Groups commit one at a time, in order.
   */
  readonly afterCommit?: () => void;
}

interface Pending<T, R> {
  readonly item: T;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

export function createGroupCommit<T, R>(
  store: Store,
  commit: (trx: Transaction<Database>, items: readonly T[]) => Promise<Settled<R>[]>,
  options: GroupCommitOptions<T> = {},
): GroupCommit<T, R> {
  const weight = options.weight ?? (() => 1);
  const maxWeight = options.maxWeight ?? 5000;
  let queue: Pending<T, R>[] = [];
  let running: Promise<void> | null = null;

  async function loop(): Promise<void> {
    while (queue.length > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      let total = 0;
      let take = 0;
      while (take < queue.length) {
        const next = weight((queue[take] as Pending<T, R>).item);
        if (take > 0 && total + next > maxWeight) break;
        total += next;
        take += 1;
      }
      const group = queue.slice(0, take);
      queue = queue.slice(take);
      await commitGroup(group);
    }
  }

  async function commitGroup(group: Pending<T, R>[]): Promise<void> {
    try {
      const outcomes = await store.writeTransaction((trx) =>
        commit(
          trx,
          group.map((p) => p.item),
        ),
      );
      options.afterCommit?.();
      outcomes.forEach((outcome, i) => {
        const pending = group[i] as Pending<T, R>;
        if ('error' in outcome) pending.reject(outcome.error);
        else pending.resolve(outcome.value);
      });
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      for (const pending of group) await commitGroup([pending]);
    }
  }

  /**
   * Starts the loop unless it runs. An item can be queued after the loop saw an empty queue but
   * before its promise settled (a submitter answered by the last group resubmits at once): the
   * loop is then started again, so that item is never stranded.
   */
  function kick(): void {
    running ??= loop().finally(() => {
      running = null;
      if (queue.length > 0) kick();
    });
  }

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        kick();
      });
    },
    async drain() {
      while (running) await running;
    },
  };
}
