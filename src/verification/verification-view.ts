/**
 * How a verification run is shown on its deployment (`GET /v1/deployments/{deployment}`,
 * DESIGN.md §11): the run's status, each check's counts and its measurements with their
 * ledger indexes.
 */
import type { Store } from '../store/database.js';
import type { VerificationRunRow } from '../store/verifications-repository.js';
import type { Value } from './expression.js';
import type { CheckState, RunStatus } from './run-state.js';

export type Trigger = 'succeeded' | 'rolled_back';

/** `verification` of a deployment's answer. */
export interface VerificationView {
  readonly status: RunStatus;
  readonly trigger: Trigger;
  /** The version that must be answering (after a rollback: the one rolled back to). */
  readonly version: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly checks: readonly CheckView[];
}

export interface CheckView {
  readonly name: string;
  readonly kind: 'prometheus' | 'http';
  readonly status: 'running' | 'passed' | 'failed';
  readonly count: number;
  readonly successful: number;
  readonly failed: number;
  readonly errors: number;
  readonly message: string | null;
  readonly measurements: readonly {
    at: string;
    phase: string;
    value: unknown;
    message: string | null;
    ledgerIndex: number | null;
  }[];
}

/** The answer's `verification` for a stored run, with its measurements. */
export async function verificationView(store: Store, run: VerificationRunRow): Promise<VerificationView> {
  const measurements = await store.verifications.measurements(run.id);
  const states = JSON.parse(run.checks) as CheckState[];
  return {
    status: run.status as RunStatus,
    trigger: run.trigger as Trigger,
    version: run.version,
    startedAt: new Date(run.started_ms).toISOString(),
    finishedAt: run.finished_ms === null ? null : new Date(run.finished_ms).toISOString(),
    checks: states.map((s) => ({
      name: s.name,
      kind: s.kind,
      status: s.phase === 'running' ? 'running' : s.phase === 'successful' ? 'passed' : 'failed',
      count: s.count,
      successful: s.successful,
      failed: s.failed,
      errors: s.errors,
      message: s.message,
      measurements: measurements
        .filter((m) => m.check_name === s.name)
        .map((m) => ({
          at: new Date(m.at_ms).toISOString(),
          phase: m.phase,
          value: m.value === null ? null : (JSON.parse(m.value) as unknown),
          message: m.message,
          ledgerIndex: m.ledger_index,
        })),
    })),
  };
}

/** A measured value as JSON: NaN and infinities (valid Prometheus samples) become their PromQL spelling. */
export function jsonValue(value: Value | null): unknown {
  const one = (n: number | boolean | string) =>
    typeof n === 'number' && !Number.isFinite(n) ? (Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf') : n;
  if (value === null) return null;
  return Array.isArray(value)
    ? (value as readonly number[]).map(one)
    : one(value as number | boolean | string);
}
