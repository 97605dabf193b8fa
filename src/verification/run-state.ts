/**
 * A verification run's progress as a pure fold over its measurements, with Argo Rollouts'
 * meanings (docs.argoproj.io, Analysis): each check takes `count` measurements, one every
 * `interval` after `initialDelay`; it fails as soon as more than `failureLimit` measurements
 * failed, and errs (which fails it too) when more than `consecutiveErrorLimit` measurements in
 * a row could not be taken or evaluated. Errors do not count towards `count`. The run fails
 * as soon as one check does (the other checks stop), and passes when every check passed.
 */
import type { VerificationCheck } from './verification-config.js';

export type CheckPhase = 'running' | 'successful' | 'failed' | 'error';
export type MeasurementPhase = 'successful' | 'failed' | 'error';
export type RunStatus = 'running' | 'passed' | 'failed' | 'canceled';

/** One check's progress, stored as JSON in the run's row. */
export interface CheckState {
  readonly name: string;
  readonly kind: 'prometheus' | 'http';
  readonly phase: CheckPhase;
  /** Measurements that succeeded or failed (errors are not counted, as in Argo). */
  readonly count: number;
  readonly successful: number;
  readonly failed: number;
  readonly errors: number;
  readonly consecutiveErrors: number;
  /** When the next measurement is due; null once the check is decided. */
  readonly nextMs: number | null;
  /** The last measurement's message (why it failed or erred), for the answer. */
  readonly message: string | null;
}

/** The checks of a new run started at `startMs`. */
export function startChecks(checks: readonly VerificationCheck[], startMs: number): CheckState[] {
  return checks.map((c) => ({
    name: c.name,
    kind: c.probe.kind,
    phase: 'running',
    count: 0,
    successful: 0,
    failed: 0,
    errors: 0,
    consecutiveErrors: 0,
    nextMs: startMs + c.initialDelayMs,
    message: null,
  }));
}

/** A check's state after one more measurement taken at `atMs`. */
export function applyMeasurement(
  check: VerificationCheck,
  state: CheckState,
  measured: { readonly phase: MeasurementPhase; readonly atMs: number; readonly message: string | null },
): CheckState {
  const next = { ...state, message: measured.message };
  if (measured.phase === 'error') {
    next.errors += 1;
    next.consecutiveErrors += 1;
    if (next.consecutiveErrors > check.consecutiveErrorLimit) return decided(next, 'error');
  } else {
    next.count += 1;
    next.consecutiveErrors = 0;
    if (measured.phase === 'successful') next.successful += 1;
    else next.failed += 1;
    if (next.failed > check.failureLimit) return decided(next, 'failed');
    if (next.count >= check.count) return decided(next, 'successful');
  }
  return { ...next, nextMs: measured.atMs + check.intervalMs };
}

function decided(state: CheckState, phase: CheckPhase): CheckState {
  return { ...state, phase, nextMs: null };
}

/** The run's status from its checks; a failed run stops its other checks. */
export function runStatus(checks: readonly CheckState[]): RunStatus {
  if (checks.some((c) => c.phase === 'failed' || c.phase === 'error')) return 'failed';
  return checks.every((c) => c.phase === 'successful') ? 'passed' : 'running';
}

/** When the run's next measurement is due: the soonest of its running checks (null when decided). */
export function nextDue(checks: readonly CheckState[]): number | null {
  if (runStatus(checks) !== 'running') return null;
  const due = checks.flatMap((c) => (c.phase === 'running' && c.nextMs !== null ? [c.nextMs] : []));
  return due.length === 0 ? null : Math.min(...due);
}
