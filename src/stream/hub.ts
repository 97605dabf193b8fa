/**
 * The live stream's fan-out (GET /v1/stream, DESIGN.md §12, docs/dashboard.md). One pump per
 * process reads new ledger entries once and writes each as one pre-formatted Server-Sent Event
 * to every connected client; the ledger index is the event id, so a client that reconnects with
 * `Last-Event-ID` catches up from the database and loses nothing.
 *
 * Memory per client is bounded: a client whose socket buffer holds more than
 * {@link MAX_BUFFERED_BYTES} (a stalled browser) is disconnected rather than buffered for; its
 * EventSource reconnects with the last id it received and catches up from the database. The
 * pump runs only while clients are connected; it wakes on PostgreSQL's NOTIFY (every replica's
 * writes) and otherwise polls the ledger head, cheaply (one single-row read).
 *
 * The cost of the fan-out is its bytes (each event × each client): a client that accepts it
 * gets `Content-Encoding: deflate`, each batch compressed once for all (src/stream/deflate.ts).
 */
import type { ServerResponse } from 'node:http';
import type { FeedRecord, LedgerFeed, LedgerWatch } from '../store/ledger-feed.js';
import { ADLER_START, adler32Combine, segment, trailer, ZLIB_HEADER, type Segment } from './deflate.js';

/** The SSE event names and the ledger record types they carry. */
export const STREAM_EVENTS = ['deployment', 'approval', 'gate', 'incident', 'alert'] as const;
export type StreamEvent = (typeof STREAM_EVENTS)[number];

const RECORD_TYPES: Readonly<Record<string, StreamEvent>> = {
  event: 'deployment',
  approval: 'approval',
  gate_decision: 'gate',
  incident: 'incident',
  alert: 'alert',
  'alert.acknowledged': 'alert',
  'alert.resolved': 'alert',
  alert_ack: 'alert',
};

/** The stream event of a ledger record type; alerts may use any `alert*` record type. */
export function streamEventOf(recordType: string): StreamEvent | undefined {
  return RECORD_TYPES[recordType] ?? (recordType.startsWith('alert') ? 'alert' : undefined);
}

export const MAX_BUFFERED_BYTES = 256 * 1024;
const PAGE = 500;

export interface StreamFilter {
  readonly events: ReadonlySet<StreamEvent>;
  readonly service?: string | undefined;
  readonly environment?: string | undefined;
}

export interface HubOptions {
  readonly feed: LedgerFeed;
  /** Poll interval without NOTIFY (SQLite), default 200 ms; with NOTIFY a safety net every 2 s. */
  readonly pollMs?: number;
  /**
   * The least time between two broadcasts, default 50 ms: NOTIFY wakes the pump at every
   * commit, and each broadcast costs a write per client, so commits close together go out as
   * one batch.
   */
  readonly coalesceMs?: number;
  readonly heartbeatMs?: number;
  readonly onError?: (error: unknown) => void;
}

/** How a client's bytes are encoded: as they are, or `Content-Encoding: deflate`. */
export type StreamEncoding = 'identity' | 'deflate';

export interface StreamHub {
  /**
   * Streams to `res` (its head set, `Content-Encoding` matching `encoding`, nothing written
   * yet) from after `lastEventId` (catching up from the database), or from now when it is
   * undefined.
   */
  attach(
    res: ServerResponse,
    filter: StreamFilter,
    lastEventId: number | undefined,
    encoding?: StreamEncoding,
  ): Promise<void>;
  readonly clientCount: number;
  /** Ends every stream and stops the pump (server shutdown). */
  close(): Promise<void>;
}

interface Client {
  readonly res: ServerResponse;
  readonly filter: StreamFilter & { readonly key: string };
  readonly deflate: boolean;
  /** Adler-32 of what a deflate client was sent, for its stream's trailer. */
  adler: number;
  /** The last index written (or skipped) for this client. */
  cursor: number;
  live: boolean;
}

/** Bytes to send, in either encoding; the compressed form is made on first use, once. */
class Chunk {
  readonly plain: Buffer;
  #deflated: Segment | undefined;
  constructor(text: string) {
    this.plain = Buffer.from(text);
  }
  get deflated(): Segment {
    this.#deflated ??= segment(this.plain);
    return this.#deflated;
  }
}

const HELLO = new Chunk('retry: 2000\n: connected\n\n');
const HEARTBEAT = new Chunk(': heartbeat\n\n');

/** A record's SSE frame, formatted once for every client: `id`, `event`, `data`. */
function frame(index: number, event: StreamEvent, data: string): string {
  // JSON has no raw newlines, so the data is one `data:` line.
  return `id: ${index}\nevent: ${event}\ndata: ${data}\n\n`;
}

interface Parsed {
  readonly index: number;
  readonly event: StreamEvent;
  readonly service: unknown;
  readonly environment: unknown;
  readonly text: string;
}

function parse(record: FeedRecord): Parsed | undefined {
  const event = streamEventOf(record.recordType);
  if (event === undefined || record.data === null) return undefined;
  let value: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(record.data);
    if (parsed && typeof parsed === 'object') value = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return {
    index: record.index,
    event,
    service: value.service,
    environment: value.environment,
    text: frame(record.index, event, record.data),
  };
}

function matches(filter: StreamFilter, p: Parsed): boolean {
  if (!filter.events.has(p.event)) return false;
  if (filter.service !== undefined && p.service !== undefined && p.service !== filter.service) return false;
  if (filter.environment !== undefined && p.environment !== undefined && p.environment !== filter.environment)
    return false;
  return true;
}

const ALL_TYPES = [...Object.keys(RECORD_TYPES)];

export function createStreamHub(options: HubOptions): StreamHub {
  const { feed } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const coalesceMs = options.coalesceMs ?? 50;
  const onError = options.onError ?? (() => undefined);
  const clients = new Set<Client>();
  /** The last ledger index the pump has broadcast; undefined until the first client. */
  let head: number | undefined;
  let pumping: Promise<void> | null = null;
  let again = false;
  /** When the last broadcast began, and the timer of a wake-up held back until coalesceMs after it. */
  let pumpedAt = 0;
  let held: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let watch: LedgerWatch | null = null;
  let watching: Promise<void> | null = null;
  let closed = false;

  function drop(client: Client): void {
    clients.delete(client);
    if (!client.res.writableEnded) client.res.end(client.deflate ? trailer(client.adler) : undefined);
    if (clients.size === 0) stopTimers();
  }

  function write(client: Client, chunk: Chunk): void {
    if (client.res.writableLength > MAX_BUFFERED_BYTES) {
      // A stalled reader: disconnect; it resumes from its last id, from the database.
      drop(client);
      return;
    }
    if (!client.deflate) {
      client.res.write(chunk.plain);
      return;
    }
    const { bytes, adler, length } = chunk.deflated;
    client.adler = adler32Combine(client.adler, adler, length);
    client.res.write(bytes);
  }

  function wake(): void {
    if (pumping) {
      again = true;
      return;
    }
    const wait = pumpedAt + coalesceMs - Date.now();
    if (wait > 0) {
      held ??= setTimeout(() => {
        held = undefined;
        wake();
      }, wait);
      return;
    }
    pumpedAt = Date.now();
    pumping = pump()
      .catch(onError)
      .finally(() => {
        pumping = null;
        if (again) {
          again = false;
          wake();
        }
      });
  }

  async function pump(): Promise<void> {
    if (head === undefined || clients.size === 0) return;
    const last = await feed.lastIndex();
    while (head < last && clients.size > 0) {
      const page = await feed.after(head, last, ALL_TYPES, PAGE);
      const parsed = page.records.map(parse).filter((p): p is Parsed => p !== undefined);
      // One write per client per page, not per event, and the bytes encoded (and compressed)
      // once per distinct filter and cursor: 200 clients × a burst of events would otherwise
      // cost a system call and an encoding each, and slow the ingest that produces them.
      const encoded = new Map<string, Chunk | null>();
      for (const client of [...clients]) {
        if (!client.live) continue;
        const key = `${client.cursor}\u0000${client.filter.key}`;
        let bytes = encoded.get(key);
        if (bytes === undefined) {
          let text = '';
          for (const p of parsed) {
            if (p.index > client.cursor && matches(client.filter, p)) text += p.text;
          }
          bytes = text === '' ? null : new Chunk(text);
          encoded.set(key, bytes);
        }
        if (bytes !== null) write(client, bytes);
        client.cursor = Math.max(client.cursor, page.through);
      }
      head = page.through;
    }
  }

  function startTimers(): void {
    if (timer) return;
    const usesNotify = watch !== null;
    timer = setInterval(wake, options.pollMs ?? (usesNotify ? 2000 : 200));
    timer.unref();
    heartbeat = setInterval(() => {
      for (const client of [...clients]) write(client, HEARTBEAT);
    }, heartbeatMs);
    heartbeat.unref();
  }

  function stopTimers(): void {
    clearInterval(timer);
    clearInterval(heartbeat);
    timer = undefined;
    heartbeat = undefined;
  }

  async function ensureWatch(): Promise<void> {
    if (watch || closed) return;
    watching ??= feed
      .watch(wake, (error) => {
        onError(error);
        const lost = watch;
        watch = null;
        watching = null;
        void lost?.close();
      })
      .then((w) => {
        if (closed) void w?.close();
        else watch = w;
      })
      .catch((error: unknown) => {
        onError(error);
        watching = null;
      });
    await watching;
  }

  /** Sends the records after the client's cursor from the database until it reaches the pump's head. */
  async function catchUp(client: Client): Promise<void> {
    for (;;) {
      const target = head ?? (await feed.lastIndex());
      if (client.cursor >= target) {
        client.live = true; // synchronously after the check: no broadcast falls in between
        return;
      }
      const page = await feed.after(client.cursor, target, ALL_TYPES, PAGE);
      let text = '';
      for (const record of page.records) {
        const p = parse(record);
        if (p && matches(client.filter, p)) text += p.text;
      }
      if (text !== '') write(client, new Chunk(text));
      client.cursor = page.through;
      if (!clients.has(client)) return;
      if (client.res.writableLength > MAX_BUFFERED_BYTES / 2) {
        await new Promise<void>((resolve) => {
          client.res.once('drain', resolve);
          client.res.once('close', resolve);
        });
      }
    }
  }

  return {
    get clientCount() {
      return clients.size;
    },
    async attach(res, filter, lastEventId, encoding = 'identity') {
      const deflate = encoding === 'deflate';
      // A stream ended before it began is still a whole one in its encoding.
      const endEmpty = () =>
        res.end(deflate ? Buffer.concat([ZLIB_HEADER, trailer(ADLER_START)]) : undefined);
      if (closed) {
        endEmpty();
        return;
      }
      let last: number;
      try {
        await ensureWatch();
        last = await feed.lastIndex();
      } catch (error) {
        endEmpty();
        throw error;
      }
      if (closed || res.destroyed) {
        endEmpty();
        return;
      }
      // Without clients the pump stood still: it starts again from now.
      if (clients.size === 0 || head === undefined) head = last;
      const start = lastEventId === undefined ? last : Math.min(Math.max(lastEventId, -1), last);
      const key = [[...filter.events].sort().join(','), filter.service ?? '', filter.environment ?? ''].join(
        '\u0000',
      );
      const client: Client = {
        res,
        filter: { ...filter, key },
        deflate,
        adler: ADLER_START,
        cursor: start,
        live: false,
      };
      clients.add(client);
      // The first bytes (and so the headers) leave only now: a client that sees the stream
      // open is registered, and nothing committed after this point can pass it by.
      if (deflate) res.write(ZLIB_HEADER);
      write(client, HELLO);
      res.on('close', () => {
        clients.delete(client);
        if (clients.size === 0) stopTimers();
      });
      startTimers();
      try {
        await catchUp(client);
      } catch (error) {
        drop(client);
        throw error;
      }
      wake();
    },
    async close() {
      closed = true;
      stopTimers();
      clearTimeout(held);
      for (const client of [...clients]) drop(client);
      await pumping;
      await watch?.close();
      watch = null;
    },
  };
}
