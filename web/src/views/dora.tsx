/**
 * DORA metrics (DESIGN.md §10) per environment and service, with the counts behind each figure
 * and a per-interval chart (plain SVG: no chart library in the bundle). Loaded lazily.
 */
import { useQuery } from '@tanstack/react-query';
import { ApiError, getJson, query } from '../api';
import { str, useSearch } from '../router';
import type { Dora, DoraSeries } from '../types';
import { duration, Empty, Failure, Loading, Page } from '../ui';

const parse = (s: URLSearchParams) => ({
  environment: str(s, 'environment'),
  service: str(s, 'service'),
  interval: str(s, 'interval'),
});

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

function Bars({ label, values }: { label: string; values: { x: string; y: number }[] }) {
  const max = Math.max(1, ...values.map((v) => v.y));
  const w = 600;
  const h = 120;
  const bw = values.length > 0 ? w / values.length : w;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h + 20}`} role="img" aria-label={label}>
        {values.map((v, i) => {
          const bh = (v.y / max) * h;
          return (
            <g key={v.x}>
              <rect x={i * bw + 2} y={h - bh} width={Math.max(bw - 4, 1)} height={bh} className="bar">
                <title>
                  {v.x}: {v.y}
                </title>
              </rect>
            </g>
          );
        })}
        <line x1={0} y1={h} x2={w} y2={h} className="axis" />
      </svg>
      <figcaption>{label}</figcaption>
    </figure>
  );
}

export default function DoraView() {
  const [search, setSearch] = useSearch(parse);
  const environment = search.environment ?? 'production';
  const params = { environment, service: search.service };
  const summary = useQuery({
    queryKey: ['dora', params],
    queryFn: () => getJson<Dora>(`/v1/metrics/dora${query({ ...params, explain: true })}`),
  });
  const series = useQuery({
    queryKey: ['dora', params, 'series', search.interval],
    queryFn: () =>
      getJson<DoraSeries>(
        `/v1/metrics/dora/series${query({ ...params, interval: search.interval ?? 'week' })}`,
      ),
  });
  const filters = (
    <form className="filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        Environment <input value={environment} onChange={(e) => setSearch({ environment: e.target.value })} />
      </label>
      <label>
        Service{' '}
        <input value={search.service ?? ''} onChange={(e) => setSearch({ service: e.target.value })} />
      </label>
      <label>
        Interval{' '}
        <select value={search.interval ?? 'week'} onChange={(e) => setSearch({ interval: e.target.value })}>
          <option value="day">day</option>
          <option value="week">week</option>
        </select>
      </label>
    </form>
  );
  if (summary.isPending)
    return (
      <Page title="DORA metrics" actions={filters}>
        <Loading what="metrics" />
      </Page>
    );
  if (summary.error) {
    const missing = summary.error instanceof ApiError && summary.error.status === 404;
    return (
      <Page title="DORA metrics" actions={filters}>
        {missing ? (
          <Empty>This server has no DORA metrics API (GET /v1/metrics/dora).</Empty>
        ) : (
          <Failure error={summary.error} />
        )}
      </Page>
    );
  }
  const d = summary.data;
  const points = series.data?.items ?? series.data?.series ?? [];
  return (
    <Page title="DORA metrics" actions={filters}>
      <p className="muted small">
        {d.window.since.slice(0, 10)} – {d.window.until.slice(0, 10)} ({d.window.days} days, {d.window.tz})
      </p>
      <div className="cards">
        <article className="card">
          <h2>Deployment frequency</h2>
          <p className="figure">{d.deploymentFrequency.perDay.toFixed(2)}/day</p>
          <p className="small">
            {d.deploymentFrequency.count} changes · {d.deploymentFrequency.tier ?? 'no tier'}
          </p>
        </article>
        <article className="card">
          <h2>Lead time</h2>
          <p className="figure">{duration(d.leadTime.medianMs)}</p>
          <p className="small">
            p90 {duration(d.leadTime.p90Ms)} · {d.leadTime.count} changes · {d.leadTime.tier ?? 'no tier'}
          </p>
        </article>
        <article className="card">
          <h2>Change failure rate</h2>
          <p className="figure">{pct(d.changeFailureRate.rate)}</p>
          <p className="small">
            {d.changeFailureRate.failed} failed of {d.changeFailureRate.total} ·{' '}
            {d.changeFailureRate.tier ?? 'no tier'}
          </p>
        </article>
        <article className="card">
          <h2>Recovery time</h2>
          <p className="figure">{duration(d.recoveryTime.medianMs)}</p>
          <p className="small">
            {d.recoveryTime.count} recoveries · {d.recoveryTime.tier ?? 'no tier'}
          </p>
        </article>
        <article className="card">
          <h2>Rework rate</h2>
          <p className="figure">{pct(d.reworkRate.rate)}</p>
          <p className="small">
            {d.reworkRate.rework} of {d.reworkRate.total} changes unplanned
          </p>
        </article>
      </div>
      {points.length > 0 && (
        <Bars
          label={`Changes per ${search.interval ?? 'week'}`}
          values={points.map((p, i) => ({
            x: p.start ?? p.window?.since ?? String(i),
            y: p.deploymentFrequency.count,
          }))}
        />
      )}
      {d.explain && (
        <details>
          <summary>What was counted (drill-down)</summary>
          <pre className="note">{JSON.stringify(d.explain, null, 2)}</pre>
        </details>
      )}
    </Page>
  );
}
