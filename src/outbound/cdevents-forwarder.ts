/**
 * Forwards what shiplog records to outbound sinks: every event to CDEvents sinks (CloudEvents
 * HTTP binary mode), each deployment's final state to PagerDuty (change events) and Grafana
 * (annotations), see change-notices.ts. It reads the
 * events table as an outbox: each sink has a durable position (`outbound_sinks.last_seq`), so
 * a restart resumes where it stopped and a slow sink never delays ingestion. A delivery is
 * retried with exponential backoff; one that still fails goes to `outbound_dead_letters` and
 * the sink moves on. A sink first seen starts at the current end of the log (it gets what is
 * recorded from then on, not the history). Only the leader forwards (src/server/leader.ts); a
 * leader that dies mid-delivery may leave one event to be sent again by the next (CloudEvents
 * consumers dedupe on (source, id)).
 *
 * Sinks are served concurrently, each in order. A sink that is down or hung would cost every
 * event all its retries (about 29 s with the defaults), so a circuit breaker parks it: after
 * `circuitFailures` events in a row that no attempt delivered, the sink is left alone for
 * `circuitCooldownMs`, then one event is tried once (half-open); while parked nothing is
 * dead-lettered, the events wait in the log and `shiplog_outbound_backlog_events` shows how many.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/database.js';
import type { EventRecord } from '../domain/event-record.js';
import { toCloudEvent, type OutgoingCloudEvent } from './cloudevent.js';
import { grafanaAnnotation, pagerDutyChangeEvent } from './change-notices.js';
import { OutboundError, callOut } from './http-client.js';

export interface OutboundSink {
  /** Names the sink's position and its dead letters. */
  readonly name: string;
  readonly url: string;
  /**
   * What the sink is sent: every event as a CDEvent (default), or each deployment's final state
   * as a PagerDuty change event or a Grafana annotation (change-notices.ts).
   */
  readonly format?: OutboundFormat | undefined;
  /** Only events of these environments; default all. */
  readonly environments?: readonly string[] | undefined;
  /** Grafana: the dashboard the annotations belong to; default an organisation-wide annotation. */
  readonly dashboardUid?: string | undefined;
  /**
   * Sent as `Authorization: Bearer <token>`; for `pagerduty`, the routing key in the body.
   * `tokenVariable` names it in dead letters instead.
   */
  readonly token?: string | undefined;
  readonly tokenVariable?: string | undefined;
}

export type OutboundFormat = 'cdevents' | 'pagerduty' | 'grafana';

export interface ForwarderOptions {
  /** The CloudEvents `source` of what shiplog sends. Default `/shiplog`. */
  readonly source?: string;
  /** How often the leader runs a tick. Default 1 s. */
  readonly intervalMs?: number;
  readonly maxAttempts?: number;
  /** Delay before retry n (1-based). Default 250 ms × 2^(n-1). */
  readonly backoffMs?: (attempt: number) => number;
  readonly timeoutMs?: number;
  /** Events in a row that exhausted their attempts before the sink is parked. Default 3. */
  readonly circuitFailures?: number;
  /** How long a parked sink is left alone before one trial event. Default 30 s. */
  readonly circuitCooldownMs?: number;
  readonly batch?: number;
  readonly logger?: FastifyBaseLogger | undefined;
  readonly now?: () => number;
}

/** One sink's state, for /metrics. */
export interface SinkStatus {
  readonly sink: string;
  /** Events recorded that the sink has not been sent yet. */
  readonly backlog: number;
  /** Whether the circuit breaker has parked the sink. */
  readonly circuitOpen: boolean;
}

export interface CdeventsForwarder {
  /** Sends what is pending to every sink once; resolves with the number of events handled. */
  tick(): Promise<number>;
  /** Each started sink's state (a sink starts at the leader's first tick). */
  status(): Promise<SinkStatus[]>;
  /** Cuts retries short and waits for the tick in flight; the leader runs `tick` (src/server/leader.ts). */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createCdeventsForwarder(
  store: Store,
  sinks: readonly OutboundSink[],
  options: ForwarderOptions = {},
): CdeventsForwarder {
  const { outboundSinks, deadLetters } = store;
  const source = options.source ?? '/shiplog';
  const maxAttempts = options.maxAttempts ?? 5;
  const backoff = options.backoffMs ?? ((n: number) => 250 * 2 ** (n - 1));
  const batch = options.batch ?? 100;
  const now = options.now ?? Date.now;
  let running: Promise<number> | null = null;
  let stopped = false;
  const circuitFailures = options.circuitFailures ?? 3;
  const cooldownMs = options.circuitCooldownMs ?? 30_000;
  /** Per sink: undelivered events in a row, and until when it is parked (0: circuit closed). */
  const circuits = new Map(sinks.map((s) => [s.name, { failures: 0, openUntil: 0 }]));
  const circuitOf = (sink: OutboundSink) => circuits.get(sink.name) ?? { failures: 0, openUntil: 0 };

  /**
   * Sends one event with retries. `trial`: the circuit is half-open, so one attempt and no dead
   * letter. Resolves `false` when the event was neither delivered nor dead-lettered (it stays
   * pending and the sink is parked).
   */
  /** What `sink` is sent for `record`; null when the sink is not told of it. */
  async function render(sink: OutboundSink, record: EventRecord): Promise<OutgoingCloudEvent | null> {
    if (sink.environments && !sink.environments.includes(record.environment)) return null;
    switch (sink.format ?? 'cdevents') {
      case 'cdevents':
        return toCloudEvent(record, source);
      case 'pagerduty':
        return pagerDutyChangeEvent(record, { value: sink.token ?? '', variable: sink.tokenVariable ?? '' });
      case 'grafana': {
        const row = await store.deployments.find(record.deployment);
        return grafanaAnnotation(record, row?.started_ms ?? null, { dashboardUid: sink.dashboardUid });
      }
    }
  }

  async function send(sink: OutboundSink, record: EventRecord, trial: boolean): Promise<boolean> {
    const event = await render(sink, record);
    if (event === null) return true;
    const bearer: Record<string, string> =
      sink.token && sink.format !== 'pagerduty' ? { authorization: `Bearer ${sink.token}` } : {};
    const circuit = circuitOf(sink);
    let lastError = '';
    let attempts = 0;
    let refused = false;
    const tries = trial ? 1 : maxAttempts;
    for (let attempt = 1; attempt <= tries && !stopped; attempt++) {
      attempts = attempt;
      try {
        const response = await callOut(sink.url, {
          method: 'POST',
          headers: { ...event.headers, ...bearer },
          body: event.body,
          timeoutMs: options.timeoutMs ?? 5000,
          maxBytes: 0,
          // Only the status matters: a sink that answers without end costs nothing.
          ignoreBody: true,
        });
        if (response.ok) {
          circuit.failures = 0;
          circuit.openUntil = 0;
          return true;
        }
        lastError = `HTTP ${response.status}`;
        // 4xx other than 408/429: the sink refuses this event; retrying will not help.
        if (response.status < 500 && response.status !== 408 && response.status !== 429) {
          refused = true;
          break;
        }
      } catch (error) {
        lastError = error instanceof OutboundError ? error.message : String(error);
      }
      if (attempt < tries) await sleep(backoff(attempt));
    }
    if (stopped) return false;
    // A failed trial leaves the event pending; the event that opens the circuit is dead-lettered.
    const park = !refused && (trial || ++circuit.failures >= circuitFailures);
    if (!trial) {
      options.logger?.warn(
        { sink: sink.name, event: record.id, error: lastError },
        'outbound event dead-lettered',
      );
      await deadLetters.insert({
        sink: sink.name,
        eventId: record.id,
        type: event.type,
        headers: event.headers,
        body: event.storedBody ?? event.body,
        attempts,
        lastError,
        createdMs: now(),
      });
    }
    if (refused) {
      // The sink answered: it is up.
      circuit.failures = 0;
      circuit.openUntil = 0;
    } else if (park) {
      circuit.openUntil = now() + cooldownMs;
      options.logger?.warn(
        { sink: sink.name, error: lastError, retryInMs: cooldownMs },
        'outbound sink parked: it delivered nothing lately',
      );
    }
    return !trial;
  }

  async function forward(sink: OutboundSink): Promise<number> {
    const circuit = circuitOf(sink);
    if (circuit.openUntil > now()) return 0;
    let from = await outboundSinks.position(sink.name, now());
    let handled = 0;
    for (;;) {
      const trial = circuit.openUntil > 0;
      const limit = trial ? 1 : batch;
      const rows = await outboundSinks.eventsAfter(from, limit);
      for (const row of rows) {
        if (stopped) return handled;
        if (!(await send(sink, row.record, trial))) return handled;
        from = row.seq;
        await outboundSinks.advance(sink.name, from, now());
        handled++;
        if (circuit.openUntil > now()) return handled;
      }
      if (rows.length < limit) return handled;
    }
  }

  const forwarder: CdeventsForwarder = {
    tick() {
      running ??= (async () => {
        // Concurrently: a slow sink never delays the others.
        const counts = await Promise.all(
          sinks.map(async function forwardOne(sink) {
            try {
              return await forward(sink);
            } catch (error) {
              options.logger?.error({ err: error, sink: sink.name }, 'outbound forwarding failed');
              return 0;
            }
          }),
        );
        return counts.reduce((a, b) => a + b, 0);
      })().finally(() => {
        running = null;
      });
      return running;
    },
    async status() {
      const backlog = await outboundSinks.backlog(sinks.map((s) => s.name));
      // A sink not started yet (the leader has not looked at it) has no position, so no backlog.
      return sinks.flatMap((sink) => {
        const pending = backlog[sink.name];
        return pending === undefined
          ? []
          : [{ sink: sink.name, backlog: pending, circuitOpen: circuitOf(sink).openUntil > 0 }];
      });
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
  return forwarder;
}
