/**
 * The SQL of retention (src/retention, docs/retention.md): where the next month's entries end,
 * the entries and deployments a segment is written from (read page by page, never a month at
 * once), the segment rows, and the two deletions that keep the proofs: an archived month's
 * payloads past `retention.archive`, and non-production payloads past
 * `retention.purgeNonProduction`. Both delete the events rows and the ledger entries' own bytes,
 * set `retired_ms` and keep every leaf hash and node, so `shiplog verify` still rebuilds the
 * tree (src/ledger/audit-checks.ts accepts a retired entry on its leaf hash alone).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DeploymentRow } from '../domain/deployment-row.js';
import { leafHash, type NodeKey } from '../ledger/merkle.js';
import type { Dialect, WriteTransaction } from './database.js';
import { bulkWrite } from './bulk-write.js';
import { fetchNodes } from './ledger-repository.js';
import type { ArchiveSegmentsTable, Database, EventsTable } from './schema.js';

export type SegmentRow = ArchiveSegmentsTable;

/** One ledger entry of a segment, with the event that holds its bytes (if it is an event's). */
export interface ArchiveEntryRow {
  readonly index: number;
  readonly leafHash: Uint8Array;
  /** The entry bytes: its own data, or its event's body; null once retired. */
  readonly bytes: string | null;
  readonly recordType: string;
  /** The events row holding the bytes (restored as it was). */
  readonly event: { readonly seq: number; readonly scope: string } | null;
}

/** An entry brought back by `shiplog archive restore`, already proved against its segment. */
export interface RestoredEntry {
  readonly index: number;
  readonly bytes: string;
  readonly event?: Omit<EventsTable, 'ledger_index' | 'body' | 'seq'> & { readonly seq: number };
}

export interface PurgeCounts {
  readonly events: number;
  readonly entries: number;
  readonly deployments: number;
}

export interface RetentionRepository {
  /** Every segment, oldest first. */
  segments(): Promise<SegmentRow[]>;
  segment(month: string): Promise<SegmentRow | undefined>;
  /** The earliest receipt time of an event at or after ledger index `from`. */
  firstReceivedFrom(from: number): Promise<number | undefined>;
  /** One past the last ledger index, at or after `from`, of an event received before `beforeMs`. */
  endBefore(from: number, beforeMs: number): Promise<number>;
  /** The entries [first, end) in index order, `pageSize` per page. */
  entryPages(first: number, end: number, pageSize: number): AsyncGenerator<ArchiveEntryRow[]>;
  /** The deployments with an event in [first, end), as stored now, `pageSize` per page. */
  deploymentPages(first: number, end: number, pageSize: number): AsyncGenerator<DeploymentRow[]>;
  /** The stored subtree hashes named (leaves and nodes), keyed `level/index`. */
  nodes(keys: readonly NodeKey[]): Promise<Map<string, Uint8Array>>;
  insertSegment(row: SegmentRow): Promise<void>;
  markVerified(month: string, atMs: number): Promise<void>;
  /** Retires the payloads of the segment's entries [first, end), batch by batch. */
  purgeSegment(segment: SegmentRow, nowMs: number, batch?: number): Promise<PurgeCounts>;
  /**
   * Retires the events received before `beforeMs` into an environment `isProduction` refuses,
   * with their entries, whatever their month (archived or not).
   */
  purgeNonProduction(
    beforeMs: number,
    isProduction: (environment: string) => boolean,
    nowMs: number,
    monthOf: (ms: number) => string,
  ): Promise<PurgeCounts>;
  /** Brings entries back (only onto entries whose leaf hash is theirs), and the deployment rows. */
  restore(
    month: string,
    entries: readonly RestoredEntry[],
    deployments: readonly DeploymentRow[],
  ): Promise<number>;
  markRestored(month: string, atMs: number): Promise<void>;
  /** The month a deployment's records left the database with, when they did. */
  archivedMonthOf(deployment: string): Promise<string | undefined>;
  /** The segments whose payloads are retired now (purged and not restored since), oldest first. */
  purgedSegments(): Promise<SegmentRow[]>;
}

type Db = Kysely<Database> | Transaction<Database>;
const utf8 = new TextEncoder();

export function createRetentionRepository(
  db: Kysely<Database>,
  dialect: Dialect,
  writeTransaction: <T>(fn: (trx: WriteTransaction) => Promise<T>) => Promise<T>,
): RetentionRepository {
  /** Retires entries [first, end) and deletes their events; deployment rows as `retireDeployments`. */
  async function retireRange(
    trx: Db,
    first: number,
    end: number,
    nowMs: number,
    month: string,
  ): Promise<PurgeCounts> {
    const touched = await trx
      .selectFrom('events')
      .select('deployment')
      .distinct()
      .where('ledger_index', '>=', first)
      .where('ledger_index', '<', end)
      .execute();
    const events = await trx
      .deleteFrom('events')
      .where('ledger_index', '>=', first)
      .where('ledger_index', '<', end)
      .executeTakeFirst();
    const entries = await trx
      .updateTable('ledger_entries')
      .set({ data: null, retired_ms: nowMs })
      .where('idx', '>=', first)
      .where('idx', '<', end)
      .where('retired_ms', 'is', null)
      .executeTakeFirst();
    const deployments = await retireDeployments(
      trx,
      touched.map((t) => t.deployment),
      month,
    );
    return {
      events: Number(events.numDeletedRows),
      entries: Number(entries.numUpdatedRows),
      deployments,
    };
  }

  /**
   * Marks the deployments archived (`month`) and deletes the rows of those left with no event,
   * except each (service, environment, region)'s newest finished one: it is the baseline
   * `/v1/state?at=` needs for later instants.
   */
  async function retireDeployments(trx: Db, names: readonly string[], month: string): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < names.length; i += 500) {
      const chunk = names.slice(i, i + 500);
      const rows = chunk.map((deployment) => ({ deployment, month }));
      await trx
        .insertInto('archived_deployments')
        .values(rows)
        .onConflict((oc) => oc.column('deployment').doUpdateSet({ month }))
        .execute();
      const result = await trx
        .deleteFrom('deployments')
        .where('deployment', 'in', chunk)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('events as e')
                .select('e.seq')
                .whereRef('e.deployment', '=', 'deployments.deployment'),
            ),
          ),
        )
        .where((eb) =>
          eb.or([
            eb('status', 'not in', ['succeeded', 'rolled_back']),
            eb.exists(
              eb
                .selectFrom('deployments as newer')
                .select('newer.deployment')
                .whereRef('newer.service', '=', 'deployments.service')
                .whereRef('newer.environment', '=', 'deployments.environment')
                .whereRef('newer.region', '=', 'deployments.region')
                .where('newer.status', 'in', ['succeeded', 'rolled_back'])
                .whereRef('newer.finished_ms', '>', 'deployments.finished_ms'),
            ),
          ]),
        )
        .executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    return deleted;
  }

  const repository: RetentionRepository = {
    async segments() {
      return db.selectFrom('archive_segments').selectAll().orderBy('first_idx').execute();
    },

    async segment(month: string) {
      return db.selectFrom('archive_segments').selectAll().where('month', '=', month).executeTakeFirst();
    },

    async firstReceivedFrom(from: number) {
      const row = await db
        .selectFrom('events')
        .select((eb) => eb.fn.min('received_ms').as('ms'))
        .where('ledger_index', '>=', from)
        .executeTakeFirst();
      return row?.ms === null || row?.ms === undefined ? undefined : Number(row.ms);
    },

    async endBefore(from: number, beforeMs: number) {
      const row = await db
        .selectFrom('events')
        .select((eb) => eb.fn.max('ledger_index').as('idx'))
        .where('received_ms', '<', beforeMs)
        .where('ledger_index', '>=', from)
        .executeTakeFirst();
      return row?.idx === null || row?.idx === undefined ? from : Number(row.idx) + 1;
    },

    async *entryPages(first: number, end: number, pageSize: number) {
      for (let start = first; start < end; start += pageSize) {
        const stop = Math.min(start + pageSize, end);
        const rows = await db
          .selectFrom('ledger_entries as l')
          .leftJoin('events as e', 'e.ledger_index', 'l.idx')
          .select([
            'l.idx',
            'l.leaf_hash',
            'l.data',
            'l.record_type',
            'l.retired_ms',
            'e.seq',
            'e.scope',
            'e.body',
          ])
          .where('l.idx', '>=', start)
          .where('l.idx', '<', stop)
          .orderBy('l.idx')
          .execute();
        yield rows.map((r) => ({
          index: Number(r.idx),
          leafHash: r.leaf_hash,
          bytes: r.retired_ms !== null ? null : (r.data ?? r.body ?? null),
          recordType: r.record_type,
          event:
            r.seq === null || r.scope === null || r.retired_ms !== null
              ? null
              : { seq: Number(r.seq), scope: r.scope },
        }));
      }
    },

    async *deploymentPages(first: number, end: number, pageSize: number) {
      // Window by window of entries; a deployment comes with the window of its first event in
      // [first, end), so each is written once without a set of every name of the month.
      for (let from = first; from < end; from += pageSize) {
        const to = Math.min(from + pageSize, end);
        // No ORDER BY: with one, SQLite walks every deployment in key order to test the IN list.
        const rows = await db
          .selectFrom('deployments as d')
          .selectAll('d')
          .where('d.deployment', 'in', (eb) =>
            eb
              .selectFrom('events as e')
              .select('e.deployment')
              .where('e.ledger_index', '>=', from)
              .where('e.ledger_index', '<', to),
          )
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('events as earlier')
                  .select('earlier.seq')
                  .whereRef('earlier.deployment', '=', 'd.deployment')
                  .where('earlier.ledger_index', '>=', first)
                  .where('earlier.ledger_index', '<', from),
              ),
            ),
          )
          .execute();
        if (rows.length > 0) yield rows;
      }
    },

    nodes: (keys: readonly NodeKey[]) => fetchNodes(db, keys),

    async insertSegment(row: SegmentRow) {
      await db
        .insertInto('archive_segments')
        .values(row)
        .onConflict((oc) => oc.column('month').doUpdateSet({ ...row }))
        .execute();
    },

    async markVerified(month: string, atMs: number) {
      await db
        .updateTable('archive_segments')
        .set({ verified_ms: atMs })
        .where('month', '=', month)
        .execute();
    },

    async purgeSegment(segment: SegmentRow, nowMs: number, batch = 5000) {
      const total = { events: 0, entries: 0, deployments: 0 };
      for (let start = Number(segment.first_idx); start < Number(segment.end_idx); start += batch) {
        const stop = Math.min(start + batch, Number(segment.end_idx));
        const counts = await writeTransaction((trx) => retireRange(trx, start, stop, nowMs, segment.month));
        total.events += counts.events;
        total.entries += counts.entries;
        total.deployments += counts.deployments;
      }
      await db
        .updateTable('archive_segments')
        .set({ purged_ms: nowMs })
        .where('month', '=', segment.month)
        .execute();
      return total;
    },

    async purgeNonProduction(beforeMs, isProduction, nowMs, monthOf) {
      const environments = await db.selectFrom('deployments').select('environment').distinct().execute();
      const targets = environments.map((e) => e.environment).filter((e) => !isProduction(e));
      const total = { events: 0, entries: 0, deployments: 0 };
      for (const environment of targets) {
        for (;;) {
          const batch = await db
            .selectFrom('events as e')
            .innerJoin('deployments as d', 'd.deployment', 'e.deployment')
            .select(['e.ledger_index', 'e.deployment', 'e.received_ms'])
            .where('d.environment', '=', environment)
            .where('e.received_ms', '<', beforeMs)
            .where('e.ledger_index', 'is not', null)
            .orderBy('e.ledger_index')
            .limit(1000)
            .execute();
          if (batch.length === 0) break;
          const counts = await writeTransaction(async (trx) => {
            const indexes = batch.map((b) => Number(b.ledger_index));
            const events = await trx
              .deleteFrom('events')
              .where('ledger_index', 'in', indexes)
              .executeTakeFirst();
            const entries = await trx
              .updateTable('ledger_entries')
              .set({ data: null, retired_ms: nowMs })
              .where('idx', 'in', indexes)
              .where('retired_ms', 'is', null)
              .executeTakeFirst();
            const byMonth = new Map<string, Set<string>>();
            for (const b of batch) {
              const month = monthOf(Number(b.received_ms));
              byMonth.set(month, (byMonth.get(month) ?? new Set()).add(b.deployment));
            }
            let deployments = 0;
            for (const [month, names] of byMonth)
              deployments += await retireDeployments(trx, [...names], month);
            return {
              events: Number(events.numDeletedRows),
              entries: Number(entries.numUpdatedRows),
              deployments,
            };
          });
          total.events += counts.events;
          total.entries += counts.entries;
          total.deployments += counts.deployments;
        }
      }
      return total;
    },

    async restore(month, entries, deployments) {
      return writeTransaction(async (trx) => {
        let restored = 0;
        const indexes = entries.map((e) => e.index);
        const stored = new Map<number, { leaf: Uint8Array; retired: boolean }>();
        for (let i = 0; i < indexes.length; i += 500) {
          const rows = await trx
            .selectFrom('ledger_entries')
            .select(['idx', 'leaf_hash', 'retired_ms'])
            .where('idx', 'in', indexes.slice(i, i + 500))
            .execute();
          for (const r of rows)
            stored.set(Number(r.idx), { leaf: r.leaf_hash, retired: r.retired_ms !== null });
        }
        const events: (Omit<EventsTable, 'seq'> & { seq: number })[] = [];
        const own: { index: number; bytes: string }[] = [];
        for (const entry of entries) {
          const found = stored.get(entry.index);
          if (!found?.retired) continue;
          // Only the bytes this entry's leaf hash was made from go back under it.
          if (!Buffer.from(leafHash(utf8.encode(entry.bytes))).equals(found.leaf)) continue;
          if (entry.event) events.push({ ...entry.event, ledger_index: entry.index, body: entry.bytes });
          else own.push(entry);
        }
        if (events.length > 0) {
          await bulkWrite(
            trx,
            dialect,
            'events',
            [
              'seq',
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
            ] as const,
            events,
          );
          await trx
            .updateTable('ledger_entries')
            .set({ retired_ms: null })
            .where(
              'idx',
              'in',
              events.map((e) => e.ledger_index as number),
            )
            .execute();
          restored += events.length;
        }
        for (const entry of own) {
          await trx
            .updateTable('ledger_entries')
            .set({ data: entry.bytes, retired_ms: null })
            .where('idx', '=', entry.index)
            .execute();
          restored += 1;
        }
        for (let i = 0; i < deployments.length; i += 100) {
          const chunk = deployments.slice(i, i + 100);
          await trx
            .insertInto('deployments')
            .values(chunk)
            .onConflict((oc) => oc.column('deployment').doNothing())
            .execute();
        }
        await trx.deleteFrom('archived_deployments').where('month', '=', month).execute();
        // PostgreSQL's sequence does not follow rows inserted with their own seq: move it past them.
        if (dialect === 'postgres' && events.length > 0) {
          await sql`select setval(pg_get_serial_sequence('events', 'seq'), (select max(seq) from events))`.execute(
            trx,
          );
        }
        return restored;
      });
    },

    async markRestored(month: string, atMs: number) {
      await db
        .updateTable('archive_segments')
        .set({ restored_ms: atMs, purged_ms: null })
        .where('month', '=', month)
        .execute();
    },

    async archivedMonthOf(deployment: string) {
      const row = await db
        .selectFrom('archived_deployments')
        .select('month')
        .where('deployment', '=', deployment)
        .executeTakeFirst();
      return row?.month;
    },

    async purgedSegments() {
      return db
        .selectFrom('archive_segments')
        .selectAll()
        .where('purged_ms', 'is not', null)
        .orderBy('first_idx')
        .execute();
    },
  };
  return Object.freeze(repository);
}
