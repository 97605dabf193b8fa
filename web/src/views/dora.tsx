/**
 * DORA metrics (DESIGN.md §10) per environment and service, with the counts behind each figure
 * and a per-interval chart (plain SVG: no chart library in the bundle). Loaded lazily.
 */
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ApiError, getJson, query } from '../api';
import { Link, str, useSearch } from '../router';
import type { Dora, DoraSeries, FailureCause } from '../types';
import { duration, Empty, Failure, Loading, Page } from '../ui';

const parse = (s: URLSearchParams) => ({
  environment: str(s, 'environment'),
  service: str(s, 'service'),
  interval: str(s, 'interval'),
});

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

const DeploymentLink = ({ id }: { id: string }) => (
  <Link href={`/deployments/${encodeURIComponent(id)}`}>{id}</Link>
);

/** A key the metrics name as a cause: an incident's or a deployment's. */
function CauseText({ cause }: { cause: FailureCause }) {
  if (cause.cause === 'rolled_back') return <>rolled back</>;
  if (cause.cause === 'incident')
    return (
      <>
        incident <Link href={`/incidents/${encodeURIComponent(cause.by)}`}>{cause.by}</Link> ({cause.reason})
      </>
    );
  return (
    <>
      {cause.cause === 'rollback' ? 'rolled back by' : 'remediated by'} <DeploymentLink id={cause.by} />
    </>
  );
}

/** One figure, the counts behind it, and (opened) the deployments it counted. */
function Card(props: {
  id: string;
  title: string;
  figure: string;
  counts: ReactNode;
  drill: { label: string; items: { key: string; body: ReactNode }[] }[];
}) {
  const total = props.drill.reduce((n, d) => n + d.items.length, 0);
  return (
    <article className="card" data-testid={`dora-${props.id}`}>
      <h2>{props.title}</h2>
      <p className="figure" data-testid="figure">
        {props.figure}
      </p>
      <p className="small" data-testid="counts">
        {props.counts}
      </p>
      {total > 0 && (
        <details>
          <summary>What was counted</summary>
          {props.drill
            .filter((d) => d.items.length > 0)
            .map((d) => (
              <div key={d.label}>
                <h3 className="small">
                  {d.label} ({d.items.length})
                </h3>
                <ul className="plain small" data-testid={`drill-${d.label}`}>
                  {d.items.map((item) => (
                    <li key={item.key}>{item.body}</li>
                  ))}
                </ul>
              </div>
            ))}
        </details>
      )}
    </article>
  );
}

const plainList = (keys: string[] | undefined) =>
  (keys ?? []).map((key) => ({ key, body: <DeploymentLink id={key} /> }));

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
        <Card
          id="frequency"
          title="Deployment frequency"
          figure={`${d.deploymentFrequency.perDay.toFixed(2)}/day`}
          counts={`${d.deploymentFrequency.count} changes · ${d.deploymentFrequency.tier ?? 'no tier'}`}
          drill={[{ label: 'changes', items: plainList(d.deploymentFrequency.explain?.deployments) }]}
        />
        <Card
          id="lead-time"
          title="Lead time"
          figure={duration(d.leadTime.medianMs)}
          counts={`p90 ${duration(d.leadTime.p90Ms)} · ${d.leadTime.count} changes · ${d.leadTime.tier ?? 'no tier'}`}
          drill={[
            {
              label: 'changes with commits',
              items: (d.leadTime.explain?.deployments ?? []).map((x) => ({
                key: x.deployment,
                body: (
                  <>
                    <DeploymentLink id={x.deployment} /> {duration(x.leadTimeMs)}
                  </>
                ),
              })),
            },
          ]}
        />
        <Card
          id="failure-rate"
          title="Change failure rate"
          figure={pct(d.changeFailureRate.rate)}
          counts={`${d.changeFailureRate.failed} failed of ${d.changeFailureRate.total} · ${d.changeFailureRate.tier ?? 'no tier'}`}
          drill={[
            {
              label: 'failed',
              items: (d.changeFailureRate.explain?.failed ?? []).map((x) => ({
                key: x.deployment,
                body: (
                  <>
                    <DeploymentLink id={x.deployment} />:{' '}
                    {x.causes.map((c, i) => (
                      <span key={i}>
                        {i > 0 ? '; ' : ''}
                        <CauseText cause={c} />
                      </span>
                    ))}
                  </>
                ),
              })),
            },
            { label: 'counted', items: plainList(d.changeFailureRate.explain?.total) },
            { label: 'rollbacks, not counted', items: plainList(d.changeFailureRate.explain?.excluded) },
          ]}
        />
        <Card
          id="recovery"
          title="Recovery time"
          figure={duration(d.recoveryTime.medianMs)}
          counts={`${d.recoveryTime.count} recoveries · ${d.recoveryTime.tier ?? 'no tier'}`}
          drill={[
            {
              label: 'recoveries',
              items: (d.recoveryTime.explain?.recoveries ?? []).map((x) => ({
                key: x.deployment,
                body: (
                  <>
                    <DeploymentLink id={x.deployment} /> recovered in {duration(x.recoveryMs)} by{' '}
                    {x.recoveredBy}
                  </>
                ),
              })),
            },
            { label: 'not recovered', items: plainList(d.recoveryTime.explain?.unrecovered) },
          ]}
        />
        <Card
          id="rework"
          title="Rework rate"
          figure={pct(d.reworkRate.rate)}
          counts={`${d.reworkRate.rework} of ${d.reworkRate.total} changes unplanned`}
          drill={[
            {
              label: 'rework',
              items: (d.reworkRate.explain?.rework ?? []).map((x) => ({
                key: x.deployment,
                body: (
                  <>
                    <DeploymentLink id={x.deployment} /> {x.why.join(', ')}
                  </>
                ),
              })),
            },
          ]}
        />
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
    </Page>
  );
}
