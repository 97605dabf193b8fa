/**
 * The ledger as a change feed, for the live stream (GET /v1/stream, docs/dashboard.md). Every
 * audit-relevant write appends a ledger entry with its record type, and appends are serialized
 * by the database, so the ledger index is a total order of every replica's writes: a reader
 * that remembers the last index it saw resumes without loss by reading the entries after it.
 *
 * Waking up: on PostgreSQL the ledger's append sends `NOTIFY shiplog_ledger` inside the write
 * transaction (delivered at commit, to every replica's listener); {@link LedgerFeed.watch}
 * holds one dedicated connection that LISTENs. SQLite is one process: readers poll the head.
 */
import pg from 'pg';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** The channel the ledger's append notifies on PostgreSQL (src/store/ledger-repository.ts). */
export const LEDGER_CHANNEL = 'shiplog_ledger';

export interface FeedRecord {
  readonly index: number;
  readonly recordType: string;
  /** The entry bytes (JSON); null when retention dropped the payload. */
  readonly data: string | null;
}

export interface FeedPage {
  readonly records: FeedRecord[];
  /** The last index this read covered (records of other types in between are skipped). */
  readonly through: number;
}

export interface LedgerWatch {
  close(): Promise<void>;
}

export interface LedgerFeed {
  /** The index of the last committed entry (-1 when the ledger is empty). */
  lastIndex(): Promise<number>;
  /** Entries after `after` of the given record types, at most `span` indexes further, up to `until`. */
  after(after: number, until: number, types: readonly string[], span: number): Promise<FeedPage>;
  /**
   * Calls `onWake` after each commit that appended to the ledger, in any process (PostgreSQL);
   * null on SQLite, where the caller polls. `onError` hears a lost connection (the caller polls
   * meanwhile and may watch again).
   */
  watch(onWake: () => void, onError: (error: Error) => void): Promise<LedgerWatch | null>;
}

export function createLedgerFeed(db: Kysely<Database>, postgresUrl: string | undefined): LedgerFeed {
  return Object.freeze({
    async lastIndex() {
      const row = await db.selectFrom('ledger_head').select('size').where('id', '=', 1).executeTakeFirst();
      return Number(row?.size ?? 0) - 1;
    },
    async after(after: number, until: number, types: readonly string[], span: number) {
      const through = Math.min(until, after + span);
      if (through <= after || types.length === 0) return { records: [], through: Math.max(after, through) };
      // An event's entry bytes live in events.body (stored once), as in Ledger.entries.
      const rows = await db
        .selectFrom('ledger_entries as l')
        .leftJoin('events as e', (join) =>
          join.onRef('e.ledger_index', '=', 'l.idx').on('l.data', 'is', null).on('l.retired_ms', 'is', null),
        )
        .select(['l.idx', 'l.record_type', (eb) => eb.fn.coalesce('l.data', 'e.body').as('data')])
        .where('l.idx', '>', after)
        .where('l.idx', '<=', through)
        .where('l.record_type', 'in', [...types])
        .orderBy('l.idx')
        .execute();
      return {
        records: rows.map((row) => ({ index: Number(row.idx), recordType: row.record_type, data: row.data })),
        through,
      };
    },
    async watch(onWake: () => void, onError: (error: Error) => void) {
      if (postgresUrl === undefined) return null;
      const client = new pg.Client({ connectionString: postgresUrl });
      client.on('notification', (message) => {
        if (message.channel === LEDGER_CHANNEL) onWake();
      });
      client.on('error', onError);
      await client.connect();
      await client.query(`listen ${LEDGER_CHANNEL}`);
      return {
        async close() {
          client.removeAllListeners('notification');
          await client.end().catch(() => undefined);
        },
      };
    },
  });
}
