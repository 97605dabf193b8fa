import { describe, expect, it } from 'vitest';
import { applyMeasurement, nextDue, runStatus, startChecks, type MeasurementPhase } from './run-state.js';
import type { VerificationCheck } from './verification-config.js';

const check = (over: Partial<VerificationCheck> = {}): VerificationCheck => ({
  name: 'c',
  match: {},
  probe: { kind: 'http', url: 'http://x', expectStatus: 200 },
  intervalMs: 1000,
  count: 3,
  failureLimit: 1,
  consecutiveErrorLimit: 2,
  initialDelayMs: 500,
  timeoutMs: 1000,
  ...over,
});

/** The check's state after measurements with these phases, one per interval. */
function after(c: VerificationCheck, phases: MeasurementPhase[]) {
  let [state] = startChecks([c], 0);
  phases.forEach((phase, i) => {
    if (state) state = applyMeasurement(c, state, { phase, atMs: 500 + i * 1000, message: null });
  });
  return state;
}

describe("a check's progress, with Argo Rollouts' meanings", () => {
  it('starts after initialDelay and measures every interval', () => {
    const c = check();
    expect(startChecks([c], 0)[0]?.nextMs).toBe(500);
    expect(after(c, ['successful'])?.nextMs).toBe(1500);
  });

  it('passes after count measurements with at most failureLimit failures', () => {
    expect(after(check(), ['successful', 'failed', 'successful'])).toMatchObject({
      phase: 'successful',
      count: 3,
      failed: 1,
      nextMs: null,
    });
  });

  it('fails as soon as more than failureLimit measurements failed', () => {
    expect(after(check(), ['failed', 'failed'])).toMatchObject({ phase: 'failed', count: 2, nextMs: null });
    expect(after(check({ failureLimit: 0 }), ['failed'])?.phase).toBe('failed');
  });

  it('does not count errors towards count, and errs after more than consecutiveErrorLimit in a row', () => {
    expect(after(check(), ['error', 'error', 'successful'])).toMatchObject({
      phase: 'running',
      count: 1,
      errors: 2,
      consecutiveErrors: 0,
    });
    expect(after(check(), ['error', 'error', 'error'])).toMatchObject({ phase: 'error', errors: 3 });
  });

  it('a run fails when one check fails, passes when all passed, and is due at its soonest check', () => {
    const a = check({ name: 'a' });
    const b = check({ name: 'b', initialDelayMs: 0 });
    const states = startChecks([a, b], 0);
    expect(runStatus(states)).toBe('running');
    expect(nextDue(states)).toBe(0);
    const failed = [after(a, ['failed', 'failed']), states[1]].filter((s) => s !== undefined);
    expect(runStatus(failed)).toBe('failed');
    expect(nextDue(failed)).toBeNull();
    const passed = [
      after(a, ['successful', 'successful', 'successful']),
      after(b, ['successful', 'successful', 'successful']),
    ].filter((s) => s !== undefined);
    expect(runStatus(passed)).toBe('passed');
  });
});
