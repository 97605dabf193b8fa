/** Incidents (and how many alerts fire) with ranked suspects and the post-mortem timeline. */
import { useQuery } from '@tanstack/react-query';
import { getAll, getJson, query } from '../api';
import { Link, str, useSearch } from '../router';
import type { Alert, Incident, Suspect, TimelineItem } from '../types';
import {
  ChoiceFilter,
  duration,
  Empty,
  Failure,
  Filters,
  Loading,
  Page,
  StatusBadge,
  TextFilter,
  When,
} from '../ui';

const parse = (s: URLSearchParams) => ({
  service: str(s, 'service'),
  environment: str(s, 'environment'),
  status: str(s, 'status'),
});

export function IncidentsView() {
  const [search, setSearch] = useSearch(parse);
  const incidents = useQuery({
    queryKey: ['incidents', search],
    queryFn: () => getAll<Incident>(`/v1/incidents${query({ limit: 200, ...search })}`, 1),
  });
  const firing = useQuery({
    queryKey: ['alerts', 'firing'],
    queryFn: () => getAll<Alert>('/v1/alerts?status=firing&limit=200', 1),
  });
  return (
    <Page
      title="Incidents"
      actions={
        <Filters>
          <TextFilter label="Service" value={search.service} onChange={(service) => setSearch({ service })} />
          <ChoiceFilter
            label="Status"
            value={search.status}
            choices={['triggered', 'acknowledged', 'resolved']}
            onChange={(status) => setSearch({ status })}
          />
        </Filters>
      }
    >
      {incidents.isPending ? (
        <Loading what="incidents" />
      ) : incidents.error ? (
        <Failure error={incidents.error} />
      ) : incidents.data.length === 0 ? (
        <Empty>No incidents.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Incident</th>
              <th scope="col">Service</th>
              <th scope="col">Severity</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col">Lasted</th>
            </tr>
          </thead>
          <tbody>
            {incidents.data.map((i) => (
              <tr key={i.key}>
                <td>
                  <Link href={`/incidents/${encodeURIComponent(i.key)}`}>{i.key}</Link> {i.title}
                </td>
                <td>
                  {i.service}
                  {i.environment ? ` / ${i.environment}` : ''}
                </td>
                <td>{i.severity ?? '—'}</td>
                <td>
                  <StatusBadge status={i.status} />
                </td>
                <td>
                  <When iso={i.startedAt} />
                </td>
                <td>
                  {i.resolvedAt ? duration(Date.parse(i.resolvedAt) - Date.parse(i.startedAt)) : 'open'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {firing.isSuccess && (
        <p>
          <Link href="/alerts?status=firing">
            {firing.data.length === 0
              ? 'No alert is firing'
              : `${firing.data.length}${firing.data.length === 200 ? '+' : ''} alert${firing.data.length === 1 ? '' : 's'} firing`}
          </Link>
        </p>
      )}
    </Page>
  );
}

export function IncidentView({ id }: { id: string }) {
  const path = `/v1/incidents/${encodeURIComponent(id)}`;
  const incident = useQuery({
    queryKey: ['incident', id],
    queryFn: () =>
      getJson<
        { incident?: Incident & { suspects: Suspect[] } } & Partial<Incident> & { suspects?: Suspect[] }
      >(path),
  });
  const timeline = useQuery({
    queryKey: ['incident', id, 'timeline'],
    queryFn: () => getJson<{ items: TimelineItem[] }>(`${path}/timeline?format=json`),
  });
  if (incident.isPending) return <Loading what="incident" />;
  if (incident.error) return <Failure error={incident.error} />;
  const i = (incident.data.incident ?? incident.data) as Incident & { suspects?: Suspect[] };
  const suspects = incident.data.suspects ?? i.suspects ?? [];
  return (
    <Page title={`${i.key}: ${i.title}`}>
      <p>
        <StatusBadge status={i.status} /> {i.severity ?? 'no severity'} · {i.service}
        {i.environment ? ` / ${i.environment}` : ''} · started <When iso={i.startedAt} />
      </p>
      <h2>Suspects, most likely first</h2>
      {suspects.length === 0 ? (
        <Empty>No deployment in the lookback.</Empty>
      ) : (
        <ol className="suspects" data-testid="suspects">
          {suspects.map((s) => (
            <li key={s.deployment}>
              <Link href={`/deployments/${encodeURIComponent(s.deployment)}`}>
                {s.service} {s.version ?? '?'} → {s.environment}
                {s.region ? ` (${s.region})` : ''}
              </Link>{' '}
              <span className="meta">
                {s.reason.replace('_', ' ')} · finished {duration(s.deltaMs)} before
                {s.withinWindow ? ' · within the window' : ''}
              </span>
            </li>
          ))}
        </ol>
      )}
      <h2>Post-mortem timeline</h2>
      {timeline.isPending ? (
        <Loading what="timeline" />
      ) : timeline.error ? (
        <Failure error={timeline.error} />
      ) : (
        <ol className="timeline">
          {timeline.data.items.map((t, n) => (
            <li key={n}>
              <time dateTime={t.at}>{t.at.replace('T', ' ').slice(0, 19)}</time> <strong>{t.kind}</strong>{' '}
              {t.what}{' '}
              <span className="meta">
                {t.who}
                {t.ledgerIndex !== null ? ` · ledger #${t.ledgerIndex}` : ''}
              </span>
            </li>
          ))}
        </ol>
      )}
    </Page>
  );
}
