/**
 * The durable write path for events, with group commit: submissions that arrive while a
 * transaction is in flight wait and are then committed together in the next one, each answered
 * only after its commit. A group is a plan, then I/O: the writer reads the stored facts the
 * group touches, hands them to the pure planner (src/domain/write-plan.ts), and writes what the
 * plan says set-wise (a handful of multi-row statements, not a handful per event). An event, the
 * deployment state it changes, the environment summary, the source's clock skew and the ledger
 * entry commit in one transaction. The event's entry bytes are stored once, in `events.body`;
 * its ledger row keeps the leaf hash.
 */
import type { Transaction } from 'kysely';
import type { DeploymentRow } from '../domain/deployment-row.js';
import { createHybridLogicalClock, formatHlc, type HybridLogicalClock } from '../domain/hlc.js';
import {
  planSubmissions,
  scopedId,
  type KnownEvent,
  type SourceDelta,
  type StoredEvent,
  type Submission,
} from '../domain/write-plan.js';
import { ShiplogError } from '../errors.js';
import { canonicalJson } from '../ledger/jcs.js';
import type { Store } from './database.js';
import { bulkWrite, inList } from './bulk-write.js';
import { createGroupCommit, type Settled } from './group-commit.js';
import { updateEnvironments } from './environments-summary.js';
import type { Database, EventsTable, SourcesTable } from './schema.js';

export type { StoredEvent, Submission };

export interface EventResult {
  readonly id: string;
  readonly status: 'stored' | 'duplicate';
  readonly ledgerIndex: number | null;
}

/** Appends ledger entries inside the caller's transaction; returns the index of the first. */
export interface LedgerAppender {
  /**
   * `recordType`, when every entry has the same one, spares parsing each entry for it. With
   * `external`, the entry bytes are stored by the caller (events.body) and only hashed here.
   */
  append(
    trx: Transaction<Database>,
    entries: readonly string[],
    recordType?: string,
    external?: boolean,
  ): Promise<number>;
}

export interface EventWriter {
  write(submission: Submission): Promise<EventResult[]>;
  /** Resolves when every submission so far is committed. */
  drain(): Promise<void>;
}

export interface EventWriterOptions {
  readonly ledger?: LedgerAppender | undefined;
  readonly clock?: HybridLogicalClock;
  readonly now?: () => number;
  /** Most events in one group transaction. */
  readonly maxGroupEvents?: number;
  /** Called after each group's transaction has committed (metrics, live updates, alerts). */
  readonly onCommit?: (stored: readonly StoredEvent[]) => void;
}

export function createEventWriter(store: Store, options: EventWriterOptions = {}): EventWriter {
  const clock = options.clock ?? createHybridLogicalClock();
  const now = options.now ?? Date.now;
  const stamp = (timeMs: number) => formatHlc(clock.receive(timeMs));
  /** What the transaction in flight stores; handed to onCommit once it has committed. */
  let staged: StoredEvent[] = [];
  const group = createGroupCommit<Submission, EventResult[]>(store, writeGroup, {
    weight: (submission) => submission.events.length,
    maxWeight: options.maxGroupEvents ?? 5000,
    afterCommit: function committed() {
      const stored = staged;
      staged = [];
      if (stored.length > 0 && options.onCommit) queueMicrotask(() => options.onCommit?.(stored));
    },
  });

  async function writeGroup(
    trx: Transaction<Database>,
    submissions: readonly Submission[],
  ): Promise<Settled<EventResult[]>[]> {
    // A group retried item by item after a failure starts over: only committed work is told.
    staged = [];
    const facts = await readFacts(trx, submissions);
    const plan = planSubmissions(submissions, facts, stamp, now());

    const rows: Omit<EventsTable, 'seq'>[] = plan.events.map((e) => ({
      id: e.id,
      scope: e.scope,
      deployment: e.deployment,
      type: e.type,
      time_ms: e.timeMs,
      received_ms: e.receivedMs,
      hlc: e.hlc,
      source: e.source,
      body: canonicalJson(e.record),
      ledger_index: null,
    }));
    if (rows.length > 0) {
      if (options.ledger) {
        const bodies = rows.map((r) => r.body);
        const first = await options.ledger.append(trx, bodies, 'event', true);
        rows.forEach((r, i) => (r.ledger_index = first + i));
      }
      await bulkWrite(trx, store.dialect, 'events', EVENT_COLUMNS, rows);
      await upsertDeployments(trx, store.dialect, [...plan.deployments.values()]);
      await updateEnvironments(trx, store.dialect, facts.deployments, plan.deployments);
      await upsertSources(trx, store.dialect, plan.sources);
    }
    staged = plan.stored;
    return plan.outcomes.map((outcome) =>
      'rejected' in outcome
        ? {
            error: new ShiplogError(
              outcome.rejected.code,
              outcome.rejected.message,
              outcome.rejected.details,
            ),
          }
        : {
            value: outcome.results.map((r) => ({
              id: r.id,
              status: r.status,
              ledgerIndex: 'planned' in r ? (rows[r.planned]?.ledger_index ?? null) : r.ledgerIndex,
            })),
          },
    );
  }

  /** The stored facts a group's plan needs: the ids it reuses and the deployments it touches. */
  async function readFacts(trx: Transaction<Database>, submissions: readonly Submission[]) {
    const ids = new Set<string>();
    const keys = new Set<string>();
    for (const s of submissions) {
      for (const e of s.events) {
        ids.add(e.id);
        keys.add(e.deployment);
      }
    }
    const events = new Map<string, KnownEvent>();
    const known = await trx
      .selectFrom('events')
      .select(['id', 'scope', 'type', 'deployment', 'ledger_index'])
      .where(inList(store.dialect, 'id', [...ids]))
      .execute();
    for (const row of known) {
      events.set(scopedId(row.scope, row.id), {
        type: row.type,
        deployment: row.deployment,
        ledgerIndex: row.ledger_index,
      });
    }
    const deployments = new Map<string, DeploymentRow>();
    const rows = await trx
      .selectFrom('deployments')
      .selectAll()
      .where(inList(store.dialect, 'deployment', [...keys]))
      .execute();
    for (const row of rows) deployments.set(row.deployment, row);
    return { events, deployments };
  }

  return { write: (submission) => group.submit(submission), drain: () => group.drain() };
}

const EVENT_COLUMNS = [
  'id',
  'scope',
  'deployment',
  'type',
  'time_ms',
  'received_ms',
  'hlc',
  'source',
  'body',
  'ledger_index',
] as const;

async function upsertDeployments(
  trx: Transaction<Database>,
  dialect: Store['dialect'],
  rows: DeploymentRow[],
): Promise<void> {
  await bulkWrite(trx, dialect, 'deployments', DEPLOYMENT_COLUMNS, rows, {
    target: ['deployment'],
    update: DEPLOYMENT_COLUMNS.filter((c) => c !== 'deployment'),
  });
}

/** Every column of a deployment row, so each row writes all of them in one order. */
const DEPLOYMENT_COLUMNS = Object.keys({
  deployment: 0,
  service: 0,
  environment: 0,
  region: 0,
  instance: 0,
  cohort: 0,
  traffic: 0,
  kind: 0,
  version: 0,
  commit_sha: 0,
  actor: 0,
  ticket: 0,
  build_id: 0,
  build_url: 0,
  build_provider: 0,
  labels: 0,
  status: 0,
  head_type: 0,
  head_ms: 0,
  head_hlc: 0,
  terminal_type: 0,
  terminal_ms: 0,
  terminal_hlc: 0,
  desc_type: 0,
  desc_ms: 0,
  desc_hlc: 0,
  requested_ms: 0,
  started_ms: 0,
  finished_ms: 0,
  rolled_back_ms: 0,
  duration_ms: 0,
  approved: 0,
  sort_ms: 0,
  updated_ms: 0,
  event_count: 0,
} satisfies Record<keyof DeploymentRow, 0>) as (keyof DeploymentRow)[];

async function upsertSources(
  trx: Transaction<Database>,
  dialect: Store['dialect'],
  stats: Map<string, SourceDelta>,
): Promise<void> {
  if (stats.size === 0) return;
  const current = new Map(
    (
      await trx
        .selectFrom('sources')
        .selectAll()
        .where(inList(dialect, 'source', [...stats.keys()]))
        .execute()
    ).map((r) => [r.source, r]),
  );
  const rows: SourcesTable[] = [...stats].map(([source, delta]) => {
    const row = current.get(source);
    let min = row?.skew_min_ms ?? null;
    let max = row?.skew_max_ms ?? null;
    let sum = row?.skew_sum_ms ?? 0;
    for (const s of delta.skew) {
      min = min === null ? s : Math.min(min, s);
      max = max === null ? s : Math.max(max, s);
      sum += s;
    }
    return {
      source,
      events: (row?.events ?? 0) + delta.events,
      skew_count: (row?.skew_count ?? 0) + delta.skew.length,
      skew_sum_ms: sum,
      skew_min_ms: min,
      skew_max_ms: max,
      skew_last_ms: delta.skew.at(-1) ?? row?.skew_last_ms ?? null,
      last_seen_ms: delta.lastSeen,
    };
  });
  await bulkWrite(trx, dialect, 'sources', SOURCE_COLUMNS, rows, {
    target: ['source'],
    update: SOURCE_COLUMNS.slice(1),
  });
}

const SOURCE_COLUMNS = [
  'source',
  'events',
  'skew_count',
  'skew_sum_ms',
  'skew_min_ms',
  'skew_max_ms',
  'skew_last_ms',
  'last_seen_ms',
] as const;
