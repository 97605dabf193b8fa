/**
 * Outbound CDEvents sinks: each sink's durable position in the events table, which is read as
 * an outbox (src/outbound/cdevents-forwarder.ts).
 */
import type { Kysely } from 'kysely';
import type { EventRecord } from '../domain/event-record.js';
import type { Database } from './schema.js';

export interface OutboxEvent {
  /** The event's position in the log (`events.seq`). */
  readonly seq: number;
  readonly record: EventRecord;
}

export interface OutboundSinksRepository {
  /**
   * The last `events.seq` the sink handled. A sink first seen starts at the current end of the
   * log (it gets what is recorded from then on, not the history).
   */
  position(sink: string, nowMs: number): Promise<number>;
  /** Records that the sink handled every event up to `seq`. */
  advance(sink: string, seq: number, nowMs: number): Promise<void>;
  /** Up to `limit` events after `seq`, in log order. */
  eventsAfter(seq: number, limit: number): Promise<OutboxEvent[]>;
  /** Events recorded after each sink's position, by sink name; a sink not yet started has none. */
  backlog(sinks: readonly string[]): Promise<Record<string, number>>;
}

export function createOutboundSinksRepository(db: Kysely<Database>): OutboundSinksRepository {
  return Object.freeze({
    async position(sink: string, nowMs: number) {
      const row = await db
        .selectFrom('outbound_sinks')
        .select('last_seq')
        .where('sink', '=', sink)
        .executeTakeFirst();
      if (row) return Number(row.last_seq);
      const end = await db
        .selectFrom('events')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .executeTakeFirst();
      const start = Number(end?.seq ?? 0);
      await db
        .insertInto('outbound_sinks')
        .values({ sink, last_seq: start, updated_ms: nowMs })
        .onConflict((oc) => oc.column('sink').doNothing())
        .execute();
      return start;
    },

    async advance(sink: string, seq: number, nowMs: number) {
      await db
        .updateTable('outbound_sinks')
        .set({ last_seq: seq, updated_ms: nowMs })
        .where('sink', '=', sink)
        .execute();
    },

    async eventsAfter(seq: number, limit: number) {
      const rows = await db
        .selectFrom('events')
        .select(['seq', 'body'])
        .where('seq', '>', seq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map((row) => ({ seq: Number(row.seq), record: JSON.parse(row.body) as EventRecord }));
    },

    async backlog(sinks: readonly string[]) {
      if (sinks.length === 0) return {};
      const [end, positions] = await Promise.all([
        db
          .selectFrom('events')
          .select((eb) => eb.fn.max('seq').as('seq'))
          .executeTakeFirst(),
        db.selectFrom('outbound_sinks').select(['sink', 'last_seq']).where('sink', 'in', sinks).execute(),
      ]);
      const last = Number(end?.seq ?? 0);
      const backlog: Record<string, number> = {};
      for (const row of positions) backlog[row.sink] = Math.max(0, last - Number(row.last_seq));
      return backlog;
    },
  });
}
