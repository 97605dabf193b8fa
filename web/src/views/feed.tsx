/** Running deployments, live: elapsed time against the expected one (median of recent successes). */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { getAll, query } from '../api';
import { Link, str, useSearch } from '../router';
import type { Deployment } from '../types';
import { duration, Empty, Failure, Filters, Loading, Page, TextFilter } from '../ui';

const parse = (s: URLSearchParams) => ({ service: str(s, 'service'), environment: str(s, 'environment') });

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? null;
}

export function FeedView() {
  const [search, setSearch] = useSearch(parse);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const running = useQuery({
    queryKey: ['running', search],
    queryFn: () =>
      getAll<Deployment>(`/v1/deployments${query({ status: 'in_progress', limit: 200, ...search })}`, 1),
  });
  const recent = useQuery({
    queryKey: ['deployments', 'succeeded', search],
    queryFn: () =>
      getAll<Deployment>(`/v1/deployments${query({ status: 'succeeded', limit: 500, ...search })}`, 1),
  });
  const expected = (d: Deployment) =>
    median(
      (recent.data ?? [])
        .filter((r) => r.service === d.service && r.environment === d.environment && r.durationMs !== null)
        .map((r) => r.durationMs as number),
    );
  return (
    <Page
      title="Running now"
      actions={
        <Filters>
          <TextFilter label="Service" value={search.service} onChange={(service) => setSearch({ service })} />
          <TextFilter
            label="Environment"
            value={search.environment}
            onChange={(environment) => setSearch({ environment })}
          />
        </Filters>
      }
    >
      {running.isPending ? (
        <Loading what="running deployments" />
      ) : running.error ? (
        <Failure error={running.error} />
      ) : running.data.length === 0 ? (
        <Empty>Nothing is deploying right now.</Empty>
      ) : (
        <ul className="feed" data-testid="feed">
          {running.data.map((d) => {
            const elapsed = now - Date.parse(d.startedAt ?? d.updatedAt);
            const exp = expected(d);
            const ratio = exp ? Math.min(elapsed / exp, 2) : null;
            return (
              <li key={d.deployment}>
                <Link href={`/deployments/${encodeURIComponent(d.deployment)}`}>
                  <strong>{d.service}</strong> {d.version ?? '?'} → {d.environment}
                  {d.region ? ` (${d.region})` : ''}
                  {d.cohort ? ` · cohort ${d.cohort}` : ''}
                </Link>{' '}
                <span className="meta">by {d.actor}</span>
                <div className="progress-line">
                  <progress
                    max={100}
                    value={ratio === null ? undefined : Math.min(ratio, 1) * 100}
                    aria-label={`elapsed ${duration(elapsed)} of expected ${duration(exp)}`}
                  />
                  <span className={ratio !== null && ratio > 1 ? 'overdue' : undefined}>
                    {duration(elapsed)} elapsed · expected{' '}
                    {exp ? duration(exp) : 'unknown (no earlier success)'}
                    {ratio !== null && ratio > 1 ? ' · overdue' : ''}
                  </span>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </Page>
  );
}
