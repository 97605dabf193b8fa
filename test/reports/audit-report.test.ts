/**
 * The monthly audit report (DESIGN.md §13) through the real app on both databases: its rows
 * and summary, the four formats (CSV parsed back with csv-parse, PDF read back with poppler's
 * pdftotext), month bounds in a configured zone, who may pull it, and that every pull is
 * recorded in the ledger.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvCells } from '../../src/reports/audit-text.js';
import type { AuditRow, AuditSummary } from '../../src/reports/audit-row.js';
import type { AuditReportHeader } from '../../src/reports/audit-report.js';
import { ROLE_MATRIX } from '../../src/server/access.js';
import { DIALECTS } from '../helpers/dialects.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { SEED_POLICY, seedMonth, type Seeded } from './seed.js';

interface AuditJson {
  report: AuditReportHeader;
  rows: AuditRow[];
  summary: AuditSummary;
}

describe.each(DIALECTS)('audit report on %s', (dialect) => {
  let t: TestApp;
  let seeded: Seeded;
  const get = async (url: string, token: string) => {
    const response = await t.app.server.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${token}` },
    });
    return response;
  };

  beforeAll(async () => {
    t = await testApp(dialect, { policy: SEED_POLICY });
    seeded = await seedMonth(t);
  });
  afterAll(async () => t.close());

  it('lists every production deployment of the month with the §13 columns and a summary', async () => {
    const response = await get(
      '/v1/reports/audit?month=2026-11&environment=production&format=json',
      seeded.auditor,
    );
    expect(response.statusCode).toBe(200);
    const body = response.json<AuditJson>();
    expect(body.rows.map((r) => r.deployment)).toEqual(['rep-approved', 'rep-unapproved', 'rep-override']);
    const approved = body.rows[0] as AuditRow;
    expect(approved).toMatchObject({
      service: 'checkout-api',
      environment: 'production',
      version: '1.0.0',
      actor: 'alice',
      startedAt: '2026-11-03T10:05:00.000Z',
      finishedAt: '2026-11-03T10:10:00.000Z',
      status: 'succeeded',
      justification: { ticket: 'OPS-1', justification: seeded.trickyJustification },
      override: false,
      outsideWindow: false,
    });
    expect(approved.approvers).toEqual([
      { name: 'bob', time: expect.any(String), comment: 'looks good, "ship it"' },
    ]);
    expect(approved.gateDecision).toMatchObject({ allow: true, reasons: [] });
    const override = body.rows[2] as AuditRow;
    expect(override.override).toBe(true);
    expect(override.approvers).toEqual([]);
    expect(override.gateDecision?.reasons.map((r) => r.code)).toContain('approval_missing');
    expect(override.gateDecision?.override?.justification).toBe('payments down');
    expect(body.summary).toEqual({
      deployments: 3,
      byService: { billing: 1, 'checkout-api': 2 },
      byStatus: { in_progress: 1, succeeded: 2 },
      unapproved: 2,
      overrides: 1,
      outsideWindow: 0,
    });
    // The checkpoint covers every cited entry, and the ledger index is the first event's.
    for (const row of body.rows) {
      expect(Math.max(...row.evidence)).toBeLessThan(body.report.checkpoint.size);
      expect(row.ledgerIndex).toBe(Math.min(...row.evidence));
    }
    expect(body.report.checkpoint.note).toContain(`\n${body.report.checkpoint.size}\n`);
    expect(approved.evidence.length).toBeGreaterThanOrEqual(5); // 3 events, an approval, a gate decision
  });

  it('writes CSV per RFC 4180 that a CSV library reads back to the same rows', async () => {
    const json = (await get('/v1/reports/audit?month=2026-11&format=json', seeded.auditor)).json<AuditJson>();
    const response = await get('/v1/reports/audit?month=2026-11&format=csv', seeded.auditor);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    expect(response.body.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    const records = parse(response.body, { bom: false, relax_column_count: false }) as string[][];
    expect(records[0]).toEqual([...CSV_COLUMNS]);
    expect(records.length).toBe(1 + json.rows.length);
    json.rows.forEach((row, i) => {
      const expected = csvCells(row).map((cell) => (/^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell));
      expect(records[i + 1]).toEqual(expected);
    });
    // The multi-line, quoted justification survived; the formula-looking actor was defused.
    expect(records[1]?.[9]).toContain(seeded.trickyJustification);
    expect(records[2]?.[4]).toBe('\'=HYPERLINK("http://evil")');
  });

  it('writes standalone printable HTML with every value escaped', async () => {
    const response = await get('/v1/reports/audit?month=2026-11&format=html', seeded.auditor);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    const html = response.body;
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toMatch(/<(link|script|img|iframe)\b/i);
    expect(html).toMatch(/<style>[^<]*@page/);
    expect(html).toContain('rep-override');
    expect(html).toContain('id="summary"');
  });

  it('writes a PDF that pdftotext reads back', async () => {
    const response = await get('/v1/reports/audit?month=2026-11&format=pdf', seeded.auditor);
    expect(response.headers['content-type']).toBe('application/pdf');
    const raw = response.rawPayload;
    expect(raw.subarray(0, 5).toString()).toBe('%PDF-');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-pdf-'));
    const file = path.join(dir, 'report.pdf');
    fs.writeFileSync(file, raw);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(text).toContain('Deployments to production, 2026-11');
    for (const name of ['rep-approved', 'rep-unapproved', 'rep-override', 'OVERRIDE', 'bob', 'Summary']) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/deployments: 3/);
  });

  it('bounds the month in the configured time zone', async () => {
    const berlin = await testApp(dialect, { reports: { timeZone: 'Europe/Berlin' } });
    try {
      await berlin.call('POST', '/v1/events', {
        events: [
          // 23:30 UTC on 31 October is 00:30 on 1 November in Berlin.
          {
            type: 'deployment.started',
            deployment: 'tz-edge',
            service: 'svc',
            environment: 'production',
            version: '1',
            time: '2026-10-31T23:30:00Z',
          },
          {
            type: 'deployment.started',
            deployment: 'tz-late',
            service: 'svc',
            environment: 'production',
            version: '1',
            time: '2026-11-30T23:30:00Z',
          },
        ],
      });
      const body = (
        await berlin.call('GET', '/v1/reports/audit?month=2026-11')
      ).json() as unknown as AuditJson;
      expect(body.report.from).toBe('2026-10-31T23:00:00.000Z');
      expect(body.report.to).toBe('2026-11-30T23:00:00.000Z');
      expect(body.rows.map((r) => r.deployment)).toEqual(['tz-edge']);
    } finally {
      await berlin.close();
    }
  });

  it('answers 400 naming the field for a bad month or format, and changes nothing', async () => {
    const before = await t.app.ledger.size();
    for (const [query, field] of [
      ['month=2026-13', 'month'],
      ['month=2026-11&format=docx', 'format'],
      ['month=2026-11&environment=Prod!', 'environment'],
    ] as const) {
      const response = await get(`/v1/reports/audit?${query}`, seeded.auditor);
      expect(response.statusCode).toBe(400);
      expect(JSON.stringify(response.json())).toContain(field);
    }
    expect(await t.app.ledger.size()).toBe(before);
  });

  it('is for auditors and admins only', async () => {
    for (const token of [seeded.viewer, seeded.deployer, seeded.approver]) {
      const response = await get('/v1/reports/audit?month=2026-11', token);
      expect(response.statusCode).toBe(403);
      expect(response.json<{ error: { code: string } }>().error.code).toBe('SHIPLOG_FORBIDDEN');
    }
    expect((await get('/v1/reports/audit?month=2026-11', seeded.admin)).statusCode).toBe(200);
  });

  it('lets the auditor read reports and the ledger and change nothing', async () => {
    expect((await get('/v1/ledger/checkpoint', seeded.auditor)).statusCode).toBe(200);
    expect((await get('/v1/ledger/entries?start=0&end=5', seeded.auditor)).statusCode).toBe(200);
    expect((await get('/v1/reports/access', seeded.auditor)).statusCode).toBe(200);
    expect((await get('/v1/reports/coverage?days=30', seeded.auditor)).statusCode).toBe(200);
    // Every route that changes something refuses the auditor before it reads the body.
    const writes = t.app.routes.filter(
      (r) =>
        !['GET', 'HEAD', 'OPTIONS'].includes(r.method) && r.access !== undefined && r.access !== 'public',
    );
    expect(writes.length).toBeGreaterThan(5);
    for (const route of writes) {
      expect(ROLE_MATRIX[route.access as keyof typeof ROLE_MATRIX]).not.toContain('auditor');
      const url = route.url.replace(/:[a-zA-Z]+/g, 'x');
      const response = await t.app.server.inject({
        method: route.method as 'POST',
        url,
        headers: { authorization: `Bearer ${seeded.auditor}`, 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(403);
    }
  });

  it('records every pull in the ledger: who pulled which evidence, when', async () => {
    const before = await t.app.ledger.size();
    await get('/v1/reports/audit?month=2026-11&format=csv', seeded.auditor);
    await get('/v1/reports/coverage?days=7', seeded.auditor);
    const entries = await t.app.ledger.entries(before, before + 10);
    const pulls = entries.map((e) => JSON.parse(e.data ?? '{}') as Record<string, unknown>);
    expect(pulls).toEqual([
      expect.objectContaining({
        recordType: 'report.pulled',
        report: 'audit',
        by: 'auditor-ann',
        role: 'auditor',
        parameters: expect.objectContaining({ month: '2026-11', environment: 'production', format: 'csv' }),
      }),
      expect.objectContaining({ recordType: 'report.pulled', report: 'coverage', parameters: { days: 7 } }),
    ]);
  });
});
