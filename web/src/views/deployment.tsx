/**
 * One deployment: its timeline, approvals (approve/reject for approvers), gate decisions with
 * every reason in words, incidents naming it, verification, and its ledger inclusion proof
 * verified in this browser (src/proof.ts) against the signed checkpoint and the pinned key.
 */
import { useQuery } from '@tanstack/react-query';
import { getAll, getJson, query } from '../api';
import { useIdentity } from '../app';
import { pinnedOrFirstSeen } from '../pin';
import { verifyDeploymentProof } from '../proof';
import { Link } from '../router';
import type { Approval, DeploymentDetail, DeploymentProof, GateDecision } from '../types';
import { duration, Empty, Failure, Loading, Page, StatusBadge, When } from '../ui';
import { DecideButtons } from './decide';

export function DeploymentView({ id }: { id: string }) {
  const identity = useIdentity();
  const path = `/v1/deployments/${encodeURIComponent(id)}`;
  const detail = useQuery({ queryKey: ['deployment', id], queryFn: () => getJson<DeploymentDetail>(path) });
  const approvals = useQuery({
    queryKey: ['approvals-of', id],
    queryFn: () =>
      getAll<Approval>(`/v1/approvals${query({ state: 'decided', deployment: id, limit: 100 })}`, 1),
  });
  const gate = useQuery({
    queryKey: ['gate-of', id],
    queryFn: () => getAll<GateDecision>(`/v1/gate/decisions${query({ deployment: id, limit: 100 })}`, 1),
  });
  if (detail.isPending) return <Loading what="deployment" />;
  if (detail.error) return <Failure error={detail.error} />;
  const d = detail.data;
  const canApprove =
    (identity.role === 'approver' || identity.role === 'admin') &&
    identity.name !== d.actor &&
    (d.status === 'requested' || d.status === 'approved');
  return (
    <Page title={`${d.service} ${d.version ?? '?'} → ${d.environment}`}>
      <dl className="facts">
        <dt>Deployment</dt>
        <dd>{d.deployment}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={d.status} />
        </dd>
        <dt>By</dt>
        <dd>{d.actor}</dd>
        <dt>Started</dt>
        <dd>
          <When iso={d.startedAt ?? d.requestedAt} />
        </dd>
        <dt>Duration</dt>
        <dd>{duration(d.durationMs)}</dd>
        {d.region && (
          <>
            <dt>Region</dt>
            <dd>{d.region}</dd>
          </>
        )}
        {d.cohort && (
          <>
            <dt>Cohort</dt>
            <dd>
              {d.cohort}
              {d.traffic !== null ? ` (${d.traffic}% traffic)` : ''}
            </dd>
          </>
        )}
        {d.commit && (
          <>
            <dt>Commit</dt>
            <dd className="mono">{d.commit}</dd>
          </>
        )}
        {d.ticket && (
          <>
            <dt>Ticket</dt>
            <dd>{d.ticket}</dd>
          </>
        )}
      </dl>

      <h2>Timeline</h2>
      <ol className="timeline">
        {d.events.map((e, i) => (
          <li key={e.id ?? i}>
            <When iso={typeof e.time === 'string' ? e.time : null} /> <strong>{e.type}</strong>
            {typeof e.actor === 'string' ? ` by ${e.actor}` : ''}
            {typeof e.ledgerIndex === 'number' ? (
              <span className="meta"> · ledger #{e.ledgerIndex}</span>
            ) : null}
          </li>
        ))}
      </ol>

      <h2>Approvals</h2>
      {approvals.data && approvals.data.length > 0 ? (
        <ul className="plain" data-testid="approvals">
          {approvals.data.map((a) => (
            <li key={a.id}>
              <span className={a.decision === 'approve' ? 'ok' : 'bad'}>
                {a.decision === 'approve' ? '✓ approved' : '✕ rejected'}
              </span>{' '}
              by {a.approver} <When iso={a.createdAt} />
              {a.comment ? ` — “${a.comment}”` : ''}
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No approval decisions yet.</Empty>
      )}
      {canApprove ? (
        <DecideButtons deployment={d.deployment} />
      ) : (
        <p className="muted small" data-testid="no-approve">
          {identity.role === 'approver' || identity.role === 'admin'
            ? identity.name === d.actor
              ? 'You cannot approve your own deployment.'
              : 'Nothing to approve in this state.'
            : `Your role (${identity.role}) may not approve.`}
        </p>
      )}

      <h2>Gate decisions</h2>
      {gate.data && gate.data.length > 0 ? (
        <ul className="plain">
          {gate.data.map((g) => (
            <li key={g.decisionId}>
              <span className={g.allow ? 'ok' : 'bad'}>{g.allow ? 'allowed' : 'denied'}</span> for {g.version}
              , asked by {g.askedBy} <When iso={g.decidedAt} />
              {g.overridden && g.override
                ? ` — overridden by ${g.override.by}: ${g.override.justification}`
                : ''}
              {g.reasons.length > 0 && (
                <ul>
                  {g.reasons.map((r) => (
                    <li key={r.code}>
                      {r.message} <span className="meta">({r.code})</span>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <Empty>The gate was not asked about this deployment.</Empty>
      )}

      <h2>Incidents</h2>
      {d.incidents && d.incidents.length > 0 ? (
        <ul className="plain">
          {d.incidents.map((i) => (
            <li key={i.key}>
              <Link href={`/incidents/${encodeURIComponent(i.key)}`}>{i.key}</Link> {i.title} ·{' '}
              {i.severity ?? 'no severity'} · {i.status} · suspect by {i.reason.replace('_', ' ')}
              {i.withinWindow ? ' (within the window)' : ''}
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No incident names this deployment.</Empty>
      )}

      {d.verification && (
        <>
          <h2>Verification</h2>
          <p>
            <StatusBadge status={d.verification.status} /> {d.verification.checks.length} check(s)
          </p>
        </>
      )}

      <h2>Ledger proof</h2>
      <ProofPanel id={id} />
    </Page>
  );
}

function ProofPanel({ id }: { id: string }) {
  const proof = useQuery({
    queryKey: ['deployment', id, 'proof'],
    queryFn: async () => {
      const [body, pinned] = await Promise.all([
        getJson<DeploymentProof>(`/v1/deployments/${encodeURIComponent(id)}/proof`),
        pinnedOrFirstSeen(),
      ]);
      return { body, result: await verifyDeploymentProof(body, pinned) };
    },
  });
  if (proof.isPending) return <Loading what="proof" />;
  if (proof.error) return <Failure error={proof.error} />;
  const { body, result } = proof.data;
  return (
    <div
      className={`proof ${result.ok ? 'proof-ok' : 'proof-bad'}`}
      data-testid="proof"
      data-verified={result.ok}
    >
      <p role={result.ok ? 'status' : 'alert'}>
        <strong>
          {result.ok
            ? `✓ Verified in this browser: ${body.events.length} ledger entries are in the signed checkpoint of ${body.checkpoint.size}`
            : '✕ PROOF FAILED: this deployment is not proven to be in the ledger'}
        </strong>
      </p>
      <ul className="small">
        {result.lines.map((line, i) => (
          <li key={i}>{line}</li>
        ))}
      </ul>
    </div>
  );
}
