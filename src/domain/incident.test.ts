import { describe, expect, it } from 'vitest';
import { mergeIncident, toSeverity, validateIncidentInput, type IncidentReport } from './incident.js';

const T0 = Date.parse('2026-11-02T12:00:00Z');
const report = (over: Partial<IncidentReport> = {}): IncidentReport => ({
  key: 'INC-1',
  title: 'checkout errors',
  service: 'checkout-api',
  source: 'alice',
  ...over,
});

describe('mergeIncident', () => {
  it('creates a triggered incident starting at receipt by default', () => {
    const plan = mergeIncident(undefined, report(), T0);
    expect(plan.outcome).toBe('created');
    expect(plan.incident).toMatchObject({
      status: 'triggered',
      startedMs: T0,
      kind: 'incident',
      resolvedMs: null,
    });
  });

  it('walks triggered → acknowledged → resolved → triggered, stamping and clearing times', () => {
    const created = mergeIncident(undefined, report(), T0).incident;
    const acked = mergeIncident(created, report({ status: 'acknowledged' }), T0 + 1000);
    expect(acked).toMatchObject({ outcome: 'updated', changed: ['status', 'acknowledgedMs'] });
    expect(acked.incident.acknowledgedMs).toBe(T0 + 1000);
    const resolved = mergeIncident(acked.incident, report({ status: 'resolved' }), T0 + 2000).incident;
    expect(resolved).toMatchObject({ status: 'resolved', resolvedMs: T0 + 2000 });
    const again = mergeIncident(resolved, report({ status: 'triggered' }), T0 + 3000).incident;
    expect(again).toMatchObject({
      status: 'triggered',
      resolvedMs: null,
      acknowledgedMs: null,
      startedMs: T0,
    });
  });

  it('the same report again changes nothing (no new ledger entry)', () => {
    const created = mergeIncident(undefined, report({ severity: 'sev2' }), T0).incident;
    const plan = mergeIncident(created, report({ severity: 'sev2' }), T0 + 5000);
    expect(plan.outcome).toBe('unchanged');
    expect(plan.incident).toBe(created);
  });
});

describe('toSeverity', () => {
  it('maps the tools’ words and numbers onto sev1..sev5', () => {
    expect(['sev2', 'SEV-2', 'P2', '2', 'high', 'error'].map(toSeverity)).toEqual(Array(6).fill('sev2'));
    expect([toSeverity('critical'), toSeverity('warning'), toSeverity('low'), toSeverity('info')]).toEqual([
      'sev1',
      'sev3',
      'sev4',
      'sev5',
    ]);
    expect(toSeverity('whatever')).toBeUndefined();
  });
});

describe('validateIncidentInput', () => {
  it('names every bad field by JSON pointer', () => {
    expect(validateIncidentInput({ service: 'Checkout API', severity: 'P1', extra: 1 })).toEqual(
      expect.arrayContaining([
        { path: '/title', message: 'is required' },
        { path: '/extra', message: 'is not a known field' },
        { path: '/service', message: expect.stringContaining('1-63 characters') },
        { path: '/severity', message: 'must be one of sev1, sev2, sev3, sev4, sev5' },
      ]),
    );
    expect(validateIncidentInput({ title: 't', service: 's' })).toEqual([]);
    expect(validateIncidentInput([])).toEqual([{ path: '', message: 'must be a JSON object' }]);
  });
});

describe('mergeIncident for alerts (firing episodes)', () => {
  const alert = (over: Partial<IncidentReport>): IncidentReport => report({ kind: 'alert', ...over });
  it('a late firing of an episode already resolved does not re-open it (regression: retried delivery)', () => {
    const firing = mergeIncident(undefined, alert({ status: 'triggered', startedMs: T0 }), T0).incident;
    const resolved = mergeIncident(
      firing,
      alert({ status: 'resolved', startedMs: T0, resolvedMs: T0 + 60_000 }),
      T0 + 60_000,
    ).incident;
    const late = mergeIncident(resolved, alert({ status: 'triggered', startedMs: T0 }), T0 + 90_000);
    expect(late.outcome).toBe('unchanged');
    expect(late.incident.status).toBe('resolved');
  });

  it('a new firing episode re-triggers with its own start', () => {
    const firing = mergeIncident(undefined, alert({ status: 'triggered', startedMs: T0 }), T0).incident;
    const resolved = mergeIncident(
      firing,
      alert({ status: 'resolved', resolvedMs: T0 + 60_000 }),
      T0,
    ).incident;
    const again = mergeIncident(
      resolved,
      alert({ status: 'triggered', startedMs: T0 + 3_600_000 }),
      T0 + 3_600_000,
    );
    expect(again.incident).toMatchObject({
      status: 'triggered',
      startedMs: T0 + 3_600_000,
      resolvedMs: null,
    });
  });
});
