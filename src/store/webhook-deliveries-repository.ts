/**
 * The webhook delivery log: every authenticated delivery, size-capped, kept 7 days so admins
 * can debug their mappings. Deliveries that fail authentication can be sent by anyone, so they
 * are kept only as small records (no body, no headers), and only the newest
 * {@link REJECTED_KEEP_PER_SOURCE} per source.
 */
import type { Insertable, Kysely } from 'kysely';
import { keysetPage, type Page } from './cursor.js';
import type { Database, WebhookDeliveriesTable } from './schema.js';

/** Bodies longer than this are stored cut, with `truncated` set. */
export const DELIVERY_BODY_CAP = 64 * 1024;
/** How long a delivery is kept. */
export const DELIVERY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60_000;
/** Rejected (unauthenticated) deliveries kept per source; older ones are deleted as new ones come. */
export const REJECTED_KEEP_PER_SOURCE = 100;

export type DeliveryOutcome = 'stored' | 'duplicate' | 'ignored' | 'record' | 'invalid' | 'unauthorized';

export interface NewDelivery {
  readonly id: string;
  readonly source: string;
  readonly deliveryId: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly rawBody: Buffer;
  readonly status: number;
  readonly outcome: DeliveryOutcome;
  /** The ignore reason, the error message, or the stored event ids. */
  readonly summary: string;
  readonly createdMs: number;
}

/** A delivery that failed authentication: what is kept of it. */
export interface RejectedDelivery {
  readonly id: string;
  readonly source: string;
  readonly deliveryId: string | undefined;
  readonly status: number;
  readonly summary: string;
  /** Bytes received or announced (Content-Length); the body itself is never kept. */
  readonly bodyBytes: number;
  readonly createdMs: number;
}

export interface DeliveryView {
  readonly id: string;
  readonly source: string;
  readonly deliveryId: string | null;
  readonly status: number;
  readonly outcome: string;
  readonly summary: string;
  readonly createdAt: string;
  readonly bodyBytes: number;
  readonly truncated: boolean;
}

export interface DeliveryDetail extends DeliveryView {
  readonly headers: Record<string, string>;
  /** The raw body as UTF-8 text, or base64 when it is not valid UTF-8 (`bodyEncoding`). */
  readonly body: string;
  readonly bodyEncoding: 'utf8' | 'base64';
}

export interface DeliveriesRepository {
  /** Queues the delivery; the promise settles when its group is written. */
  insert(delivery: NewDelivery): Promise<void>;
  /** Queues a small record of a rejected delivery, as {@link insert} does. */
  insertRejected(delivery: RejectedDelivery): Promise<void>;
  /** Writes what is queued. */
  flush(): Promise<void>;
  /** Deliveries, newest first. */
  list(query: { source?: string; limit: number; cursor?: string }): Promise<Page<DeliveryView>>;
  get(id: string): Promise<DeliveryDetail | undefined>;
  /** Deletes deliveries older than the retention; returns how many. */
  prune(nowMs: number): Promise<number>;
}

function encodeBody(raw: Buffer): { body: string; encoding: 'utf8' | 'base64'; truncated: boolean } {
  const truncated = raw.length > DELIVERY_BODY_CAP;
  const cut = raw.subarray(0, DELIVERY_BODY_CAP);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  // A cut may split a multi-byte character: drop up to 3 trailing bytes before giving up on text.
  for (let drop = 0; drop <= (truncated ? 3 : 0); drop++) {
    try {
      const text = decoder.decode(cut.subarray(0, cut.length - drop));
      // PostgreSQL text cannot hold NUL.
      if (!text.includes('\u0000')) return { body: text, encoding: 'utf8', truncated };
      break;
    } catch {
      // not UTF-8 (yet): try one byte less
    }
  }
  return { body: cut.toString('base64'), encoding: 'base64', truncated };
}

export function createDeliveriesRepository(db: Kysely<Database>): DeliveriesRepository {
  let lastPruneMs = 0;
  // The log is written in groups, one multi-row insert per turn of the event loop, so it
  // adds one write per group instead of one per delivery to the ingest path.
  let pending: Insertable<WebhookDeliveriesTable>[] = [];
  let flushing: Promise<void> | null = null;
  let scheduled: Promise<void> | null = null;
  const MAX_ROWS_PER_INSERT = 50;

  async function flush(): Promise<void> {
    while (flushing) await flushing;
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    flushing = (async () => {
      for (let i = 0; i < rows.length; i += MAX_ROWS_PER_INSERT) {
        await db
          .insertInto('webhook_deliveries')
          .values(rows.slice(i, i + MAX_ROWS_PER_INSERT))
          .execute();
      }
      const rejectedSources = new Set(rows.filter((r) => r.outcome === 'unauthorized').map((r) => r.source));
      for (const source of rejectedSources) await trimRejected(source);
      const newest = Math.max(...rows.map((r) => r.created_ms));
      if (newest - lastPruneMs >= PRUNE_EVERY_MS) {
        lastPruneMs = newest;
        await repository.prune(newest);
      }
    })().finally(() => {
      flushing = null;
    });
    await flushing;
  }

  /** Deletes the rejected deliveries of `source` beyond the newest REJECTED_KEEP_PER_SOURCE. */
  async function trimRejected(source: string): Promise<void> {
    await db
      .deleteFrom('webhook_deliveries')
      .where('source', '=', source)
      .where('outcome', '=', 'unauthorized')
      .where('id', 'not in', (eb) =>
        eb
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('source', '=', source)
          .where('outcome', '=', 'unauthorized')
          .orderBy('created_ms', 'desc')
          .orderBy('id', 'desc')
          .limit(REJECTED_KEEP_PER_SOURCE),
      )
      .execute();
  }

  function enqueue(row: Insertable<WebhookDeliveriesTable>): Promise<void> {
    pending.push(row);
    // Every insert of this turn shares one flush, which settles once their rows are written.
    scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      scheduled = null;
      return flush();
    });
    return scheduled;
  }

  const repository: DeliveriesRepository = {
    insertRejected(delivery) {
      const queued = pending.filter((r) => r.outcome === 'unauthorized' && r.source === delivery.source);
      // A flood within one turn: only the newest REJECTED_KEEP_PER_SOURCE would survive the trim.
      const oldest = queued[0];
      if (queued.length >= REJECTED_KEEP_PER_SOURCE && oldest) pending.splice(pending.indexOf(oldest), 1);
      return enqueue({
        id: delivery.id,
        source: delivery.source,
        delivery_id: delivery.deliveryId?.slice(0, 128) ?? null,
        headers: '{}',
        body: '',
        body_encoding: 'utf8',
        body_bytes: delivery.bodyBytes,
        truncated: delivery.bodyBytes > 0 ? 1 : 0,
        status: delivery.status,
        outcome: 'unauthorized',
        summary: delivery.summary.slice(0, 300),
        created_ms: delivery.createdMs,
      });
    },
    insert(delivery) {
      const { body, encoding, truncated } = encodeBody(delivery.rawBody);
      return enqueue({
        id: delivery.id,
        source: delivery.source,
        delivery_id: delivery.deliveryId?.slice(0, 256) ?? null,
        headers: JSON.stringify(delivery.headers),
        body,
        body_encoding: encoding,
        body_bytes: delivery.rawBody.length,
        truncated: truncated ? 1 : 0,
        status: delivery.status,
        outcome: delivery.outcome,
        summary: delivery.summary.slice(0, 2000),
        created_ms: delivery.createdMs,
      });
    },
    flush,
    async list({ source, limit, cursor }) {
      await flush();
      let query = db
        .selectFrom('webhook_deliveries')
        .select([
          'id',
          'source',
          'delivery_id',
          'status',
          'outcome',
          'summary',
          'created_ms',
          'body_bytes',
          'truncated',
        ]);
      if (source !== undefined) query = query.where('source', '=', source);
      return keysetPage(
        query,
        { columns: ['created_ms', 'id'], shape: ['n', 's'], direction: 'desc' },
        { limit, cursor },
        toView,
        (last) => [Number(last.created_ms), last.id],
      );
    },
    async get(id) {
      await flush();
      const row = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        ...toView(row),
        headers: JSON.parse(row.headers) as Record<string, string>,
        body: row.body,
        bodyEncoding: row.body_encoding === 'base64' ? 'base64' : 'utf8',
      };
    },
    async prune(nowMs) {
      const result = await db
        .deleteFrom('webhook_deliveries')
        .where('created_ms', '<', nowMs - DELIVERY_RETENTION_MS)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
  return repository;
}

function toView(row: {
  id: string;
  source: string;
  delivery_id: string | null;
  status: number;
  outcome: string;
  summary: string;
  created_ms: number;
  body_bytes: number;
  truncated: number;
}): DeliveryView {
  return {
    id: row.id,
    source: row.source,
    deliveryId: row.delivery_id,
    status: Number(row.status),
    outcome: row.outcome,
    summary: row.summary,
    createdAt: new Date(Number(row.created_ms)).toISOString(),
    bodyBytes: Number(row.body_bytes),
    truncated: Number(row.truncated) === 1,
  };
}
