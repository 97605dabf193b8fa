/**
 * Background work (checkpoints, forwarders, escalations, verification, retention) runs once per
 * deployment of shiplog, not once per replica (DESIGN.md §11): the replica that holds the lease
 * row `background` in the database runs it. The holder renews the lease every third of its
 * time to live; a replica that dies stops renewing, and another takes the lease over once it
 * has expired. A replica counts itself leader only until the expiry it last wrote, measured
 * from before it asked, so two replicas never both believe they lead (clocks agreeing to
 * within the time to live). On shutdown the leader gives the lease up at once.
 *
 * Tasks never overlap themselves: a task still running when its next turn comes skips the turn.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { LeasesRepository } from '../store/leases-repository.js';

export const LEASE_NAME = 'background';
export const DEFAULT_LEASE_TTL_MS = 15_000;

export interface LeaderOptions {
  /** Names this replica in the lease row; default a random id. */
  readonly holder?: string;
  /** How long a lease lasts without renewal; default {@link DEFAULT_LEASE_TTL_MS}. */
  readonly ttlMs?: number;
  readonly logger?: FastifyBaseLogger | undefined;
  readonly now?: () => number;
}

export interface Leader {
  /** This replica's name in the lease row. */
  readonly holder: string;
  /** Runs `task` every `intervalMs` while this replica leads. Register before or after start(). */
  every(name: string, intervalMs: number, task: () => Promise<void>): void;
  /** Whether this replica holds the lease now. */
  isLeader(): boolean;
  /** Takes or renews the lease once; true when this replica leads afterwards. */
  renew(): Promise<boolean>;
  /** Starts renewing the lease and the tasks' timers. */
  start(): void;
  /** Stops the timers, waits for running tasks and gives the lease up. */
  stop(): Promise<void>;
}

interface Task {
  readonly name: string;
  readonly intervalMs: number;
  readonly run: () => Promise<void>;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
}

export function createLeader(leases: LeasesRepository, options: LeaderOptions = {}): Leader {
  const holder = options.holder ?? randomUUID();
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const now = options.now ?? Date.now;
  const log = options.logger;
  const tasks: Task[] = [];
  let heldUntil = 0;
  let started = false;
  let renewTimer: NodeJS.Timeout | null = null;
  let renewing: Promise<boolean> | null = null;

  const isLeader = () => now() < heldUntil;

  const turn = (task: Task) => {
    if (task.running || !isLeader()) return;
    task.running = task
      .run()
      .catch((error: unknown) => log?.warn({ err: error, task: task.name }, 'background task failed'))
      .finally(() => {
        task.running = null;
      });
  };

  const schedule = (task: Task) => {
    task.timer = setInterval(() => turn(task), task.intervalMs);
    task.timer.unref();
  };

  const renew = () =>
    (renewing ??= (async () => {
      const asked = now();
      const wasLeader = isLeader();
      try {
        const held = await leases.acquire(LEASE_NAME, holder, ttlMs, asked);
        heldUntil = held ? asked + ttlMs : 0;
      } catch (error) {
        // Keep what is still valid of the last renewal; try again at the next turn.
        log?.warn({ err: error }, 'could not renew the background lease');
      }
      const leads = isLeader();
      if (leads !== wasLeader)
        log?.info({ holder, leader: leads }, leads ? 'leading background work' : 'no longer leading');
      return leads;
    })().finally(() => {
      renewing = null;
    }));

  return {
    holder,
    every(name, intervalMs, run) {
      const task: Task = { name, intervalMs, run, timer: null, running: null };
      tasks.push(task);
      if (started) schedule(task);
    },
    isLeader,
    renew,
    start() {
      if (started) return;
      started = true;
      void renew();
      renewTimer = setInterval(() => void renew(), Math.max(1, Math.floor(ttlMs / 3)));
      renewTimer.unref();
      for (const task of tasks) schedule(task);
    },
    async stop() {
      started = false;
      if (renewTimer) clearInterval(renewTimer);
      renewTimer = null;
      for (const task of tasks) if (task.timer) clearInterval(task.timer);
      await Promise.all(tasks.map((t) => t.running));
      await renewing;
      if (heldUntil > 0) {
        heldUntil = 0;
        await leases.release(LEASE_NAME, holder).catch((error: unknown) => {
          log?.warn({ err: error }, 'could not give up the background lease; it expires on its own');
        });
      }
    },
  };
}
