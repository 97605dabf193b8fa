/** Deployments waiting for an approval; approvers decide here or on the deployment's page. */
import { useQuery } from '@tanstack/react-query';
import { getAll, query } from '../api';
import { useIdentity } from '../app';
import { Link, str, useSearch } from '../router';
import type { PendingApproval } from '../types';
import { Empty, Failure, Filters, Loading, Page, TextFilter, When } from '../ui';
import { DecideButtons } from './decide';

const parse = (s: URLSearchParams) => ({ environment: str(s, 'environment') });

export function ApprovalsView() {
  const identity = useIdentity();
  const [search, setSearch] = useSearch(parse);
  const pending = useQuery({
    queryKey: ['approvals', search],
    queryFn: () =>
      getAll<PendingApproval>(`/v1/approvals${query({ state: 'pending', limit: 200, ...search })}`, 2),
  });
  const canApprove = identity.role === 'approver' || identity.role === 'admin';
  const mine = (p: PendingApproval) => p.actor === identity.name;
  return (
    <Page
      title="Approvals waiting"
      actions={
        <Filters>
          <TextFilter
            label="Environment"
            value={search.environment}
            onChange={(environment) => setSearch({ environment })}
          />
        </Filters>
      }
    >
      {!canApprove && (
        <p className="muted">Your role ({identity.role}) may not approve: this list is read-only.</p>
      )}
      {pending.isPending ? (
        <Loading what="approvals" />
      ) : pending.error ? (
        <Failure error={pending.error} />
      ) : pending.data.length === 0 ? (
        <Empty>Nothing waits for an approval.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Deployment</th>
              <th scope="col">Service</th>
              <th scope="col">Environment</th>
              <th scope="col">Version</th>
              <th scope="col">Requested by</th>
              <th scope="col">Requested</th>
              <th scope="col">Decisions</th>
              <th scope="col">Decide</th>
            </tr>
          </thead>
          <tbody>
            {pending.data.map((p) => (
              <tr key={p.deployment}>
                <td>
                  <Link href={`/deployments/${encodeURIComponent(p.deployment)}`}>{p.deployment}</Link>
                </td>
                <td>{p.service}</td>
                <td>{p.environment}</td>
                <td>{p.version ?? '?'}</td>
                <td>{p.actor}</td>
                <td>
                  <When iso={p.requestedAt} />
                </td>
                <td>{p.decisions}</td>
                <td>
                  {canApprove && !mine(p) ? (
                    <DecideButtons deployment={p.deployment} />
                  ) : (
                    <span className="muted">{mine(p) ? 'your own' : '—'}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}
