/** Event sources: how many events each sent, when it was last seen, and its clock skew. */
import type { Kysely } from 'kysely';
import { keysetPage, type Page } from './cursor.js';
import type { Database } from './schema.js';

export interface SourceView {
  source: string;
  events: number;
  lastSeenAt: string;
  skew: {
    samples: number;
    lastMs: number | null;
    meanMs: number | null;
    minMs: number | null;
    maxMs: number | null;
  };
}

export interface SourcesRepository {
  /** Sources by name. */
  list(f: { limit: number; cursor?: string | undefined }): Promise<Page<SourceView>>;
}

export function createSourcesRepository(db: Kysely<Database>): SourcesRepository {
  return Object.freeze({
    async list(f: { limit: number; cursor?: string | undefined }) {
      return keysetPage(
        db.selectFrom('sources').selectAll(),
        { columns: ['source'], shape: ['s'], direction: 'asc' },
        { limit: f.limit, cursor: f.cursor || undefined },
        (r) => ({
          source: r.source,
          events: r.events,
          lastSeenAt: new Date(r.last_seen_ms).toISOString(),
          skew: {
            samples: r.skew_count,
            lastMs: r.skew_last_ms,
            meanMs: r.skew_count > 0 ? Math.round(r.skew_sum_ms / r.skew_count) : null,
            minMs: r.skew_min_ms,
            maxMs: r.skew_max_ms,
          },
        }),
        (last) => [last.source],
      );
    },
  });
}
