import { describe, expect, it } from 'vitest';
import type { SilenceRow } from '../store/silences-repository.js';
import { planSilence } from './silence-plan.js';

const settings = { leaseMs: 60_000, graceMs: 600_000 };
const T = 1_800_000_000_000;
const row = (over: Partial<SilenceRow> = {}): SilenceRow => ({
  service: 's',
  environment: 'e',
  deployment: 'd-1',
  state: 'active',
  silence_id: 'sil-1',
  starts_ms: T,
  ends_ms: T + 60_000,
  hold_until_ms: null,
  last_error: null,
  created_ms: T,
  updated_ms: T,
  ...over,
});
const running = { running: 'd-1', latest: null, lastFinishedMs: null };
const idle = (finishedMs: number) => ({ running: null, latest: 'd-1', lastFinishedMs: finishedMs });

describe('planSilence', () => {
  it('creates one lease ahead when a deployment starts, or when the last one lapsed', () => {
    expect(planSilence(undefined, running, settings, T)).toEqual({
      kind: 'create',
      endsMs: T + 60_000,
      holdUntilMs: null,
      deployment: 'd-1',
    });
    expect(planSilence(row({ state: 'ended' }), running, settings, T).kind).toBe('create');
    expect(planSilence(row({ ends_ms: T - 1 }), running, settings, T).kind).toBe('create');
  });

  it('renews only once less than half a lease is left', () => {
    expect(planSilence(row(), running, settings, T + 29_000)).toEqual({ kind: 'none' });
    expect(planSilence(row(), running, settings, T + 31_000)).toMatchObject({
      kind: 'extend',
      endsMs: T + 91_000,
      holdUntilMs: null,
    });
  });

  it('a deployment starting again during the grace holds it again', () => {
    expect(
      planSilence(row({ hold_until_ms: T + 600_000, ends_ms: T + 600_000 }), running, settings, T),
    ).toMatchObject({
      kind: 'extend',
      holdUntilMs: null,
    });
  });

  it('ends grace after the final state, then expires it', () => {
    expect(planSilence(row(), idle(T), settings, T + 1000)).toMatchObject({
      kind: 'extend',
      endsMs: T + 600_000,
      holdUntilMs: T + 600_000,
    });
    const held = row({ ends_ms: T + 600_000, hold_until_ms: T + 600_000 });
    expect(planSilence(held, idle(T), settings, T + 1000)).toEqual({ kind: 'none' });
    expect(planSilence(held, idle(T), settings, T + 600_001)).toEqual({
      kind: 'expire',
      atAlertmanager: true,
      lapsed: true,
    });
    expect(planSilence(row(), idle(T), { ...settings, graceMs: 0 }, T + 1)).toEqual({
      kind: 'expire',
      atAlertmanager: true,
      lapsed: false,
    });
  });

  it('does nothing for a service that holds no silence and does not deploy', () => {
    expect(planSilence(undefined, idle(T), settings, T)).toEqual({ kind: 'none' });
    expect(planSilence(row({ state: 'ended' }), idle(T), settings, T)).toEqual({ kind: 'none' });
  });
});
