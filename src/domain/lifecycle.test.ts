import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EVENT_TYPES } from './event.js';
import { deriveState, durationMs, finishedAt, statusOf, type LifecycleEvent } from './lifecycle.js';

const at = (type: LifecycleEvent['type'], timeMs: number, hlc = String(timeMs)): LifecycleEvent => ({
  type,
  timeMs,
  hlc,
});

describe('deployment lifecycle', () => {
  it('follows requested → started → succeeded', () => {
    const events = [
      at('deployment.requested', 0),
      at('deployment.started', 1000),
      at('deployment.succeeded', 61_000),
    ];
    const state = deriveState(events);
    expect(statusOf(state)).toBe('succeeded');
    expect(state.startedAt).toBe(1000);
    expect(finishedAt(state)).toBe(61_000);
    expect(durationMs(state)).toBe(60_000);
  });

  it('gives the same state when the finish arrives before the start', () => {
    const inOrder = deriveState([at('deployment.started', 1000), at('deployment.failed', 5000)]);
    const reversed = deriveState([at('deployment.failed', 5000), at('deployment.started', 1000)]);
    expect(reversed).toEqual(inOrder);
    expect(statusOf(reversed)).toBe('failed');
  });

  it('keeps a finished status when a skewed runner stamps the start after the finish', () => {
    const state = deriveState([at('deployment.succeeded', 1000), at('deployment.started', 9000)]);
    expect(statusOf(state)).toBe('succeeded');
    expect(durationMs(state)).toBe(0);
  });

  it('marks a rolled back success and a granted approval', () => {
    expect(statusOf(deriveState([at('deployment.succeeded', 1), at('deployment.rolled_back', 2)]))).toBe(
      'rolled_back',
    );
    expect(statusOf(deriveState([at('deployment.requested', 1)]), true)).toBe('approved');
    expect(statusOf(deriveState([at('deployment.started', 1)]), true)).toBe('in_progress');
  });

  it('is independent of arrival order and duplicates (property)', () => {
    const event = fc.record({
      type: fc.constantFrom(...EVENT_TYPES),
      timeMs: fc.integer({ min: 0, max: 1e6 }),
      hlc: fc.string({ maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 12 }), fc.func(fc.integer()), (events, key) => {
        const shuffled = [...events, ...events.slice(0, 3)].sort((a, b) => key(a) - key(b));
        expect(deriveState(shuffled)).toEqual(deriveState(events));
      }),
    );
  });
});
