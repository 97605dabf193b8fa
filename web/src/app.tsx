/** The shell: who is logged in, the navigation, the live-stream indicator, and the routed view. */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, lazy, Suspense, useContext, useEffect, useState, type FormEvent } from 'react';
import { ApiError, getJson, send } from './api';
import { Link, useLocation } from './router';
import { openStream, type StreamState } from './stream';
import type { Identity } from './types';
import { Failure, Loading } from './ui';
import { MatrixView } from './views/matrix';
import { FeedView } from './views/feed';
import { DeploymentView } from './views/deployment';
import { ApprovalsView } from './views/approvals';
import { IncidentsView, IncidentView } from './views/incidents';
import { CompareView } from './views/compare';
import { LedgerView } from './views/ledger';

// Views most visits never open are loaded when first opened (their own chunks).
const DoraView = lazy(() => import('./views/dora'));
const AlertsView = lazy(() => import('./views/alerts'));

const IdentityContext = createContext<Identity | null>(null);

/** The logged-in identity (name, role, scopes). */
export function useIdentity(): Identity {
  const identity = useContext(IdentityContext);
  if (!identity) throw new Error('useIdentity outside the logged-in shell');
  return identity;
}

const NAV: [string, string][] = [
  ['/', 'Matrix'],
  ['/feed', 'Live'],
  ['/approvals', 'Approvals'],
  ['/incidents', 'Incidents'],
  ['/alerts', 'Alerts'],
  ['/dora', 'DORA'],
  ['/compare', 'Compare'],
  ['/ledger', 'Ledger'],
];

function Login({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      await send('POST', '/v1/session', { token });
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }
  return (
    <main className="login">
      <h1>shiplog</h1>
      <form onSubmit={submit} aria-label="Log in">
        <label htmlFor="token">Token</label>
        <input
          id="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        <button type="submit">Log in</button>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <p className="muted small">
          Any shiplog token: the dashboard shows what its role may do. The token is kept in an HttpOnly
          cookie.
        </p>
      </form>
    </main>
  );
}

function View() {
  const { path } = useLocation();
  if (path === '/') return <MatrixView />;
  if (path === '/feed') return <FeedView />;
  if (path === '/approvals') return <ApprovalsView />;
  if (path === '/incidents') return <IncidentsView />;
  if (path.startsWith('/incidents/'))
    return <IncidentView id={decodeURIComponent(path.slice('/incidents/'.length))} />;
  if (path.startsWith('/deployments/'))
    return <DeploymentView id={decodeURIComponent(path.slice('/deployments/'.length))} />;
  if (path === '/alerts') return <AlertsView />;
  if (path === '/dora') return <DoraView />;
  if (path === '/compare') return <CompareView />;
  if (path === '/ledger') return <LedgerView />;
  return <p>No such page.</p>;
}

function Shell({ identity }: { identity: Identity }) {
  const client = useQueryClient();
  const { path } = useLocation();
  const [stream, setStream] = useState<StreamState>('connecting');
  useEffect(() => openStream(client, setStream), [client]);
  async function logout() {
    await send('DELETE', '/v1/session');
    client.clear();
    await client.invalidateQueries({ queryKey: ['session'] });
  }
  return (
    <IdentityContext.Provider value={identity}>
      <header className="top">
        <span className="brand">shiplog</span>
        <nav aria-label="Views">
          {NAV.map(([href, label]) => (
            <Link
              key={href}
              href={href}
              aria-current={(href === '/' ? path === '/' : path.startsWith(href)) ? 'page' : undefined}
            >
              {label}
            </Link>
          ))}
        </nav>
        <span className={`live live-${stream}`} data-testid="stream-state" title="live updates">
          {stream === 'live' ? '● live' : stream}
        </span>
        <span className="who">
          {identity.name} ({identity.role})
        </span>
        <button type="button" className="link" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <main>
        <Suspense fallback={<Loading what="view" />}>
          <View />
        </Suspense>
      </main>
    </IdentityContext.Provider>
  );
}

export function App() {
  const client = useQueryClient();
  const session = useQuery({
    queryKey: ['session'],
    queryFn: () => getJson<Identity>('/v1/session'),
    retry: false,
    staleTime: Infinity,
  });
  if (session.isPending) return <Loading what="session" />;
  if (session.error) {
    if (session.error instanceof ApiError && session.error.status === 401) {
      return <Login onDone={() => void client.invalidateQueries({ queryKey: ['session'] })} />;
    }
    return <Failure error={session.error} />;
  }
  return <Shell identity={session.data} />;
}
