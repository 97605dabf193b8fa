/**
 * DORA metrics over HTTP on every dialect, against a fixture computed by hand: two weeks of
 * deployments of two services (releases, a hotfix that remediates, a rollback event and a
 * rollback deployment, a failed deployment, a change after the window), incidents of several
 * severities, and windows in Europe/Berlin (whose clocks go back on 2026-10-25) and
 * America/New_York (2026-11-01). Every expected figure is worked out in the comments.
 */
import client from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIncidents } from '../../src/correlate/incidents.js';
import { createDoraMetrics } from '../../src/metrics/dora.js';
import { observeDora } from '../../src/server/metrics.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

const H = 3_600_000;
const MIN = 60_000;

interface Deploy {
  key: string;
  service: string;
  startedAt: string;
  succeededAt?: string;
  failedAt?: string;
  rolledBackAt?: string;
  firstCommitAt?: string;
  extra?: Record<string, unknown>;
}

// Times are UTC. Berlin is UTC+2 until 2026-10-25 01:00Z, then UTC+1.
const DEPLOYS: Deploy[] = [
  // Monday 2026-10-19 00:30 in Berlin, still Sunday in UTC.
  { key: 's0', service: 'search', startedAt: '2026-10-18T22:20:00Z', succeededAt: '2026-10-18T22:30:00Z' },
  // Lead time 24 h.
  {
    key: 'c1',
    service: 'checkout',
    startedAt: '2026-10-19T08:00:00Z',
    succeededAt: '2026-10-19T08:10:00Z',
    firstCommitAt: '2026-10-18T08:10:00Z',
  },
  // Lead time 2 h; INC-1 (sev1, same service) starts 5 min after it finished: failed.
  {
    key: 'c2',
    service: 'checkout',
    startedAt: '2026-10-20T09:50:00Z',
    succeededAt: '2026-10-20T10:00:00Z',
    firstCommitAt: '2026-10-20T08:00:00Z',
  },
  // The hotfix for c2: lead time 25 min, rework; it recovers c2 at 10:45 (INC-1 resolves at 11:00).
  {
    key: 'c3',
    service: 'checkout',
    startedAt: '2026-10-20T10:30:00Z',
    succeededAt: '2026-10-20T10:45:00Z',
    firstCommitAt: '2026-10-20T10:20:00Z',
    extra: { kind: 'hotfix', intent: 'remediation', remediates: 'c2' },
  },
  // Search: lead time 1 h; INC-4 (sev2, same service) starts 2 h later: outside the 15-min window.
  {
    key: 's1',
    service: 'search',
    startedAt: '2026-10-21T13:50:00Z',
    succeededAt: '2026-10-21T14:00:00Z',
    firstCommitAt: '2026-10-21T13:00:00Z',
  },
  // Sunday 01:30 CEST, the night the clocks go back; rolled back at 01:30Z: failed.
  {
    key: 'c4',
    service: 'checkout',
    startedAt: '2026-10-24T23:20:00Z',
    succeededAt: '2026-10-24T23:30:00Z',
    rolledBackAt: '2026-10-25T01:30:00Z',
  },
  // The rollback deployment (names nothing: it rolls back what it replaced, c4). Recovers c4
  // 30 min after the rollback event. Rework; not counted in the failure rate.
  {
    key: 'c5',
    service: 'checkout',
    startedAt: '2026-10-25T01:50:00Z',
    succeededAt: '2026-10-25T02:00:00Z',
    extra: { kind: 'rollback' },
  },
  // Lead time 2 days; INC-2 is only sev3: not failed.
  {
    key: 'c6',
    service: 'checkout',
    startedAt: '2026-10-28T11:50:00Z',
    succeededAt: '2026-10-28T12:00:00Z',
    firstCommitAt: '2026-10-26T12:00:00Z',
  },
  // A failed deployment is not a change.
  { key: 'c7', service: 'checkout', startedAt: '2026-10-29T09:00:00Z', failedAt: '2026-10-29T09:10:00Z' },
  // Carries ticket OPS-7, named by INC-3 (sev2, of search) 6 h later: failed by `ticket`. INC-3
  // never resolves: recovered by c9, after the window.
  {
    key: 'c8',
    service: 'checkout',
    startedAt: '2026-10-30T08:50:00Z',
    succeededAt: '2026-10-30T09:00:00Z',
    extra: { ticket: 'OPS-7' },
  },
  // Finished 10 min before INC-3 (same service): failed; recovered by s3.
  {
    key: 's2',
    service: 'search',
    startedAt: '2026-10-30T14:40:00Z',
    succeededAt: '2026-10-30T14:50:00Z',
    firstCommitAt: '2026-10-29T14:50:00Z',
  },
  // Sunday 2026-11-01 23:30 CET in Berlin, 17:30 EST in New York.
  { key: 's3', service: 'search', startedAt: '2026-11-01T22:20:00Z', succeededAt: '2026-11-01T22:30:00Z' },
  // After the Berlin window (Monday 2026-11-02 10:00 CET).
  { key: 'c9', service: 'checkout', startedAt: '2026-11-03T08:50:00Z', succeededAt: '2026-11-03T09:00:00Z' },
];

const INCIDENTS = [
  {
    key: 'INC-1',
    title: 'checkout 500s',
    service: 'checkout',
    environment: 'production',
    severity: 'sev1',
    startedAt: '2026-10-20T10:05:00Z',
    resolvedAt: '2026-10-20T11:00:00Z',
    status: 'resolved',
  },
  {
    key: 'INC-2',
    title: 'checkout slow',
    service: 'checkout',
    environment: 'production',
    severity: 'sev3',
    startedAt: '2026-10-28T12:05:00Z',
  },
  {
    key: 'INC-3',
    title: 'search results empty',
    service: 'search',
    environment: 'production',
    severity: 'sev2',
    ticket: 'OPS-7',
    startedAt: '2026-10-30T15:00:00Z',
  },
  {
    key: 'INC-4',
    title: 'search latency',
    service: 'search',
    environment: 'production',
    severity: 'sev2',
    startedAt: '2026-10-21T16:00:00Z',
    resolvedAt: '2026-10-21T16:30:00Z',
    status: 'resolved',
  },
];

function eventsOf(d: Deploy): Record<string, unknown>[] {
  const base = { deployment: d.key, service: d.service, environment: 'production' };
  const commits = d.firstCommitAt
    ? [
        { sha: 'aaaa1111', time: d.firstCommitAt },
        { sha: 'bbbb2222', time: d.startedAt },
      ]
    : undefined;
  const events: Record<string, unknown>[] = [
    {
      ...base,
      type: 'deployment.started',
      time: d.startedAt,
      version: `v-${d.key}`,
      ...(commits ? { commits } : {}),
      ...d.extra,
    },
  ];
  if (d.succeededAt) events.push({ ...base, type: 'deployment.succeeded', time: d.succeededAt });
  if (d.failedAt) events.push({ ...base, type: 'deployment.failed', time: d.failedAt });
  if (d.rolledBackAt) events.push({ ...base, type: 'deployment.rolled_back', time: d.rolledBackAt });
  return events;
}

type Figures = {
  window: { since: string; until: string; tz: string; days: number };
  deploymentFrequency: {
    perDay: number;
    count: number;
    tier: string | null;
    explain?: { deployments: string[] };
  };
  leadTime: { medianMs: number | null; p90Ms: number | null; count: number; tier: string | null };
  changeFailureRate: {
    rate: number | null;
    failed: number;
    total: number;
    tier: string | null;
    explain?: { failed: { deployment: string; causes: { cause: string; by?: string }[] }[]; total: string[] };
  };
  recoveryTime: {
    medianMs: number | null;
    count: number;
    tier: string | null;
    explain?: {
      recoveries: { deployment: string; recoveryMs: number; recoveredBy: string }[];
      unrecovered: string[];
    };
  };
  reworkRate: { rate: number | null; rework: number; total: number };
};

describe.each(DIALECTS)('DORA metrics, hand-computed fixture (%s)', (dialect) => {
  let t: TestApp;
  const get = async (query: string) => {
    const response = await t.call('GET', `/v1/metrics/dora${query}`);
    expect(response.status, JSON.stringify(response.json())).toBe(200);
    return response.json() as unknown as Figures;
  };

  beforeAll(async () => {
    t = await testApp(dialect, {
      services: { checkout: { team: 'payments' }, search: { team: 'discovery' } },
    });
    const response = await t.call('POST', '/v1/events', { events: DEPLOYS.flatMap(eventsOf) });
    expect(response.status, JSON.stringify(response.json())).toBe(201);
    for (const incident of INCIDENTS)
      expect((await t.call('POST', '/v1/incidents', incident)).status).toBe(201);
  });
  afterAll(async () => t.close());

  // Europe/Berlin, Monday 2026-10-19 00:00 CEST to Monday 2026-11-02 00:00 CET: 14 local days
  // (337 hours, the night of 2026-10-25 has 25).
  const BERLIN = '?since=2026-10-18T22:00:00Z&until=2026-11-01T23:00:00Z&tz=Europe/Berlin';

  it('gives the five figures of the window', async () => {
    const f = await get(`${BERLIN}&explain=true`);
    expect(f.window).toEqual({
      since: '2026-10-18T22:00:00.000Z',
      until: '2026-11-01T23:00:00.000Z',
      tz: 'Europe/Berlin',
      days: 14,
    });
    // s0 c1 c2 c3 s1 c4 c5 c6 c8 s2 s3: 11 changes (c7 failed, c9 is after), 11 / 14 per day.
    expect(f.deploymentFrequency).toMatchObject({ count: 11, perDay: 11 / 14, tier: 'high' });
    expect(f.deploymentFrequency.explain?.deployments).toEqual([
      's0',
      'c1',
      'c2',
      'c3',
      's1',
      'c4',
      'c5',
      'c6',
      'c8',
      's2',
      's3',
    ]);
    // Lead times (min): c3 25, s1 60, c2 120, c1 1440, s2 1440, c6 2880. Median between the 3rd
    // and 4th: (120 + 1440) / 2 = 780 min; p90 at rank 4.5: (1440 + 2880) / 2 = 2160 min.
    expect(f.leadTime).toMatchObject({ count: 6, medianMs: 780 * MIN, p90Ms: 2160 * MIN, tier: 'elite' });
    // Not rollbacks: 10 (c5 is one). Failed: c2 (INC-1, remediated by c3), c4 (rolled back,
    // rolled back by c5), c8 (INC-3 by ticket), s2 (INC-3, same service within 15 min).
    expect(f.changeFailureRate).toMatchObject({ failed: 4, total: 10, rate: 0.4, tier: 'low' });
    const failed = f.changeFailureRate.explain?.failed ?? [];
    expect(failed.map((x) => x.deployment)).toEqual(['c2', 'c4', 'c8', 's2']);
    expect(failed.map((x) => x.causes.map((c) => `${c.cause}:${c.by ?? ''}`).sort())).toEqual([
      ['incident:INC-1', 'remediated:c3'],
      ['rollback:c5', 'rolled_back:'],
      ['incident:INC-3'],
      ['incident:INC-3'],
    ]);
    // Recoveries: c4 30 min (rollback event 01:30 → c5 02:00), c2 40 min (INC-1 10:05 → c3
    // 10:45, before INC-1's resolution), s2 55 h 30 min (INC-3 10-30 15:00 → s3 11-01 22:30),
    // c8 90 h (INC-3 → c9 11-03 09:00, after the window: INC-3 never resolves). Median between
    // 40 min and 55.5 h: 28 h 5 min, more than a day: low.
    expect(f.recoveryTime).toMatchObject({ count: 4, medianMs: (40 * MIN + 55.5 * H) / 2, tier: 'low' });
    expect(
      f.recoveryTime.explain?.recoveries.map((r) => [r.deployment, r.recoveryMs, r.recoveredBy]),
    ).toEqual([
      ['c2', 40 * MIN, 'c3'],
      ['c4', 30 * MIN, 'c5'],
      ['c8', 90 * H, 'c9'],
      ['s2', 55.5 * H, 's3'],
    ]);
    expect(f.recoveryTime.explain?.unrecovered).toEqual([]);
    // Rework: c3 (hotfix, remediation, remediates c2) and c5 (rollback) of 11.
    expect(f.reworkRate).toEqual(expect.objectContaining({ rework: 2, total: 11, rate: 2 / 11 }));
  });

  it('cuts weeks at local Monday midnight, and a week across the DST change is 7 days', async () => {
    const response = await t.call('GET', `/v1/metrics/dora/series${BERLIN}&interval=week`);
    expect(response.status).toBe(200);
    const series = response.json() as unknown as { items: (Figures & { start: string; end: string })[] };
    // Week 1 ends Monday 2026-10-26 00:00 CET = 2026-10-25T23:00Z: 169 hours.
    expect(series.items.map((i) => [i.start, i.end, i.window.days])).toEqual([
      ['2026-10-18T22:00:00.000Z', '2026-10-25T23:00:00.000Z', 7],
      ['2026-10-25T23:00:00.000Z', '2026-11-01T23:00:00.000Z', 7],
    ]);
    // Week 1: s0 c1 c2 c3 s1 c4 c5 (7, one a day: elite); failed c2 c4 of 6. Week 2: c6 c8 s2
    // s3; failed c8 s2 of 4.
    expect(series.items.map((i) => [i.deploymentFrequency.count, i.deploymentFrequency.tier])).toEqual([
      [7, 'elite'],
      [4, 'high'],
    ]);
    expect(series.items.map((i) => [i.changeFailureRate.failed, i.changeFailureRate.total])).toEqual([
      [2, 6],
      [2, 4],
    ]);
    // The series adds up to the window.
    const whole = await get(BERLIN);
    expect(series.items.reduce((n, i) => n + i.deploymentFrequency.count, 0)).toBe(
      whole.deploymentFrequency.count,
    );
  });

  it('counts days in New York across its DST change (2026-11-01 has 25 hours)', async () => {
    const response = await t.call(
      'GET',
      '/v1/metrics/dora/series?interval=day&tz=America/New_York&since=2026-10-31T04:00:00Z&until=2026-11-02T05:00:00Z',
    );
    const series = response.json() as unknown as {
      window: { days: number };
      items: (Figures & { start: string; end: string })[];
    };
    expect(series.window.days).toBe(2);
    // Saturday Oct 31 has no change; Sunday Nov 1 (04:00Z to 05:00Z next day) has s3 at 22:30Z.
    expect(series.items.map((i) => [i.start, i.end, i.window.days, i.deploymentFrequency.count])).toEqual([
      ['2026-10-31T04:00:00.000Z', '2026-11-01T04:00:00.000Z', 1, 0],
      ['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z', 1, 1],
    ]);
    expect(series.items[0]?.changeFailureRate).toMatchObject({ rate: null, tier: null, total: 0 });
  });

  it('in UTC the same fortnight holds other changes (s0 falls before it)', async () => {
    const f = await get('?since=2026-10-19T00:00:00Z&until=2026-11-02T00:00:00Z');
    expect(f.window.tz).toBe('UTC');
    expect(f.deploymentFrequency.count).toBe(10);
    expect(f.changeFailureRate).toMatchObject({ failed: 4, total: 9 });
  });

  it('filters by team (from the catalog) and by service', async () => {
    // payments = checkout: c1 c2 c3 c4 c5 c6 c8; failed c2 c4 c8 of the 6 that are not rollbacks.
    const team = await get(`${BERLIN}&team=payments`);
    expect(team.deploymentFrequency.count).toBe(7);
    expect(team.changeFailureRate).toMatchObject({ failed: 3, total: 6, rate: 0.5 });
    const service = await get(`${BERLIN}&service=search`);
    // s0 s1 s2 s3; failed s2; lead times 1 h and 24 h: median 12.5 h.
    expect(service.deploymentFrequency.count).toBe(4);
    expect(service.recoveryTime).toMatchObject({ count: 1, medianMs: 55.5 * H });
    expect(service.changeFailureRate).toMatchObject({ failed: 1, total: 4, rate: 0.25 });
    expect(service.leadTime).toMatchObject({ count: 2, medianMs: 12.5 * H });
    const nobody = await get(`${BERLIN}&team=nobody`);
    expect(nobody.deploymentFrequency).toMatchObject({ count: 0, perDay: 0, tier: null });
  });

  it('names every bad parameter with a 400', async () => {
    for (const [query, path] of [
      ['?tz=Mars/Olympus', 'tz'],
      ['?since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z', 'since'],
      ['?since=yesterday', 'since'],
      ['?environment=Prod!', 'environment'],
    ] as const) {
      const response = await t.call('GET', `/v1/metrics/dora${query}`);
      expect(response.status, query).toBe(400);
      expect(JSON.stringify(response.json().error?.details), query).toContain(path);
    }
    const series = await t.call('GET', '/v1/metrics/dora/series?interval=month');
    expect(series.status).toBe(400);
  });

  it('gauges the last 30 days per service, computed once per minute of scrapes', async () => {
    // "Now" is 2026-11-02T00:00Z: the 30 days from 2026-10-03 hold the whole fixture but c9.
    let nowMs = Date.parse('2026-11-02T00:00:00Z');
    const dora = createDoraMetrics({
      store: t.store,
      incidents: createIncidents({ store: t.store }),
      now: () => nowMs,
    });
    let computed = 0;
    const registry = new client.Registry();
    const counted = {
      byService: (environment: string) => {
        computed += 1;
        return dora.byService(environment);
      },
    };
    observeDora(registry, counted, { now: () => nowMs });
    const text = await registry.metrics();
    // checkout: c1 c2 c3 c4 c5 c6 c8, failed c2 c4 c8 of 6, rework c3 c5; search: s0 s1 s2 s3,
    // failed s2 of 4, lead times 1 h and 24 h.
    expect(text).toContain('shiplog_dora_changes{service="checkout",environment="production"} 7');
    expect(text).toContain(
      'shiplog_dora_change_failure_rate{service="checkout",environment="production"} 0.5',
    );
    expect(text).toContain(
      'shiplog_dora_change_failure_rate{service="search",environment="production"} 0.25',
    );
    expect(text).toContain(
      'shiplog_dora_rework_rate{service="checkout",environment="production"} 0.2857142857142857',
    );
    expect(text).toContain(
      'shiplog_dora_lead_time_median_seconds{service="search",environment="production"} 45000',
    );
    expect(text).toContain(
      `shiplog_dora_deployment_frequency_per_day{service="search",environment="production"} ${4 / 30}`,
    );
    // Seven gauges, one computation; a scrape within the minute reuses it, a later one does not.
    expect(computed).toBe(1);
    await registry.metrics();
    expect(computed).toBe(1);
    nowMs += 60_000;
    await registry.metrics();
    expect(computed).toBe(2);
  });

  it('exposes the 30-day figures per service as Prometheus gauges', async () => {
    const response = await t.app.server.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    // The fixture is in the past: the current 30 days may hold none of it, but the gauges exist.
    expect(response.body).toContain('# TYPE shiplog_dora_change_failure_rate gauge');
  });
});
