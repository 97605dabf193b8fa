/** Version drift between two environments (GET /v1/state/compare). */
import { useQuery } from '@tanstack/react-query';
import { getAll, query } from '../api';
import { Link, str, useSearch } from '../router';
import type { CompareItem, Side } from '../types';
import { Empty, Failure, Loading, Page, When } from '../ui';

const parse = (s: URLSearchParams) => ({ a: str(s, 'a'), b: str(s, 'b'), all: str(s, 'all') });

function SideCell({ side }: { side: Side | null }) {
  if (!side) return <span className="muted">not deployed</span>;
  return (
    <>
      <Link href={`/deployments/${encodeURIComponent(side.deployment)}`}>{side.version ?? '?'}</Link>{' '}
      <span className="meta">
        {side.deployedBy ?? '?'} · <When iso={side.since} />
      </span>
    </>
  );
}

export function CompareView() {
  const [search, setSearch] = useSearch(parse);
  const a = search.a ?? 'staging';
  const b = search.b ?? 'production';
  const compare = useQuery({
    queryKey: ['compare', a, b],
    queryFn: () => getAll<CompareItem>(`/v1/state/compare${query({ a, b, limit: 1000 })}`, 5),
  });
  const items = (compare.data ?? []).filter((i) => search.all === '1' || i.differs);
  return (
    <Page
      title={`Compare ${a} and ${b}`}
      actions={
        <form className="filters" onSubmit={(e) => e.preventDefault()}>
          <label>
            A <input value={a} onChange={(e) => setSearch({ a: e.target.value })} />
          </label>
          <label>
            B <input value={b} onChange={(e) => setSearch({ b: e.target.value })} />
          </label>
          <label>
            <input
              type="checkbox"
              checked={search.all === '1'}
              onChange={(e) => setSearch({ all: e.target.checked ? '1' : undefined })}
            />{' '}
            show equal ones too
          </label>
        </form>
      }
    >
      {compare.isPending ? (
        <Loading what="comparison" />
      ) : compare.error ? (
        <Failure error={compare.error} />
      ) : items.length === 0 ? (
        <Empty>
          No drift between {a} and {b}.
        </Empty>
      ) : (
        <table data-testid="compare">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Region</th>
              <th scope="col">{a}</th>
              <th scope="col">{b}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={`${i.service}/${i.region ?? ''}`} className={i.differs ? 'drift' : undefined}>
                <th scope="row">{i.service}</th>
                <td>{i.region ?? '—'}</td>
                <td>
                  <SideCell side={i.a} />
                </td>
                <td>
                  <SideCell side={i.b} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}
