/**
 * Forwards what shiplog records to CDEvents sinks (CloudEvents HTTP binary mode), reading the
 * events table as an outbox: each sink has a durable position (`outbound_sinks.last_seq`), so
 * a restart resumes where it stopped and a slow sink never delays ingestion. A delivery is
 * retried with exponential backoff; one that still fails goes to `outbound_dead_letters` and
 * the sink moves on. A sink first seen starts at the current end of the log (it gets what is
 * recorded from then on, not the history). Several replicas forwarding to one sink may send an
 * event twice; CloudEvents consumers dedupe on (source, id).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/database.js';
import type { EventRecord } from '../domain/event-record.js';
import { toCloudEvent } from './cloudevent.js';

export interface CdeventSink {
  /** Names the sink's position and its dead letters. */
  readonly name: string;
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
}

export interface ForwarderOptions {
  /** The CloudEvents `source` of what shiplog sends. Default `/shiplog`. */
  readonly source?: string;
  readonly intervalMs?: number;
  readonly maxAttempts?: number;
  /** Delay before retry n (1-based). Default 250 ms × 2^(n-1). */
  readonly backoffMs?: (attempt: number) => number;
  readonly timeoutMs?: number;
  readonly batch?: number;
  readonly logger?: FastifyBaseLogger | undefined;
  readonly now?: () => number;
}

export interface CdeventsForwarder {
  /** Sends what is pending to every sink once; resolves with the number of events handled. */
  tick(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createCdeventsForwarder(
  store: Store,
  sinks: readonly CdeventSink[],
  options: ForwarderOptions = {},
): CdeventsForwarder {
  const { outboundSinks, deadLetters } = store;
  const source = options.source ?? '/shiplog';
  const maxAttempts = options.maxAttempts ?? 5;
  const backoff = options.backoffMs ?? ((n: number) => 250 * 2 ** (n - 1));
  const batch = options.batch ?? 100;
  const now = options.now ?? Date.now;
  let running: Promise<number> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  async function send(sink: CdeventSink, record: EventRecord): Promise<void> {
    const event = toCloudEvent(record, source);
    let lastError = '';
    let attempts = 0;
    for (let attempt = 1; attempt <= maxAttempts && !stopped; attempt++) {
      attempts = attempt;
      try {
        const response = await fetch(sink.url, {
          method: 'POST',
          headers: { ...event.headers, ...(sink.token ? { authorization: `Bearer ${sink.token}` } : {}) },
          body: event.body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        });
        await response.arrayBuffer();
        if (response.ok) return;
        lastError = `HTTP ${response.status}`;
        // 4xx other than 408/429: the sink refuses this event; retrying will not help.
        if (response.status < 500 && response.status !== 408 && response.status !== 429) break;
      } catch (error) {
        lastError =
          error instanceof Error
            ? ((error.cause as Error | undefined)?.message ?? error.message)
            : String(error);
      }
      if (attempt < maxAttempts) await sleep(backoff(attempt));
    }
    options.logger?.warn({ sink: sink.name, event: record.id, error: lastError }, 'CDEvent dead-lettered');
    await deadLetters.insert({
      sink: sink.name,
      eventId: record.id,
      type: event.type,
      headers: event.headers,
      body: event.body,
      attempts,
      lastError,
      createdMs: now(),
    });
  }

  async function forward(sink: CdeventSink): Promise<number> {
    let from = await outboundSinks.position(sink.name, now());
    let handled = 0;
    for (;;) {
      const rows = await outboundSinks.eventsAfter(from, batch);
      for (const row of rows) {
        if (stopped) return handled;
        await send(sink, row.record);
        from = row.seq;
        await outboundSinks.advance(sink.name, from, now());
        handled++;
      }
      if (rows.length < batch) return handled;
    }
  }

  const forwarder: CdeventsForwarder = {
    tick() {
      running ??= (async () => {
        let handled = 0;
        for (const sink of sinks) {
          try {
            handled += await forward(sink);
          } catch (error) {
            options.logger?.error({ err: error, sink: sink.name }, 'CDEvents forwarding failed');
          }
        }
        return handled;
      })().finally(() => {
        running = null;
      });
      return running;
    },
    start() {
      if (sinks.length === 0 || timer) return;
      stopped = false;
      timer = setInterval(() => void forwarder.tick(), options.intervalMs ?? 1000);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
  return forwarder;
}
