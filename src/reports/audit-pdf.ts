/**
 * The audit report as PDF (pdfkit), A4 landscape in Courier: two lines per deployment (the
 * columns, then approvers, justification and gate decision), the header on the first page,
 * the summary and the signed checkpoint at the end, page numbers in the footer. Courier is a
 * PDF standard font (nothing embedded), so characters outside Windows-1252 print as `?`.
 *
 * pdfkit lays text out at a few microseconds a character, too slow for 100k rows, so the row
 * lines (monospaced, already cut to width) are written as raw PDF text operators (ISO 32000-1
 * §9.4: `BT /F 6.5 Tf 1 0 0 1 x y Tm (text) Tj ET`) in the document's own Courier fonts; the
 * header and footer go through pdfkit's text layout.
 *
 * pdfkit pushes into its own readable buffer and ignores backpressure; the writer waits for
 * that buffer to drain below a bound after each page of rows, so a report of any size holds
 * about one page of rows in memory.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import PDFDocument from 'pdfkit';
import type { AuditRow, AuditSummary } from './audit-row.js';
import type { AuditReportHeader } from './audit-report.js';
import { approversText, gateText, justificationText } from './audit-text.js';

const FONT = 'Courier';
const FONT_BOLD = 'Courier-Bold';
const SIZE = 6.5;
const MARGIN = 28;
const BUFFER_BOUND = 1 << 20;

/** Fits `text` to `width` characters: cut with `~`, or padded. */
function cell(text: string, width: number): string {
  const clean = printable(text);
  return clean.length > width ? `${clean.slice(0, width - 1)}~` : clean.padEnd(width);
}

/** Windows-1252 can show Latin-1; anything else becomes `?` rather than a wrong glyph. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e\u00a0-\u00ff]/g, '?');
}

const COLUMNS: readonly [string, number, (row: AuditRow) => string][] = [
  ['deployment', 34, (r) => r.deployment],
  ['service', 18, (r) => r.service],
  ['version', 14, (r) => r.version ?? ''],
  ['actor', 14, (r) => r.actor],
  ['startedAt', 20, (r) => r.startedAt ?? ''],
  ['finishedAt', 20, (r) => r.finishedAt ?? ''],
  ['status', 11, (r) => r.status],
  ['override', 8, (r) => (r.override ? 'OVERRIDE' : '')],
  ['ledgerIndex', 11, (r) => String(r.ledgerIndex)],
];

function columnsLine(row: AuditRow | null): string {
  return COLUMNS.map(([name, width, value]) => cell(row ? value(row) : name, width)).join(' ');
}

/** The two pdfkit internals the raw text needs: the current font's resource and the page's font table. */
interface PdfInternals {
  _font: { id: string; ref(): unknown };
  page: { fonts: Record<string, unknown>; height: number; write(data: string): void };
}

/** A PDF literal string (ISO 32000-1 §7.3.4.2) of Latin-1 text. */
function literal(text: string): string {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

interface RawLine {
  readonly bold: boolean;
  readonly x: number;
  readonly y: number;
  readonly text: string;
}

export interface PdfWriter {
  rows(rows: readonly AuditRow[]): Promise<void>;
  end(summary: AuditSummary): Promise<void>;
}

/** Starts the PDF into `sink` with the header; `end` finishes it and waits until `sink` has it all. */
export function startPdf(header: AuditReportHeader, sink: Writable, bufferBound = BUFFER_BOUND): PdfWriter {
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: MARGIN,
    bufferPages: false,
    info: {
      Title: `Audit report ${header.month} ${header.environment}`,
      Author: 'shiplog',
      Subject: `Deployments to ${header.environment} in ${header.month}`,
    },
  });
  doc.pipe(sink);
  const width = doc.page.width - 2 * MARGIN;
  let pageNumber = 1;
  const footer = () => {
    const y = doc.page.height - MARGIN + 8;
    doc.font(FONT).fontSize(SIZE);
    doc.text(
      printable(
        `${header.environment} ${header.month} - checkpoint ${header.checkpoint.size} - page ${pageNumber}`,
      ),
      MARGIN,
      y,
      { lineBreak: false },
    );
  };
  const newPage = () => {
    flushLines();
    footer();
    doc.addPage();
    pageNumber += 1;
    doc.fontSize(SIZE);
    doc.y = MARGIN;
    const wasBold = bold;
    bold = true;
    pending.push({ bold, x: MARGIN, y: doc.y, text: columnsLine(null) });
    bold = wasBold;
    doc.y = MARGIN + SIZE * 1.6;
  };
  const lineHeight = SIZE * 1.25;
  const bottom = doc.page.height - MARGIN - lineHeight;
  let pending: RawLine[] = [];
  let bold = false;
  const fontId = (name: string) => {
    doc.font(name);
    const internals = doc as unknown as PdfInternals;
    internals.page.fonts[internals._font.id] ??= internals._font.ref();
    return internals._font.id;
  };
  /** Writes the pending lines as one text object; pdfkit's y runs down, PDF's up. */
  const flushLines = () => {
    if (pending.length === 0) return;
    const regular = fontId(FONT);
    const heavy = fontId(FONT_BOLD);
    const internals = doc as unknown as PdfInternals;
    const height = internals.page.height;
    const ops = [`q 1 0 0 -1 0 ${height} cm BT`];
    let current = '';
    for (const l of pending) {
      const id = l.bold ? heavy : regular;
      if (id !== current) {
        ops.push(`/${id} ${SIZE} Tf`);
        current = id;
      }
      ops.push(`1 0 0 1 ${l.x.toFixed(2)} ${(height - l.y - SIZE).toFixed(2)} Tm ${literal(l.text)} Tj`);
    }
    ops.push('ET Q');
    internals.page.write(ops.join('\n'));
    doc.font(FONT);
    pending = [];
  };
  /** One line of `text`, which the caller made printable (cell() does). */
  const line = (text: string, indent = 0) => {
    if (doc.y + lineHeight > bottom) newPage();
    pending.push({ bold, x: MARGIN + indent, y: doc.y, text });
    doc.y += lineHeight;
  };

  doc
    .font(FONT_BOLD)
    .fontSize(12)
    .text(printable(`Deployments to ${header.environment}, ${header.month}`));
  doc.font(FONT).fontSize(8);
  doc.text(printable(`Month: ${header.from} to ${header.to} (${header.timeZone})`), { width });
  doc.text(printable(`Generated: ${header.generatedAt} by ${header.generatedBy}`), { width });
  doc.text(
    printable(
      `Ledger: ${header.checkpoint.origin}, ${header.checkpoint.size} entries, root ${header.checkpoint.rootHash}`,
    ),
    { width },
  );
  doc.moveDown(0.5);
  doc.fontSize(SIZE);
  bold = true;
  line(columnsLine(null));
  bold = false;

  /**
   * Lets the pipe move pdfkit's buffer into the sink. Not by waiting for the sink's `drain`:
   * a sink that never filled up never emits it (and a process waiting on nothing else exits).
   */
  async function drain(): Promise<void> {
    while (doc.readableLength > bufferBound && !sink.destroyed) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  return {
    async rows(rows) {
      for (const row of rows) {
        line(columnsLine(row));
        const detail = [
          `approvers: ${approversText(row) || 'NONE'}`,
          justificationText(row) ? `justification: ${justificationText(row)}` : 'justification: none',
          `gate: ${gateText(row) || 'never asked'}`,
          row.outsideWindow ? 'OUTSIDE WINDOW' : '',
        ]
          .filter((part) => part !== '')
          .join(' | ');
        line(cell(detail, 190).trimEnd(), 12);
      }
      flushLines();
      await drain();
    },
    async end(summary) {
      line('');
      bold = true;
      line('Summary');
      bold = false;
      line(`deployments: ${summary.deployments}`);
      line(`without approval: ${summary.unapproved}`);
      line(`gate overrides: ${summary.overrides}`);
      line(`outside change windows: ${summary.outsideWindow}`);
      for (const [service, n] of Object.entries(summary.byService))
        line(`service ${printable(service)}: ${n}`);
      for (const [status, n] of Object.entries(summary.byStatus)) line(`status ${printable(status)}: ${n}`);
      line('');
      bold = true;
      line('Signed checkpoint (every cited entry is below its size; verify with shiplog verify --bundle)');
      bold = false;
      for (const text of header.checkpoint.note.split('\n')) line(printable(text));
      flushLines();
      footer();
      const done = once(sink, 'finish');
      doc.end();
      await done;
    },
  };
}
