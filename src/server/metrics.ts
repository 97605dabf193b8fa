/** Prometheus metrics: events by source and outcome, request latency, deployments in progress. */
import client from 'prom-client';
import type { EnvironmentsRepository } from '../store/environments-repository.js';

export interface Metrics {
  readonly registry: client.Registry;
  readonly events: client.Counter<'source' | 'outcome'>;
  readonly requestSeconds: client.Histogram<'method' | 'route' | 'status'>;
  /** Events per committed transaction: how well group commit is grouping. */
  readonly commitEvents: client.Histogram;
}

export function createMetrics(environments: EnvironmentsRepository): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'shiplog_process_' });
  const events = new client.Counter({
    name: 'shiplog_events_total',
    help: 'Deployment events received, by source and outcome (stored, duplicate, rejected)',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const requestSeconds = new client.Histogram({
    name: 'shiplog_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const commitEvents = new client.Histogram({
    name: 'shiplog_commit_events',
    help: 'Events stored per committed transaction (group commit)',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
    registers: [registry],
  });
  new client.Gauge({
    name: 'shiplog_deployments_in_progress',
    help: 'Deployments started and not yet finished',
    registers: [registry],
    async collect() {
      this.set(await environments.inProgressCount());
    },
  });
  return { registry, events, requestSeconds, commitEvents };
}

/** One CDEvents sink's state, as the forwarder reports it. */
interface SinkState {
  readonly sink: string;
  readonly backlog: number;
  readonly circuitOpen: boolean;
}

/** Adds the CDEvents forwarder's backlog and circuit breakers to /metrics. */
export function observeForwarder(
  registry: client.Registry,
  status: () => Promise<readonly SinkState[]>,
): void {
  new client.Gauge({
    name: 'shiplog_outbound_backlog_events',
    help: 'Events recorded that a CDEvents sink has not been sent yet, by sink',
    labelNames: ['sink'] as const,
    registers: [registry],
    async collect() {
      for (const s of await status()) this.set({ sink: s.sink }, s.backlog);
    },
  });
  new client.Gauge({
    name: 'shiplog_outbound_circuit_open',
    help: '1 while the circuit breaker has parked a CDEvents sink that delivered nothing lately',
    labelNames: ['sink'] as const,
    registers: [registry],
    async collect() {
      for (const s of await status()) this.set({ sink: s.sink }, s.circuitOpen ? 1 : 0);
    },
  });
}
