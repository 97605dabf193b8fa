/**
 * The durable write path for events, with group commit: submissions that arrive while a
 * transaction is in flight wait and are then committed together in the next one, each answered
 * only after its commit. Every group is written set-wise (a handful of multi-row statements,
 * not a handful per event), and an event, the deployment state it changes, the environment
 * summary, the source's clock skew and the ledger entry commit in one transaction.
 */
import type { Transaction } from 'kysely';
import type { DeploymentEvent } from '../domain/event.js';
import { createHybridLogicalClock, formatHlc, type HybridLogicalClock } from '../domain/hlc.js';
import { ShiplogError, type ErrorDetail } from '../errors.js';
import type { Store } from './database.js';
import { applyToRow, type DeploymentRow } from './deployment-row.js';
import { bulkWrite } from './bulk-write.js';
import { createGroupCommit, type Settled } from './group-commit.js';
import { updateEnvironments } from './environments-summary.js';
import { canonicalJson, toEventRecord } from './event-record.js';
import type { Database, EventsTable, SourcesTable } from './schema.js';

export interface Submission {
  readonly events: readonly DeploymentEvent[];
  /** Who sent it: the token's name, or `webhook:<source>`. */
  readonly source: string;
  readonly receivedMs: number;
  /** Per event: whether the sender gave a time (only those measure clock skew). */
  readonly timed: readonly boolean[];
  /** JSON pointer prefix of each event in the request, for error details. */
  readonly pointers: readonly string[];
}

export interface EventResult {
  readonly id: string;
  readonly status: 'stored' | 'duplicate';
  readonly ledgerIndex: number | null;
}

/** Appends ledger entries inside the caller's transaction; returns the index of the first. */
export interface LedgerAppender {
  /** `recordType`, when every entry has the same one, spares parsing each entry for it. */
  append(trx: Transaction<Database>, entries: readonly string[], recordType?: string): Promise<number>;
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
  /** Called after each committed group (metrics, live updates). */
  readonly onCommit?: (stored: readonly StoredEvent[]) => void;
}

export interface StoredEvent {
  readonly event: DeploymentEvent;
  readonly source: string;
  readonly status: string;
}

const CHUNK = 500;

export function createEventWriter(store: Store, options: EventWriterOptions = {}): EventWriter {
  const clock = options.clock ?? createHybridLogicalClock();
  const now = options.now ?? Date.now;
  const group = createGroupCommit<Submission, EventResult[]>(
    store,
    (trx, submissions) => writeGroup(trx, submissions),
    {
      weight: (submission) => submission.events.length,
      maxWeight: options.maxGroupEvents ?? 5000,
    },
  );

  async function writeGroup(
    trx: Transaction<Database>,
    submissions: readonly Submission[],
  ): Promise<Settled<EventResult[]>[]> {
    const ids = new Set<string>();
    const keys = new Set<string>();
    for (const s of submissions) {
      for (const e of s.events) {
        ids.add(e.id);
        keys.add(e.deployment);
      }
    }

    const existing = new Map<string, number | null>();
    for (const chunk of chunks([...ids])) {
      const rows = await trx
        .selectFrom('events')
        .select(['id', 'ledger_index'])
        .where('id', 'in', chunk)
        .execute();
      for (const row of rows) existing.set(row.id, row.ledger_index);
    }
    const before = new Map<string, DeploymentRow>();
    for (const chunk of chunks([...keys])) {
      const rows = await trx.selectFrom('deployments').selectAll().where('deployment', 'in', chunk).execute();
      for (const row of rows) before.set(row.deployment, row);
    }

    const after = new Map<string, DeploymentRow>();
    const newEvents: Omit<EventsTable, 'seq'>[] = [];
    const stored: StoredEvent[] = [];
    const seenInGroup = new Set<string>();
    const sourceStats = new Map<string, SourceDelta>();
    const outcomes: Settled<EventResult[]>[] = [];
    const pendingLedger: (EventResult & { pending?: number })[][] = [];
    const nowMs = now();

    for (const submission of submissions) {
      const scratch = new Map<string, DeploymentRow>();
      const errors: ErrorDetail[] = [];
      let conflict = false;
      const results: (EventResult & { pending?: number })[] = [];
      const rows: Omit<EventsTable, 'seq'>[] = [];
      const mine = new Set<string>();
      submission.events.forEach((event, i) => {
        const pointer = submission.pointers[i] ?? '';
        const previous = existing.get(event.id);
        if (previous !== undefined) {
          results.push({ id: event.id, status: 'duplicate', ledgerIndex: previous });
          return;
        }
        if (seenInGroup.has(event.id) || mine.has(event.id)) {
          results.push({ id: event.id, status: 'duplicate', ledgerIndex: null });
          return;
        }
        const current =
          scratch.get(event.deployment) ??
          after.get(event.deployment) ??
          before.get(event.deployment) ??
          null;
        if (current === null && event.version === undefined) {
          errors.push({
            path: `${pointer}/version`,
            message: 'is required on the first event of a deployment',
          });
          return;
        }
        if (current && (current.service !== event.service || current.environment !== event.environment)) {
          conflict = true;
          errors.push({
            path: `${pointer}/deployment`,
            message: `deployment "${event.deployment}" belongs to ${current.service} in ${current.environment}, not ${event.service} in ${event.environment}`,
          });
          return;
        }
        const hlc = formatHlc(clock.receive(event.timeMs));
        const record = toEventRecord(event, {
          receivedMs: submission.receivedMs,
          hlc,
          source: submission.source,
        });
        const next = applyToRow(current, event, hlc, nowMs);
        scratch.set(event.deployment, next);
        mine.add(event.id);
        rows.push({
          id: event.id,
          deployment: event.deployment,
          type: event.type,
          time_ms: event.timeMs,
          received_ms: submission.receivedMs,
          hlc,
          source: submission.source,
          body: canonicalJson(record),
          ledger_index: null,
        });
        results.push({
          id: event.id,
          status: 'stored',
          ledgerIndex: null,
          pending: newEvents.length + rows.length - 1,
        });
      });
      if (errors.length > 0) {
        outcomes.push({
          error: conflict
            ? new ShiplogError(
                'SHIPLOG_CONFLICT',
                'An event conflicts with its stored deployment; nothing was stored',
                errors,
              )
            : new ShiplogError(
                'SHIPLOG_INVALID_EVENT',
                'The request has invalid events; nothing was stored',
                errors,
              ),
        });
        continue;
      }
      for (const [key, row] of scratch) after.set(key, row);
      for (const row of rows) seenInGroup.add(row.id);
      newEvents.push(...rows);
      submission.events.forEach((event, i) => {
        if (results[i]?.status === 'stored') {
          stored.push({
            event,
            source: submission.source,
            status: scratch.get(event.deployment)?.status ?? '',
          });
          if (submission.timed[i])
            addSkew(sourceStats, submission.source, submission.receivedMs - event.timeMs, nowMs);
          else addSkew(sourceStats, submission.source, null, nowMs);
        }
      });
      outcomes.push({ value: results });
      pendingLedger.push(results);
    }

    if (newEvents.length > 0) {
      if (options.ledger) {
        const first = await options.ledger.append(
          trx,
          newEvents.map((e) => e.body),
          'event',
        );
        newEvents.forEach((e, i) => (e.ledger_index = first + i));
      }
      await bulkWrite(trx, store.dialect, 'events', EVENT_COLUMNS, newEvents);
      await upsertDeployments(trx, store.dialect, [...after.values()]);
      await updateEnvironments(trx, store.dialect, before, after);
      await upsertSources(trx, store.dialect, sourceStats);
    }
    for (const results of pendingLedger) {
      for (const result of results) {
        if (result.pending !== undefined) {
          (result as { ledgerIndex: number | null }).ledgerIndex =
            newEvents[result.pending]?.ledger_index ?? null;
          delete result.pending;
        }
      }
    }
    if (stored.length > 0) queueMicrotask(() => options.onCommit?.(stored));
    return outcomes;
  }

  return { write: (submission) => group.submit(submission), drain: () => group.drain() };
}

const EVENT_COLUMNS = [
  'id',
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
} satisfies Record<keyof DeploymentRow, 0>) as (keyof DeploymentRow)[];

interface SourceDelta {
  events: number;
  skew: number[];
  lastSeen: number;
}

function addSkew(stats: Map<string, SourceDelta>, source: string, skew: number | null, nowMs: number): void {
  let delta = stats.get(source);
  if (!delta) stats.set(source, (delta = { events: 0, skew: [], lastSeen: nowMs }));
  delta.events += 1;
  if (skew !== null) delta.skew.push(skew);
}

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
        .where('source', 'in', [...stats.keys()])
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

export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
