/**
 * Live updates: one EventSource on GET /v1/stream (the session cookie authenticates it). Each
 * event invalidates the queries it can change, so every view refetches with its own filters:
 * live updates respect them for free. The browser reconnects with Last-Event-ID by itself, and
 * the server catches up from the ledger, so nothing is missed across a drop.
 */
import type { QueryClient } from '@tanstack/react-query';

const AFFECTS: Record<string, string[]> = {
  deployment: [
    'environments',
    'deployments',
    'deployment',
    'feed',
    'compare',
    'dora',
    'approvals',
    'running',
    'silences',
  ],
  approval: ['approvals', 'deployment', 'approvals-of'],
  gate: ['deployment', 'gate-of'],
  incident: ['incidents', 'incident', 'deployment', 'dora'],
  alert: ['alerts'],
};

export type StreamState = 'connecting' | 'live' | 'reconnecting';

export function openStream(client: QueryClient, onState: (state: StreamState) => void): () => void {
  const source = new EventSource('/v1/stream');
  const pending = new Set<string>();
  let timer: number | undefined;
  // Coalesce bursts (a batch of 1000 events) into one refetch per query.
  const flush = () => {
    timer = undefined;
    for (const key of pending) void client.invalidateQueries({ queryKey: [key] });
    pending.clear();
  };
  const handle = (type: string) => () => {
    for (const key of AFFECTS[type] ?? []) pending.add(key);
    timer ??= window.setTimeout(flush, 150);
  };
  for (const type of Object.keys(AFFECTS)) source.addEventListener(type, handle(type));
  source.onopen = () => onState('live');
  source.onerror = () => onState(source.readyState === EventSource.CLOSED ? 'reconnecting' : 'reconnecting');
  onState('connecting');
  return () => {
    source.close();
    if (timer !== undefined) window.clearTimeout(timer);
  };
}
