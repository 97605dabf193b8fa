/**
 * The text formats of the audit report: JSON, CSV (RFC 4180) and printable HTML. Each is a
 * beginning (from the header), one piece per row and an end (from the summary), so a report
 * of any size is written as it is read.
 *
 * - JSON: `{"report": header, "rows": [...], "summary": ...}` with one row per line, so the
 *   bundle's verifier reads it line by line (docs/audit.md).
 * - CSV: one header line with the §13 column names and one line per deployment, CRLF line
 *   ends, fields quoted when they hold `"`, `,`, CR or LF (RFC 4180 §2). A field a spreadsheet
 *   would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`
 *   (OWASP, CSV injection): the ledger's data comes from CI systems, not from the auditor.
 * - HTML: one standalone page, inline CSS, every value escaped; the summary is written after
 *   the rows (one pass) and shown before them (CSS `order`), on screen and in print.
 */
import type { AuditRow, AuditSummary } from './audit-row.js';
import type { AuditReportHeader } from './audit-report.js';

export interface TextFormat {
  readonly contentType: string;
  readonly extension: string;
  begin(header: AuditReportHeader): string;
  row(row: AuditRow, index: number): string;
  end(header: AuditReportHeader, summary: AuditSummary): string;
}

export const JSON_FORMAT: TextFormat = {
  contentType: 'application/json; charset=utf-8',
  extension: 'json',
  begin: (header) => `{"report":${JSON.stringify(header)},"rows":[\n`,
  row: (row, index) => `${index === 0 ? '' : ','}${JSON.stringify(row)}\n`,
  end: (_header, summary) => `],"summary":${JSON.stringify(summary)}}\n`,
};

/** The CSV columns, in order: DESIGN.md §13 exactly. */
export const CSV_COLUMNS = [
  'deployment',
  'service',
  'environment',
  'version',
  'actor',
  'startedAt',
  'finishedAt',
  'status',
  'approvers',
  'justification',
  'gateDecision',
  'override',
  'ledgerIndex',
] as const;

/** One CSV field per RFC 4180 §2, defused for spreadsheets. */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** `alice 2026-11-02T10:00:00.000Z: ok; bob ...`. */
export function approversText(row: AuditRow): string {
  return row.approvers.map((a) => `${a.name} ${a.time}${a.comment ? `: ${a.comment}` : ''}`).join('; ');
}

/** `OPS-123: hotfix for ...`, or either half. */
export function justificationText(row: AuditRow): string {
  const { ticket, justification } = row.justification;
  return [ticket, justification].filter((v) => v !== null && v !== '').join(': ');
}

/** `allow`, `deny (approval_missing, outside_window)`, `` when the gate was never asked. */
export function gateText(row: AuditRow): string {
  const gate = row.gateDecision;
  if (gate === null) return '';
  const codes = gate.reasons.map((r) => r.code).join(', ');
  return `${gate.allow ? 'allow' : 'deny'}${codes ? ` (${codes})` : ''}`;
}

export function csvCells(row: AuditRow): string[] {
  return [
    row.deployment,
    row.service,
    row.environment,
    row.version ?? '',
    row.actor,
    row.startedAt ?? '',
    row.finishedAt ?? '',
    row.status,
    approversText(row),
    justificationText(row),
    gateText(row),
    String(row.override),
    String(row.ledgerIndex),
  ];
}

export const CSV_FORMAT: TextFormat = {
  contentType: 'text/csv; charset=utf-8; header=present',
  extension: 'csv',
  begin: () => `${CSV_COLUMNS.join(',')}\r\n`,
  row: (row) => `${csvCells(row).map(csvField).join(',')}\r\n`,
  end: () => '',
};

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML text or attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const STYLE = `
body{font:11px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;margin:24px}
main{display:flex;flex-direction:column;gap:16px}
#summary{order:-1}
h1{font-size:18px;margin:0 0 4px}h2{font-size:14px;margin:0 0 6px}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #bbb;padding:2px 4px;text-align:left;vertical-align:top;word-break:break-word}
thead{display:table-header-group}tr{page-break-inside:avoid}
th{background:#eee}.flag{color:#a00;font-weight:600}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:6px;margin:0}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0}dt{font-weight:600}
@page{size:A4 landscape;margin:12mm}
@media print{body{margin:0}}`;

function counts(title: string, map: Record<string, number>): string {
  const rows = Object.entries(map)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, n]) => `<tr><td>${escapeHtml(k)}</td><td>${n}</td></tr>`)
    .join('');
  return `<table><thead><tr><th>${escapeHtml(title)}</th><th>deployments</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export const HTML_FORMAT: TextFormat = {
  contentType: 'text/html; charset=utf-8',
  extension: 'html',
  begin: (h) =>
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(
      `Audit report ${h.month} ${h.environment}`,
    )}</title><style>${STYLE}</style></head><body><main>\n` +
    `<section id="header"><h1>${escapeHtml(`Deployments to ${h.environment}, ${h.month}`)}</h1><dl>` +
    `<dt>Month</dt><dd>${escapeHtml(`${h.from} to ${h.to} (${h.timeZone})`)}</dd>` +
    `<dt>Generated</dt><dd>${escapeHtml(`${h.generatedAt} by ${h.generatedBy}`)}</dd>` +
    `<dt>Ledger</dt><dd>${escapeHtml(`${h.checkpoint.origin}, ${h.checkpoint.size} entries, root ${h.checkpoint.rootHash}`)}</dd>` +
    `</dl></section>\n<section id="rows"><h2>Deployments</h2><table><thead><tr>` +
    [...CSV_COLUMNS.slice(0, 13)].map((c) => `<th>${c}</th>`).join('') +
    `</tr></thead><tbody>\n`,
  row: (row) => {
    const cells = csvCells(row).map((value, i) => {
      const flagged = (i === 11 && row.override) || (i === 8 && row.approvers.length === 0);
      return `<td${flagged ? ' class="flag"' : ''}>${escapeHtml(i === 8 && value === '' ? 'none' : value)}</td>`;
    });
    return `<tr>${cells.join('')}</tr>\n`;
  },
  end: (h, s) =>
    `</tbody></table></section>\n<section id="summary"><h2>Summary</h2><dl>` +
    `<dt>Deployments</dt><dd>${s.deployments}</dd>` +
    `<dt>Without approval</dt><dd>${s.unapproved}</dd>` +
    `<dt>Gate overrides</dt><dd>${s.overrides}</dd>` +
    `<dt>Outside change windows</dt><dd>${s.outsideWindow}</dd></dl>` +
    `<div style="display:flex;gap:16px;margin-top:8px">${counts('service', s.byService)}${counts('status', s.byStatus)}</div>` +
    `</section>\n<section id="checkpoint"><h2>Signed checkpoint</h2><p>Every row cites ledger entries below this size; ` +
    `check them with <code>shiplog verify --bundle</code> (docs/audit.md).</p><pre>${escapeHtml(h.checkpoint.note)}</pre></section>\n` +
    `</main></body></html>\n`,
};
