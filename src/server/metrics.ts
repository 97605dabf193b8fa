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

/** How long one computation of the DORA gauges serves scrapes. */
export const DORA_GAUGE_TTL_MS = 60_000;

/** The figures the DORA gauges read; a subset of src/metrics/dora.ts's, so tests can pass their own. */
interface DoraSource {
  byService(environment: string): Promise<
    Map<
      string,
      {
        deploymentFrequency: { perDay: number; count: number };
        leadTime: { medianMs: number | null; p90Ms: number | null };
        changeFailureRate: { rate: number | null };
        recoveryTime: { medianMs: number | null };
        reworkRate: { rate: number | null };
      }
    >
  >;
}

/**
 * Adds the current 30-day DORA figures per service of production to /metrics (DESIGN.md §10),
 * for Grafana. Computed when scraped, at most once per {@link DORA_GAUGE_TTL_MS}: concurrent and
 * repeated scrapes share one computation, and no API request ever triggers it. A figure with
 * nothing behind it (no lead time without commits) is left out rather than reported as 0.
 */
export function observeDora(
  registry: client.Registry,
  dora: DoraSource,
  options: { environment?: string; ttlMs?: number; now?: () => number } = {},
): void {
  const environment = options.environment ?? 'production';
  const ttlMs = options.ttlMs ?? DORA_GAUGE_TTL_MS;
  const now = options.now ?? Date.now;
  let cached: { atMs: number; figures: ReturnType<DoraSource['byService']> } | undefined;
  const current = () => {
    if (!cached || now() - cached.atMs >= ttlMs) {
      const figures = dora.byService(environment);
      cached = { atMs: now(), figures };
      // A failed computation is not kept: the next scrape tries again.
      figures.catch(() => {
        if (cached?.figures === figures) cached = undefined;
      });
    }
    return cached.figures;
  };
  type Figures = Awaited<ReturnType<DoraSource['byService']>> extends Map<string, infer F> ? F : never;
  const gauge = (name: string, help: string, value: (f: Figures) => number | null) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['service', 'environment'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const [service, f] of await current()) {
          const v = value(f);
          if (v !== null) this.set({ service, environment }, v);
        }
      },
    });
  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  gauge(
    'shiplog_dora_changes',
    'Changes (succeeded deployments) in the last 30 days',
    (f) => f.deploymentFrequency.count,
  );
  gauge(
    'shiplog_dora_deployment_frequency_per_day',
    'Changes per day over the last 30 days',
    (f) => f.deploymentFrequency.perDay,
  );
  gauge(
    'shiplog_dora_lead_time_median_seconds',
    'Median lead time for changes (first commit to production), last 30 days',
    (f) => seconds(f.leadTime.medianMs),
  );
  gauge('shiplog_dora_lead_time_p90_seconds', '90th percentile lead time for changes, last 30 days', (f) =>
    seconds(f.leadTime.p90Ms),
  );
  gauge(
    'shiplog_dora_change_failure_rate',
    'Failed changes / changes that are not rollbacks, last 30 days (0-1)',
    (f) => f.changeFailureRate.rate,
  );
  gauge(
    'shiplog_dora_recovery_time_median_seconds',
    'Median failed deployment recovery time, last 30 days',
    (f) => seconds(f.recoveryTime.medianMs),
  );
  gauge(
    'shiplog_dora_rework_rate',
    'Unplanned changes (remediation, hotfix, rollback) / changes, last 30 days (0-1)',
    (f) => f.reworkRate.rate,
  );
}
