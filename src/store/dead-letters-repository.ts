/** CloudEvents an outbound sink did not accept after every retry, kept for an admin to inspect. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { keysetPage, type Page } from './cursor.js';
import type { Database } from './schema.js';

export interface NewDeadLetter {
  readonly sink: string;
  readonly eventId: string;
  readonly type: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly attempts: number;
  readonly lastError: string;
  readonly createdMs: number;
}

export interface DeadLetterView {
  readonly id: string;
  readonly sink: string;
  readonly eventId: string;
  readonly type: string;
  readonly attempts: number;
  readonly lastError: string;
  readonly createdAt: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface DeadLettersRepository {
  insert(letter: NewDeadLetter): Promise<void>;
  /** Dead letters, newest first. */
  list(f: {
    sink?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<DeadLetterView>>;
}

export function createDeadLettersRepository(db: Kysely<Database>): DeadLettersRepository {
  return Object.freeze({
    async insert(letter: NewDeadLetter) {
      await db
        .insertInto('outbound_dead_letters')
        .values({
          id: randomUUID(),
          sink: letter.sink,
          event_id: letter.eventId,
          ce_type: letter.type,
          headers: JSON.stringify(letter.headers),
          body: letter.body,
          attempts: letter.attempts,
          last_error: letter.lastError.slice(0, 500),
          created_ms: letter.createdMs,
        })
        .execute();
    },

    async list(f: { sink?: string | undefined; limit: number; cursor?: string | undefined }) {
      let query = db.selectFrom('outbound_dead_letters').selectAll();
      if (f.sink !== undefined) query = query.where('sink', '=', f.sink);
      return keysetPage(
        query,
        { columns: ['created_ms', 'id'], shape: ['n', 's'], direction: 'desc' },
        { limit: f.limit, cursor: f.cursor },
        (r) => ({
          id: r.id,
          sink: r.sink,
          eventId: r.event_id,
          type: r.ce_type,
          attempts: Number(r.attempts),
          lastError: r.last_error,
          createdAt: new Date(Number(r.created_ms)).toISOString(),
          headers: JSON.parse(r.headers) as Record<string, string>,
          body: r.body,
        }),
        (last) => [Number(last.created_ms), last.id],
      );
    },
  });
}
