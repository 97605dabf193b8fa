/**
 * Writes an audit report in one of its formats to a stream, page by page, honouring the
 * stream's backpressure; answers the summary.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { addToSummary, emptySummary, sortedSummary, type AuditSummary } from './audit-row.js';
import type { AuditReport, CitedRow } from './audit-report.js';
import { startPdf } from './audit-pdf.js';
import { CSV_FORMAT, HTML_FORMAT, JSON_FORMAT, type TextFormat } from './audit-text.js';

export const AUDIT_FORMATS = ['json', 'csv', 'html', 'pdf'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

const TEXT: Record<Exclude<AuditFormat, 'pdf'>, TextFormat> = {
  json: JSON_FORMAT,
  csv: CSV_FORMAT,
  html: HTML_FORMAT,
};

export const CONTENT_TYPES: Record<AuditFormat, string> = {
  json: JSON_FORMAT.contentType,
  csv: CSV_FORMAT.contentType,
  html: HTML_FORMAT.contentType,
  pdf: 'application/pdf',
};

/** Writes `chunk`, then waits for `drain` when the stream's buffer is full. */
export async function writeChunk(sink: Writable, chunk: string): Promise<void> {
  if (chunk === '' || sink.destroyed) return;
  if (!sink.write(chunk)) await once(sink, 'drain');
}

/** Ends `sink` and waits until everything written is flushed. */
export async function endStream(sink: Writable): Promise<void> {
  const done = once(sink, 'finish');
  sink.end();
  await done;
}

/**
 * Writes `report` as `format` to `sink` and ends it. `onPage` sees each page of rows with
 * their entries as it is written (the bundle collects proofs there).
 */
export async function writeAuditReport(
  report: AuditReport,
  format: AuditFormat,
  sink: Writable,
  onPage?: (page: readonly CitedRow[]) => Promise<void>,
): Promise<AuditSummary> {
  const summary = emptySummary();
  if (format === 'pdf') {
    const pdf = startPdf(report.header, sink);
    for await (const page of report.pages()) {
      for (const { row } of page) addToSummary(summary, row);
      await pdf.rows(page.map((p) => p.row));
      if (onPage) await onPage(page);
    }
    const sorted = sortedSummary(summary);
    await pdf.end(sorted);
    return sorted;
  }
  const text = TEXT[format];
  await writeChunk(sink, text.begin(report.header));
  let index = 0;
  for await (const page of report.pages()) {
    let chunk = '';
    for (const { row } of page) {
      addToSummary(summary, row);
      chunk += text.row(row, index);
      index += 1;
    }
    await writeChunk(sink, chunk);
    if (onPage) await onPage(page);
  }
  const sorted = sortedSummary(summary);
  await writeChunk(sink, text.end(report.header, sorted));
  await endStream(sink);
  return sorted;
}
