/**
 * Regression: the PDF writer waited for its sink's `drain` whenever pdfkit's buffer passed its
 * bound, but a sink that never filled up never emits `drain`, so a large report never ended
 * (and a process with nothing else to do exited mid-report). Here the bound is one byte.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPdf } from '../../src/reports/audit-pdf.js';
import { addToSummary, emptySummary, type AuditRow } from '../../src/reports/audit-row.js';
import type { AuditReportHeader } from '../../src/reports/audit-report.js';

const header: AuditReportHeader = {
  report: 'audit',
  month: '2026-11',
  environment: 'production',
  timeZone: 'UTC',
  from: '2026-11-01T00:00:00.000Z',
  to: '2026-12-01T00:00:00.000Z',
  generatedAt: '2026-12-01T08:00:00.000Z',
  generatedBy: 'auditor-ann',
  checkpoint: {
    origin: 'test/ledger',
    size: 9000,
    rootHash: '00'.repeat(32),
    note: 'test/ledger\n9000\nAAAA\n\n— test x\n',
  },
  windows: [],
};

function row(n: number): AuditRow {
  return {
    deployment: `pdf-${n}`,
    service: 'api',
    environment: 'production',
    version: `1.${n}.0`,
    actor: 'al (\\ x)',
    startedAt: '2026-11-02T10:00:00.000Z',
    finishedAt: null,
    status: 'in_progress',
    approvers: n % 2 === 0 ? [{ name: 'bob', time: '2026-11-02T09:00:00.000Z', comment: 'ok (fine)' }] : [],
    justification: { ticket: `OPS-${n}`, justification: null },
    gateDecision: null,
    override: false,
    outsideWindow: false,
    ledgerIndex: 3 * n,
    evidence: [3 * n],
  };
}

describe('audit PDF', () => {
  it('finishes a large report into a sink that never pushes back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-pdf-big-'));
    const file = path.join(dir, 'big.pdf');
    const pdf = startPdf(header, fs.createWriteStream(file), 1);
    const summary = emptySummary();
    for (let page = 0; page < 3; page += 1) {
      const rows = Array.from({ length: 700 }, (_, i) => row(page * 700 + i));
      rows.forEach((r) => addToSummary(summary, r));
      await pdf.rows(rows);
    }
    await pdf.end(summary);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(text).toContain('pdf-0 ');
    expect(text).toContain('pdf-2099');
    expect(text).toContain('al (\\ x)');
    expect(text).toContain('deployments: 2100');
    expect(text).toMatch(/page \d{2}/);
  });
});
