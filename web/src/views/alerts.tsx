/**
 * Alerts (docs/alerts.md): firing, acknowledged and resolved alerts, newest first, each with its
 * deployment, and Acknowledge beside the firing ones for the roles the API lets acknowledge;
 * below, shiplog's own Alertmanager silences of deploying services. Loaded lazily.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getAll, query, send } from '../api';
import { useIdentity } from '../app';
import { Link, str, useSearch } from '../router';
import type { Alert, Role, Silence } from '../types';
import { ChoiceFilter, Empty, Failure, Filters, Loading, Page, StatusBadge, When } from '../ui';

/** The roles of the API's `alerts:ack` action (src/server/access.ts); the server checks anyway. */
const ACK_ROLES: readonly Role[] = ['admin', 'approver', 'deployer'];

const parse = (s: URLSearchParams) => ({ status: str(s, 'status') });

function AckButton({ alert }: { alert: Alert }) {
  const client = useQueryClient();
  const ack = useMutation({
    mutationFn: () => send('POST', `/v1/alerts/${encodeURIComponent(alert.id)}/ack`),
    onSuccess: () => client.invalidateQueries({ queryKey: ['alerts'] }),
  });
  return (
    <>
      <button
        type="button"
        disabled={ack.isPending}
        aria-label={`Acknowledge ${alert.rule} ${alert.service ?? ''}`.trim()}
        onClick={() => ack.mutate()}
      >
        Acknowledge
      </button>
      {ack.error && <Failure error={ack.error} />}
    </>
  );
}

export default function AlertsView() {
  const identity = useIdentity();
  const [search, setSearch] = useSearch(parse);
  const alerts = useQuery({
    queryKey: ['alerts', search],
    queryFn: () => getAll<Alert>(`/v1/alerts${query({ limit: 200, status: search.status })}`, 2),
  });
  const silences = useQuery({
    queryKey: ['silences'],
    queryFn: () => getAll<Silence>('/v1/silences?limit=200', 1),
  });
  const canAck = ACK_ROLES.includes(identity.role);
  return (
    <Page
      title="Alerts"
      actions={
        <Filters>
          <ChoiceFilter
            label="Status"
            value={search.status}
            choices={['firing', 'acknowledged', 'resolved']}
            onChange={(status) => setSearch({ status })}
          />
        </Filters>
      }
    >
      {!canAck && (
        <p className="muted" data-testid="no-ack">
          Your role ({identity.role}) may not acknowledge alerts: this list is read-only.
        </p>
      )}
      {alerts.isPending ? (
        <Loading what="alerts" />
      ) : alerts.error ? (
        <Failure error={alerts.error} />
      ) : alerts.data.length === 0 ? (
        <Empty>No alerts{search.status ? ` ${search.status}` : ''}.</Empty>
      ) : (
        <table data-testid="alerts">
          <thead>
            <tr>
              <th scope="col">Alert</th>
              <th scope="col">Severity</th>
              <th scope="col">Status</th>
              <th scope="col">Service / environment</th>
              <th scope="col">Deployment</th>
              <th scope="col">Started</th>
              <th scope="col">Acknowledged</th>
              <th scope="col">Resolved</th>
              {canAck && <th scope="col">Act</th>}
            </tr>
          </thead>
          <tbody>
            {alerts.data.map((a) => (
              <tr key={a.id} data-alert={a.id} data-status={a.status}>
                <td>
                  <strong>{a.rule}</strong> <span className="meta">{a.kind.replace(/_/g, ' ')}</span>
                  <br />
                  {a.summary}
                </td>
                <td>{a.severity}</td>
                <td>
                  <StatusBadge status={a.status} />
                  {a.heldUntil && (
                    <span className="meta"> held until {a.heldUntil.replace('T', ' ').slice(0, 19)}</span>
                  )}
                </td>
                <td>
                  {a.service ?? '—'}
                  {a.environment ? ` / ${a.environment}` : ''}
                </td>
                <td>
                  {a.deployment ? (
                    <Link href={`/deployments/${encodeURIComponent(a.deployment)}`}>{a.deployment}</Link>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  <When iso={a.startsAt} />
                </td>
                <td>
                  {a.acknowledgedAt ? (
                    <>
                      {a.acknowledgedBy} <When iso={a.acknowledgedAt} />
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  <When iso={a.resolvedAt} />
                </td>
                {canAck && <td>{a.status === 'firing' ? <AckButton alert={a} /> : '—'}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Silences while deploying</h2>
      {silences.isPending ? (
        <Loading what="silences" />
      ) : silences.error ? (
        <Failure error={silences.error} />
      ) : silences.data.length === 0 ? (
        <Empty>No silences (shiplog silences Alertmanager only with alerts.suppression configured).</Empty>
      ) : (
        <table data-testid="silences">
          <thead>
            <tr>
              <th scope="col">Service / environment</th>
              <th scope="col">Deployment</th>
              <th scope="col">State</th>
              <th scope="col">Matchers</th>
              <th scope="col">Ends</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {silences.data.map((s) => (
              <tr key={`${s.service}/${s.environment}`}>
                <td>
                  {s.service} / {s.environment}
                </td>
                <td>
                  <Link href={`/deployments/${encodeURIComponent(s.deployment)}`}>{s.deployment}</Link>
                </td>
                <td>{s.state}</td>
                <td>
                  <code>{s.matchers.join(', ')}</code>
                </td>
                <td>{(s.endsAt ?? s.holdUntil)?.replace('T', ' ').slice(0, 19) ?? '—'}</td>
                <td>{s.lastError ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}
