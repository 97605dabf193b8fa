/**
 * The SQL of retention (src/retention, docs/retention.md): where the next month's entries end,
 * the entries and deployments a segment is written from (read page by page, never a month at
 * once), the segment rows, and the two deletions that keep the proofs: an archived month's
 * payloads past `retention.archive`, and non-production payloads past
 * `retention.purgeNonProduction`. Both delete the events rows and the ledger entries' own bytes,
 * set `retired_ms` and keep every leaf hash and node, so `shiplog verify` still rebuilds the
 * tree (src/ledger/audit-checks.ts accepts a retired entry on its leaf hash alone).
 */
import { availableParallelism } from 'node:os';
import SQLite from 'better-sqlite3';
import { sql, type Compilable, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DeploymentRow } from '../domain/deployment-row.js';
import { leafHash, type NodeKey } from '../ledger/merkle.js';
import type { Dialect, WriteTransaction } from './database.js';
import {
  DEPLOYMENT_LINE,
  deploymentLinesPage,
  type DeploymentLinesRow,
  deploymentsPage,
  ENTRY_LINE,
  entriesPage,
  entryLinesPage,
  type EntryLinesRow,
  segmentPageBounds,
  type SegmentEntryRow,
  type SegmentPage,
} from '../retention/segment-format.js';
import { bulkWrite } from './bulk-write.js';
import type { SegmentJob } from './segment-page-worker.js';
import { builtWorker, workerPages } from './worker-pages.js';
import { fetchNodes } from './ledger-repository.js';
import type { ArchiveSegmentsTable, Database, EventsTable } from './schema.js';

export type SegmentRow = ArchiveSegmentsTable;

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
  /**
   * The JSONL of the segment [first, end), page by page (src/retention/segment-format.ts): the
   * entries in index order, in pages of `segmentPageBounds`, then the deployments with an event
   * in the range, as stored now, window by window of the same pages.
   */
  segmentPages(first: number, end: number, pageSize: number): AsyncGenerator<SegmentPage>;
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
  /** The months (`YYYY-MM`) some deployment's records left the database with, ascending. */
  retiredMonths(): Promise<string[]>;
}

type Db = Kysely<Database> | Transaction<Database>;
/** Worker threads that read a SQLite segment (segment-page-worker.ts), at most one a core. */
const SEGMENT_WORKERS = 2;
const utf8 = new TextEncoder();

export function createRetentionRepository(
  db: Kysely<Database>,
  dialect: Dialect,
  writeTransaction: <T>(fn: (trx: WriteTransaction) => Promise<T>) => Promise<T>,
  /** The SQLite database file (none on PostgreSQL): segments are read on a connection of their own. */
  sqliteFile?: string,
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

  /**
   * A segment's entries [start, stop) on PostgreSQL: index, record, event seq and scope, retired
   * leaf (SQLite writes the lines itself: entryLinesQuery).
   */
  function entriesQuery(start: number, stop: number) {
    return db
      .selectFrom('ledger_entries as l')
      .leftJoin('events as e', 'e.ledger_index', 'l.idx')
      .select([
        'l.idx',
        sql<string | null>`case when l.retired_ms is null then coalesce(l.data, e.body) end`.as('record'),
        'e.seq',
        'e.scope',
        sql<Uint8Array | null>`case when l.retired_ms is not null then l.leaf_hash end`.as('retired_leaf'),
      ])
      .where('l.idx', '>=', start)
      .where('l.idx', '<', stop)
      .orderBy('l.idx');
  }

  /**
   * SQLite's form of a segment's entry pages: the window's lines (segment-format.ts ENTRY_LINE
   * around each record, in index order) written by SQLite into one blob, with their count, the
   * stored leaf hashes of its retired entries (hex, in order) and the first entry that has
   * neither bytes nor a leaf hash, if one does (for `entryLinesPage`). One row a page instead
   * of one an entry, each with its record as a fresh buffer: one thread over a 1M-event month
   * read the rows in 4.2-4.3 s, and the lines in 2.0 s.
   */
  function entryLinesQuery(start: number, stop: number) {
    const text = (value: string) => sql.lit(value);
    const event = sql<string>`case when e.seq is null or e.scope is null then '' else ${text(ENTRY_LINE.event)} || e.seq || ${text(ENTRY_LINE.scope)} || json_quote(e.scope) || ${text(ENTRY_LINE.eventEnd)} end`;
    const lines = db
      .selectFrom('ledger_entries as l')
      .leftJoin('events as e', 'e.ledger_index', 'l.idx')
      .select([
        'l.idx',
        sql<string>`case when l.retired_ms is not null
          then ${text(ENTRY_LINE.start)} || l.idx || ${text(ENTRY_LINE.retired)}
          else ${text(ENTRY_LINE.start)} || l.idx || ${event} || ${text(ENTRY_LINE.record)} || coalesce(l.data, e.body) || ${text(ENTRY_LINE.end)} end`.as(
          'line',
        ),
        sql<string | null>`case when l.retired_ms is not null then coalesce(hex(l.leaf_hash), '') end`.as(
          'retired_leaf',
        ),
        sql<number>`l.retired_ms is null and l.data is null and e.body is null`.as('broken'),
      ])
      .where('l.idx', '>=', start)
      .where('l.idx', '<', stop)
      .orderBy('l.idx');
    // The aggregates take the rows in the subquery's order (SQLite does not flatten an ordered
    // subquery into an aggregate); entryLinesPage checks every line's index all the same.
    return db
      .selectFrom(lines.as('p'))
      .select([
        sql<number>`count(*)`.as('count'),
        sql<Uint8Array | null>`cast(group_concat(p.line, '') as blob)`.as('text'),
        sql<string | null>`group_concat(p.retired_leaf, ',')`.as('retired'),
        sql<number | null>`min(case when p.broken then p.idx end)`.as('broken'),
      ]);
  }

  /**
   * The JSON text (`row`) of the deployments whose first event in [first, end) lies in the window
   * [from, to): each deployment comes once, without a set of every name of the month.
   */
  function deploymentsQuery(row: RawBuilder<string>, first: number, from: number, to: number) {
    // No ORDER BY: with one, SQLite walks every deployment in key order to test the IN list.
    return db
      .selectFrom('deployments as d')
      .select(row.as('row'))
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
      );
  }

  /**
   * SQLite's form of a window's deployment pages: the lines (segment-format.ts DEPLOYMENT_LINE)
   * written by SQLite into one blob, with their count. One row a page instead of one a
   * deployment: each row's JSON crossing into JavaScript as a string, only to be encoded back
   * into the page, cost more than making it (one thread over a 1M-event month: 4.0-4.9 s against
   * 2.3-2.6 s for the same bytes).
   */
  function deploymentLinesQuery(pairs: string, first: number, from: number, to: number) {
    const line = sql<string>`${sql.lit(DEPLOYMENT_LINE[0])} || json_object(${sql.raw(pairs)}) || ${sql.lit(DEPLOYMENT_LINE[1])}`;
    return db
      .selectFrom(deploymentsQuery(line, first, from, to).as('w'))
      .select([
        sql<number>`count(*)`.as('count'),
        sql<Uint8Array | null>`cast(group_concat(w.row, '') as blob)`.as('text'),
      ]);
  }

  /** The SQL text of `query`, checked to take `parameters` in that order (the worker binds them so). */
  function compiledWith(query: Compilable, parameters: readonly number[]): string {
    const compiled = query.compile();
    if (compiled.parameters.join() !== parameters.join()) {
      throw new Error(`the segment query takes (${compiled.parameters.join()}), not (${parameters.join()})`);
    }
    return compiled.sql;
  }

  /** `'column', alias."column", ...` of every column of `table`, for SQLite's json_object. */
  async function columnPairs(table: string, alias: string): Promise<string> {
    const { rows } = await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db);
    return rows
      .map(({ name }) => `'${name.replaceAll("'", "''")}', ${alias}."${name.replaceAll('"', '""')}"`)
      .join(', ');
  }

  /**
   * Runs a segment's page queries and returns their rows as arrays, where no worker reads them
   * (PostgreSQL, or the TypeScript sources under test). On SQLite they run raw on a read-only
   * connection of their own (one array per row, no object), so each page sees committed rows
   * only and the writers' connection stays free. On PostgreSQL a page is a keyset range (by
   * ledger index) on the pool: a cursor that holds no transaction open between pages.
   */
  function pageReader() {
    const reader = sqliteFile === undefined ? undefined : new SQLite(sqliteFile, { readonly: true });
    const statements = new Map<string, SQLite.Statement>();
    const run = async (query: Compilable): Promise<unknown[][]> => {
      const compiled = query.compile();
      if (!reader) return (await db.executeQuery(compiled)).rows.map((r) => Object.values(r as object));
      let statement = statements.get(compiled.sql);
      if (!statement) {
        statement = reader.prepare(compiled.sql).raw();
        statements.set(compiled.sql, statement);
      }
      return statement.all(...compiled.parameters) as unknown[][];
    };
    return Object.assign(run, { close: () => reader?.close() });
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

    async *segmentPages(first: number, end: number, pageSize: number) {
      if (first >= end) return;
      const pairs = dialect === 'sqlite' ? await columnPairs('deployments', 'd') : '';
      const worker = builtWorker('segment-page-worker');
      if (sqliteFile !== undefined && worker) {
        const job = {
          file: sqliteFile,
          first,
          end,
          pageSize,
          entriesSql: compiledWith(entryLinesQuery(first, end), [first, end]),
          deploymentsSql: compiledWith(deploymentLinesQuery(pairs, first, first, end), [
            first,
            end,
            first,
            first,
          ]),
        };
        const parts = Math.min(SEGMENT_WORKERS, availableParallelism());
        const workers = Array.from({ length: parts }, (_, part) =>
          workerPages<SegmentPage>(worker, { ...job, part, parts } satisfies SegmentJob),
        );
        try {
          // Page j comes from worker j % parts: take them round-robin, in order.
          for (let j = 0; ; j += 1) {
            const next = await (workers[j % parts] as AsyncGenerator<SegmentPage>).next();
            if (next.done) return;
            yield next.value;
          }
        } finally {
          await Promise.all(workers.map((w) => w.return(undefined)));
        }
      }
      const rows = pageReader();
      const bounds = segmentPageBounds(first, end, pageSize);
      try {
        for (const [start, stop] of bounds) {
          const page =
            dialect === 'sqlite'
              ? entryLinesPage(
                  start,
                  (await rows(entryLinesQuery(start, stop)))[0] as unknown as EntryLinesRow,
                )
              : entriesPage((await rows(entriesQuery(start, stop))) as unknown as SegmentEntryRow[], start);
          if (page.entries !== stop - start)
            throw new Error(`ledger entry ${start + page.entries} is missing`);
          yield page;
        }
        for (const [from, to] of bounds) {
          if (dialect === 'sqlite') {
            const row = (await rows(deploymentLinesQuery(pairs, first, from, to)))[0];
            const page = deploymentLinesPage(row as unknown as DeploymentLinesRow);
            if (page.deployments > 0) yield page;
            continue;
          }
          const query = deploymentsQuery(sql<string>`row_to_json(d)::text`, first, from, to);
          const page = (await rows(query)).map((r) => r[0] as string);
          if (page.length > 0) yield deploymentsPage(page);
        }
      } finally {
        rows.close();
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

    async retiredMonths() {
      const rows = await db
        .selectFrom('archived_deployments')
        .select('month')
        .distinct()
        .orderBy('month')
        .execute();
      return rows.map((r) => r.month);
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
