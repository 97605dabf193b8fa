/** The pure row builder: the same entries give the same row, whatever order they come in. */
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/ledger/jcs.js';
import { buildAuditRow, type CitedEntry } from '../../src/reports/audit-row.js';
import { monthRange } from '../../src/reports/month.js';

const event = (index: number, fields: Record<string, unknown>): CitedEntry => ({
  index,
  data: canonicalJson({
    recordType: 'event',
    deployment: 'd-1',
    service: 'api',
    environment: 'production',
    actor: 'alice',
    kind: 'release',
    hlc: `0000${index}`,
    source: 'ci',
    id: `e${index}`,
    receivedAt: '2026-11-29T00:00:00.000Z',
    ...fields,
  }),
});

const windows = [
  {
    days: ['mon', 'tue', 'wed', 'thu', 'fri'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri')[],
    from: '09:00',
    to: '17:00',
    timezone: 'Europe/Berlin',
  },
];

describe('buildAuditRow', () => {
  const started = event(4, {
    type: 'deployment.started',
    time: '2026-11-07T10:00:00.000Z',
    version: '1.2.0',
    ticket: 'OPS-7',
  });
  const failed = event(2, { type: 'deployment.failed', time: '2026-11-07T10:05:00.000Z' });

  it('derives the row from the events in any order: an overtaking failure keeps the version', () => {
    const a = buildAuditRow('d-1', [failed, started], { windows: [] });
    const b = buildAuditRow('d-1', [started, failed], { windows: [] });
    expect(a).toEqual(b);
    expect(a).toMatchObject({
      version: '1.2.0',
      status: 'failed',
      startedAt: '2026-11-07T10:00:00.000Z',
      finishedAt: '2026-11-07T10:05:00.000Z',
      justification: { ticket: 'OPS-7', justification: null },
      ledgerIndex: 2,
      evidence: [2, 4],
      gateDecision: null,
    });
  });

  it('flags a deployment outside every change window (a Saturday in Berlin)', () => {
    expect(buildAuditRow('d-1', [started], { windows }).outsideWindow).toBe(true);
    const weekday = event(5, { type: 'deployment.started', time: '2026-11-10T10:00:00.000Z', version: '1' });
    expect(buildAuditRow('d-1', [weekday], { windows }).outsideWindow).toBe(false);
  });

  it('refuses an entry about another deployment', () => {
    const other = { index: 9, data: canonicalJson({ recordType: 'event', deployment: 'd-2' }) };
    expect(() => buildAuditRow('d-1', [started, other], { windows: [] })).toThrow('entry 9');
  });
});

describe('monthRange', () => {
  it('bounds a month by local midnights, across a DST change', () => {
    expect(monthRange('2026-03', 'Europe/Berlin')).toMatchObject({
      fromMs: Date.parse('2026-02-28T23:00:00Z'),
      toMs: Date.parse('2026-03-31T22:00:00Z'),
    });
    expect(monthRange('2026-12', 'UTC')?.toMs).toBe(Date.parse('2027-01-01T00:00:00Z'));
    expect(monthRange('2026-13', 'UTC')).toBeUndefined();
  });
});
