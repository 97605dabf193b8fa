/**
 * The deployment state machine: `requested → (approved) → started → succeeded | failed |
 * canceled`, `succeeded → rolled_back` (DESIGN.md §3).
 *
 * State is a fold of a commutative, idempotent reducer over a deployment's events, so it is a
 * function of the *set* of events, never of the order they arrived in: late, duplicated and
 * out-of-order events (CI retries, skewed runner clocks) give the same state and duration as
 * in-order ones. Each event has a rank in the lifecycle; the status comes from the
 * highest-ranked event, ties broken by event time and then by the receipt clock (HLC).
 */
import type { EventType } from './event.js';

export const STATUSES = [
  'requested',
  'approved',
  'in_progress',
  'succeeded',
  'failed',
  'rolled_back',
  'canceled',
] as const;
export type Status = (typeof STATUSES)[number];

export interface LifecycleEvent {
  readonly type: EventType;
  readonly timeMs: number;
  /** Receipt clock (formatted HLC), the final tie-breaker. */
  readonly hlc: string;
}

export interface DeploymentState {
  /** The highest-ranked event seen: it decides the status. */
  readonly head: LifecycleEvent;
  /** The deciding terminal event (succeeded, failed or canceled), if any. */
  readonly terminal: LifecycleEvent | null;
  readonly requestedAt: number | null;
  readonly startedAt: number | null;
  readonly rolledBackAt: number | null;
}

const RANK: Record<EventType, number> = {
  'deployment.requested': 0,
  'deployment.started': 1,
  'deployment.succeeded': 2,
  'deployment.failed': 2,
  'deployment.canceled': 2,
  'deployment.rolled_back': 3,
};

const STATUS_OF: Record<EventType, Status> = {
  'deployment.requested': 'requested',
  'deployment.started': 'in_progress',
  'deployment.succeeded': 'succeeded',
  'deployment.failed': 'failed',
  'deployment.canceled': 'canceled',
  'deployment.rolled_back': 'rolled_back',
};

/** Orders events as the state machine sees them: lifecycle rank, event time, receipt clock. */
export function compareLifecycle(a: LifecycleEvent, b: LifecycleEvent): number {
  return RANK[a.type] - RANK[b.type] || a.timeMs - b.timeMs || compareText(a.hlc, b.hlc);
}

/** Folds one event into a state (or starts one). Commutative and idempotent. */
export function applyEvent(state: DeploymentState | null, event: LifecycleEvent): DeploymentState {
  const e: LifecycleEvent = { type: event.type, timeMs: event.timeMs, hlc: event.hlc };
  const rank = RANK[e.type];
  if (state === null) {
    return {
      head: e,
      terminal: rank === 2 ? e : null,
      requestedAt: rank === 0 ? e.timeMs : null,
      startedAt: rank === 1 ? e.timeMs : null,
      rolledBackAt: rank === 3 ? e.timeMs : null,
    };
  }
  return {
    head: compareLifecycle(e, state.head) > 0 ? e : state.head,
    terminal: rank === 2 && (!state.terminal || compareLifecycle(e, state.terminal) > 0) ? e : state.terminal,
    requestedAt: rank === 0 ? min(state.requestedAt, e.timeMs) : state.requestedAt,
    startedAt: rank === 1 ? min(state.startedAt, e.timeMs) : state.startedAt,
    rolledBackAt: rank === 3 ? min(state.rolledBackAt, e.timeMs) : state.rolledBackAt,
  };
}

/** Derives a deployment's state from all its events. */
export function deriveState(events: readonly LifecycleEvent[]): DeploymentState {
  const state = events.reduce<DeploymentState | null>(applyEvent, null);
  if (!state) throw new Error('deriveState needs at least one event');
  return state;
}

/** The public status; `approved` marks a requested deployment whose approvals are granted. */
export function statusOf(state: DeploymentState, approved = false): Status {
  const status = STATUS_OF[state.head.type];
  return status === 'requested' && approved ? 'approved' : status;
}

export function finishedAt(state: DeploymentState): number | null {
  return state.terminal?.timeMs ?? null;
}

/** Wall time from the first start to the deciding terminal event; never negative under skew. */
export function durationMs(state: DeploymentState): number | null {
  const end = finishedAt(state);
  return state.startedAt !== null && end !== null ? Math.max(0, end - state.startedAt) : null;
}

/** True when `a` comes before `b` in lifecycle order (used to merge descriptive fields). */
export function isEarlier(a: LifecycleEvent, b: LifecycleEvent): boolean {
  return compareLifecycle(a, b) < 0;
}

function min(current: number | null, value: number): number {
  return current === null || value < current ? value : current;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
