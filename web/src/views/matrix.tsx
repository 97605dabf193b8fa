/**
 * The environment matrix: services × environments in promotion order. A cell shows what runs
 * (version, who, when; one line per region), what is deploying (with its canary cohort and
 * traffic), a failed latest attempt beside the last success, and drift from the upstream
 * environment. Filters (service text, environments, drift only) live in the URL.
 */
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo } from 'react';
import { getAll, getJson, query } from '../api';
import { chipOf, promotionOrder } from '../environments';
import { Link, str, useSearch } from '../router';
import type { Deployment, EnvironmentRow, Policies } from '../types';
import { ago, Failure, Filters, Loading, Page } from '../ui';

interface Cell {
  rows: EnvironmentRow[];
  running: Deployment[];
  failed: Deployment | undefined;
}

const parse = (s: URLSearchParams) => ({ q: str(s, 'q'), env: str(s, 'env'), drift: str(s, 'drift') });

function version(rows: EnvironmentRow[]): string | null {
  const versions = [...new Set(rows.map((r) => r.current?.version).filter((v): v is string => !!v))];
  return versions.length === 1 ? (versions[0] as string) : versions.length > 1 ? versions.join(' / ') : null;
}

export function MatrixView() {
  const [search, setSearch] = useSearch(parse);
  // Page by page, each rendered as it arrives: the first screen paints after one request.
  const pages = useInfiniteQuery({
    queryKey: ['environments'],
    queryFn: ({ pageParam }) =>
      getJson<{ items: EnvironmentRow[]; nextCursor: string | null }>(
        `/v1/environments${query({ limit: 1000, cursor: pageParam })}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = pages;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const environments = {
    isPending: pages.isPending,
    error: pages.error,
    data: useMemo(() => pages.data?.pages.flatMap((p) => p.items), [pages.data]),
  };
  const running = useQuery({
    queryKey: ['running'],
    queryFn: async () => {
      const [inProgress, waiting] = await Promise.all([
        getAll<Deployment>('/v1/deployments?status=in_progress&limit=1000', 3),
        getAll<Deployment>('/v1/deployments?status=requested&limit=1000', 1),
      ]);
      return [...inProgress, ...waiting];
    },
  });
  const failed = useQuery({
    queryKey: ['deployments', 'failed'],
    queryFn: () =>
      getAll<Deployment>(
        `/v1/deployments${query({ status: 'failed', limit: 500, since: new Date(Date.now() - 7 * 86_400_000).toISOString() })}`,
        1,
      ),
  });
  const policies = useQuery({ queryKey: ['policies'], queryFn: () => getJson<Policies>('/v1/policies') });

  const model = useMemo(() => {
    const rows = environments.data ?? [];
    const cells = new Map<string, Cell>();
    const cell = (service: string, env: string) => {
      const key = `${service}\u0000${env}`;
      let c = cells.get(key);
      if (!c) cells.set(key, (c = { rows: [], running: [], failed: undefined }));
      return c;
    };
    for (const row of rows) cell(row.service, row.environment).rows.push(row);
    for (const d of running.data ?? []) cell(d.service, d.environment).running.push(d);
    for (const d of failed.data ?? []) {
      const c = cell(d.service, d.environment);
      const since =
        c.rows
          .map((r) => r.current?.since ?? '')
          .sort()
          .at(-1) ?? '';
      if ((d.finishedAt ?? d.updatedAt) >= since && (!c.failed || d.updatedAt > c.failed.updatedAt))
        c.failed = d;
    }
    const services = [...new Set([...cells.keys()].map((k) => k.split('\u0000')[0] as string))].sort();
    const envs = promotionOrder([...cells.keys()].map((k) => k.split('\u0000')[1] as string));
    return { cells, services, envs };
  }, [environments.data, running.data, failed.data]);

  const shownEnvs = search.env ? model.envs.filter((e) => search.env?.split(',').includes(e)) : model.envs;
  const needle = search.q?.toLowerCase();
  const drifts = (service: string, env: string): string | null => {
    const index = model.envs.indexOf(env);
    const upstream = index > 0 ? model.envs[index - 1] : undefined;
    if (!upstream) return null;
    const mine = version(model.cells.get(`${service}\u0000${env}`)?.rows ?? []);
    const theirs = version(model.cells.get(`${service}\u0000${upstream}`)?.rows ?? []);
    return mine && theirs && mine !== theirs ? `${upstream} runs ${theirs}` : null;
  };
  const services = model.services.filter(
    (s) =>
      (!needle || s.toLowerCase().includes(needle)) &&
      (search.drift !== '1' || shownEnvs.some((e) => drifts(s, e) !== null)),
  );

  return (
    <Page
      title="Environments"
      actions={
        <Filters>
          <label>
            Service{' '}
            <input
              type="search"
              name="q"
              value={search.q ?? ''}
              placeholder="filter"
              onChange={(e) => setSearch({ q: e.target.value })}
            />
          </label>
          <label>
            Environments{' '}
            <input
              type="text"
              name="env"
              value={search.env ?? ''}
              placeholder="all (comma-separated)"
              onChange={(e) => setSearch({ env: e.target.value })}
            />
          </label>
          <label>
            <input
              type="checkbox"
              checked={search.drift === '1'}
              onChange={(e) => setSearch({ drift: e.target.checked ? '1' : undefined })}
            />{' '}
            drift only
          </label>
        </Filters>
      }
    >
      {environments.isPending ? (
        <Loading what="environments" />
      ) : environments.error ? (
        <Failure error={environments.error} />
      ) : model.services.length === 0 ? (
        <p className="muted">No deployments recorded yet. Post one to /v1/events (see the README tour).</p>
      ) : (
        <div className="table-wrap">
          <table className="matrix" data-testid="matrix">
            <caption className="sr-only">Current version of each service in each environment</caption>
            <thead>
              <tr>
                <th scope="col">Service</th>
                {shownEnvs.map((env) => {
                  const chip = chipOf(policies.data?.environments[env]);
                  return (
                    <th scope="col" key={env}>
                      {env}
                      {chip && <span className={`chip chip-${chip.kind}`}>{chip.text}</span>}
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {services.map((service) => (
                <tr key={service} data-service={service}>
                  <th scope="row">{service}</th>
                  {shownEnvs.map((env) => {
                    const c = model.cells.get(`${service}\u0000${env}`);
                    const drift = drifts(service, env);
                    return (
                      <td key={env} className={drift ? 'drift' : undefined} data-env={env}>
                        {c ? <CellView cell={c} drift={drift} /> : <span className="muted">—</span>}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small">
            {services.length} of {model.services.length} services · {shownEnvs.length} environments · drift:
            the version differs from the environment to the left
          </p>
        </div>
      )}
    </Page>
  );
}

function CellView({ cell, drift }: { cell: Cell; drift: string | null }) {
  return (
    <div className="cell">
      {(cell.rows.some((r) => r.current) ? cell.rows.filter((r) => r.current) : cell.rows.slice(0, 1)).map(
        (row) => (
          <div key={row.region ?? ''} className="region">
            {row.region && <span className="region-name">{row.region}</span>}
            {row.current ? (
              <Link href={`/deployments/${encodeURIComponent(row.current.deployment)}`} className="version">
                {row.current.version ?? '?'}
              </Link>
            ) : (
              <span className="muted">none yet</span>
            )}
            {row.current && (
              <span className="meta">
                {row.current.deployedBy ?? '?'} · {ago(row.current.since)}
              </span>
            )}
          </div>
        ),
      )}
      {cell.running.map((d) => (
        <div key={d.deployment} className="running">
          <Link href={`/deployments/${encodeURIComponent(d.deployment)}`}>
            {d.status === 'requested' ? '⏳ awaiting approval: ' : '↻ '}
            {d.version ?? '?'}
            {d.region ? ` ${d.region}` : ''}
            {d.cohort ? ` · cohort ${d.cohort}` : ''}
            {d.traffic !== null ? ` · ${d.traffic}%` : ''}
          </Link>{' '}
          <span className="meta">{d.actor}</span>
        </div>
      ))}
      {cell.failed && (
        <div className="failed-attempt">
          <Link href={`/deployments/${encodeURIComponent(cell.failed.deployment)}`}>
            ✕ {cell.failed.version ?? '?'} failed
          </Link>{' '}
          <span className="meta">{ago(cell.failed.finishedAt ?? cell.failed.updatedAt)}</span>
        </div>
      )}
      {drift && <div className="drift-note">≠ {drift}</div>}
    </div>
  );
}
