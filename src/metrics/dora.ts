/**
 * DORA metrics over the store (DESIGN.md §10): resolves the window and filters of a request,
 * reads the facts once (src/store/dora-repository.ts) and hands them to the pure arithmetic
 * (src/domain/dora.ts). A summary, a series and the per-service gauges are the same sum over
 * different subsets of one analysis.
 */
import type { Incidents, ServiceConfig } from '../correlate/incidents.js';
import { analyseChanges, type ChangeFacts, type DoraSettings } from '../domain/dora.js';
import { doraTally, type DoraFigures, type DoraTally } from '../domain/dora-summary.js';
import { INCIDENT_SEVERITIES, severityRank } from '../domain/incident.js';
import { ShiplogError } from '../errors.js';
import { isValidTimeZone } from '../policy/local-time.js';
import type { Store } from '../store/database.js';
import { DEFAULT_DORA_CONFIG, type DoraConfig } from './dora-config.js';
import { intervalStart, intervals, localDays, localDaysBefore, type Interval } from './dora-window.js';

/** Most intervals one series answers (a little over a year of days). */
export const MAX_INTERVALS = 400;
const DEFAULT_DAYS = 30;

export interface DoraRequest {
  readonly environment?: string | undefined;
  readonly service?: string | undefined;
  readonly team?: string | undefined;
  readonly sinceMs?: number | undefined;
  readonly untilMs?: number | undefined;
  readonly tz?: string | undefined;
  readonly explain?: boolean | undefined;
}

export interface DoraSeries {
  readonly interval: Interval;
  readonly window: DoraFigures['window'];
  readonly items: (DoraFigures & { readonly start: string; readonly end: string })[];
  readonly nextCursor: null;
}

export interface DoraMetrics {
  summary(request: DoraRequest): Promise<DoraFigures>;
  series(request: DoraRequest, interval: Interval): Promise<DoraSeries>;
  /** The last 30 days (UTC) per service of one environment, for /metrics. */
  byService(environment: string): Promise<Map<string, DoraFigures>>;
}

export interface DoraDeps {
  readonly store: Store;
  readonly incidents: Incidents;
  /** `services:` of shiplog.yaml (teams); the imported catalog adds to it. */
  readonly services?: Readonly<Record<string, ServiceConfig>> | undefined;
  readonly config?: DoraConfig | undefined;
  readonly now?: (() => number) | undefined;
}

interface Resolved {
  readonly environment: string;
  readonly services: readonly string[] | null;
  readonly sinceMs: number;
  readonly untilMs: number;
  readonly tz: string;
}

export function createDoraMetrics(deps: DoraDeps): DoraMetrics {
  const now = deps.now ?? Date.now;
  const settings: DoraSettings = {
    minSeverity: (deps.config ?? DEFAULT_DORA_CONFIG).minSeverity,
    correlation: deps.incidents.settings,
  };

  async function servicesOfTeam(team: string): Promise<string[]> {
    const teams = new Map<string, string | null>();
    for (const [name, config] of Object.entries(deps.services ?? {})) teams.set(name, config.team ?? null);
    for (const row of await deps.store.incidents.catalog())
      if (row.team !== null) teams.set(row.name, row.team);
    return [...teams].filter(([, t]) => t === team).map(([name]) => name);
  }

  async function resolve(request: DoraRequest, align?: Interval): Promise<Resolved> {
    const tz = request.tz ?? 'UTC';
    if (!isValidTimeZone(tz))
      throw new ShiplogError('SHIPLOG_INVALID_REQUEST', undefined, [
        { path: 'tz', message: 'is not an IANA time zone (Europe/Berlin, UTC, ...)' },
      ]);
    const untilMs = request.untilMs ?? now();
    let sinceMs = request.sinceMs ?? localDaysBefore(tz, untilMs, DEFAULT_DAYS);
    if (request.sinceMs === undefined && align) sinceMs = intervalStart(tz, sinceMs, align);
    if (sinceMs >= untilMs)
      throw new ShiplogError('SHIPLOG_INVALID_REQUEST', undefined, [
        { path: 'since', message: 'must be before until' },
      ]);
    let services: string[] | null = null;
    if (request.team !== undefined) services = await servicesOfTeam(request.team);
    if (request.service !== undefined)
      services = services === null || services.includes(request.service) ? [request.service] : [];
    return { environment: request.environment ?? 'production', services, sinceMs, untilMs, tz };
  }

  /** Analyses the changes `r` names and hands the facts of each to `each`. */
  async function analyse(r: Resolved, each: (facts: ChangeFacts) => void): Promise<void> {
    const lookbackMs = settings.correlation.lookbackHours * 3_600_000;
    const [facts, dependsOn] = await Promise.all([
      deps.store.dora.read({
        environment: r.environment,
        services: r.services,
        sinceMs: r.sinceMs,
        untilMs: r.untilMs,
        incidentsFromMs: r.sinceMs - 2 * lookbackMs,
        incidentsToMs: r.untilMs + lookbackMs,
        remediationsFromMs: r.sinceMs - 2 * lookbackMs,
        severities: INCIDENT_SEVERITIES.filter((s) => severityRank(s) <= severityRank(settings.minSeverity)),
      }),
      deps.incidents.dependencies(),
    ]);
    analyseChanges({ ...facts, dependsOn }, settings, each);
  }

  const windowOf = (tz: string, sinceMs: number, untilMs: number) => ({
    since: new Date(sinceMs).toISOString(),
    until: new Date(untilMs).toISOString(),
    tz,
    days: localDays(tz, sinceMs, untilMs),
  });

  return {
    async summary(request) {
      const r = await resolve(request);
      const tally = doraTally(request.explain === true);
      await analyse(r, (f) => tally.add(f));
      return tally.figures(windowOf(r.tz, r.sinceMs, r.untilMs));
    },

    async series(request, interval) {
      const r = await resolve(request, interval);
      const spans = intervals(r.tz, r.sinceMs, r.untilMs, interval);
      if (spans.length > MAX_INTERVALS)
        throw new ShiplogError('SHIPLOG_INVALID_REQUEST', undefined, [
          { path: 'since', message: `the window holds ${spans.length} intervals; at most ${MAX_INTERVALS}` },
        ]);
      const tallies = spans.map(() => doraTally(request.explain === true));
      await analyse(r, (f) => tallies[spanOf(spans, f.finishedMs)]?.add(f));
      const items = spans.map((span, i) => ({
        start: new Date(span.startMs).toISOString(),
        end: new Date(span.endMs).toISOString(),
        ...(tallies[i] as DoraTally).figures(windowOf(r.tz, span.startMs, span.endMs)),
      }));
      return { interval, window: windowOf(r.tz, r.sinceMs, r.untilMs), items, nextCursor: null };
    },

    async byService(environment) {
      const r = await resolve({ environment });
      const tallies = new Map<string, DoraTally>();
      await analyse(r, (f) => {
        let tally = tallies.get(f.service);
        if (!tally) tallies.set(f.service, (tally = doraTally()));
        tally.add(f);
      });
      const window = windowOf(r.tz, r.sinceMs, r.untilMs);
      return new Map([...tallies].map(([service, tally]) => [service, tally.figures(window)]));
    },
  };
}

/** The index of the span (in order, each ending where the next starts) holding `ms`, or -1. */
function spanOf(spans: readonly { startMs: number; endMs: number }[], ms: number): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((spans[mid]?.endMs ?? 0) <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo < spans.length && (spans[lo]?.startMs ?? 0) <= ms ? lo : -1;
}
