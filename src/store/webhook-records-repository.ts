/** Payloads kept for later correlation, not deployment events (CDEvents incident.*, environment.*, ...). */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface NewRecord {
  readonly id: string;
  readonly source: string;
  readonly recordType: string;
  readonly eventSource: string;
  readonly timeMs: number;
  readonly data: unknown;
  readonly createdMs: number;
}

export interface WebhookRecordsRepository {
  /** Keeps a record once; false when its id was already kept. */
  insert(record: NewRecord): Promise<boolean>;
}

export function createWebhookRecordsRepository(db: Kysely<Database>): WebhookRecordsRepository {
  return Object.freeze({
    async insert(record: NewRecord) {
      const result = await db
        .insertInto('webhook_records')
        .values({
          id: record.id,
          source: record.source,
          record_type: record.recordType,
          event_source: record.eventSource,
          time_ms: record.timeMs,
          data: JSON.stringify(record.data),
          created_ms: record.createdMs,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
  });
}
