/**
 * The evidence bundle of a monthly audit report (DESIGN.md §13, docs/audit.md): a .tar.gz an
 * auditor checks offline with `shiplog verify --bundle` or by hand with RFC 9162 §2.1 and the
 * signed-note format. Members, in this order:
 *
 *   README.md         what is here and how to check it
 *   checkpoint.txt    the signed checkpoint (C2SP tlog-checkpoint note) the report is built on
 *   verifier-key.txt  the note verifier key of the ledger
 *   report.json       the report, one row per line
 *   report.html       the same, printable
 *   cited.jsonl       every entry a row cites, in row order: {index, data, proof}
 *   range.json        the run of leaves for completeness: start, end, frontier, boundary
 *   leaves.jsonl      every leaf of the run: {index, leafHash, data}
 *
 * Completeness: the run holds every ledger entry from just after the last event received
 * before (month start - 1 day) up to the checkpoint; with the frontier (the complete subtrees
 * before the run) its leaves hash to the checkpoint's root, so no entry of the run can be left
 * out or changed, and the verifier can see every production event in it.
 *
 * The members are written to a temporary folder first (tar needs each member's size up
 * front), one page of rows at a time, then packed and gzipped into the sink.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { Writable } from 'node:stream';
import tar from 'tar-stream';
import { rangeNodeKeys, nodeKeyId } from '../ledger/merkle.js';
import { addToSummary, emptySummary, sortedSummary, type AuditSummary } from './audit-row.js';
import type { AuditReport, AuditReportDeps } from './audit-report.js';
import { endStream, writeChunk } from './audit-output.js';
import { HTML_FORMAT, JSON_FORMAT } from './audit-text.js';
import type { MonthRange } from './month.js';
import { bundleReadme } from './bundle-readme.js';

/** Events received this long before the month starts are outside the run (docs/audit.md). */
export const RECEIPT_MARGIN_MS = 24 * 60 * 60 * 1000;

export const BUNDLE_FILES = [
  'README.md',
  'checkpoint.txt',
  'verifier-key.txt',
  'report.json',
  'report.html',
  'cited.jsonl',
  'range.json',
  'leaves.jsonl',
] as const;

/** An entry with its inclusion proof against the checkpoint (hex hashes). */
export interface ProvenEntry {
  readonly index: number;
  readonly data: string;
  readonly proof: readonly string[];
}

export interface RangeFile {
  readonly start: number;
  readonly end: number;
  /** Events received before this instant lie before the run. */
  readonly receivedFrom: string;
  /** Hashes of rangeNodeKeys(0, start), largest subtree first. */
  readonly frontier: readonly string[];
  /** The last event entry before the run (received before `receivedFrom`); null when start is 0. */
  readonly boundary: ProvenEntry | null;
  /** First events of deployments that started before the month yet have events in it in the run. */
  readonly earlierStarts: readonly ProvenEntry[];
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Writes the bundle of `report` as .tar.gz to `sink`; answers the summary. */
export async function writeBundle(
  deps: AuditReportDeps,
  report: AuditReport,
  range: MonthRange,
  sink: Writable,
): Promise<AuditSummary> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'shiplog-bundle-'));
  try {
    const summary = await writeMembers(deps, report, range, dir);
    const pack = tar.pack();
    const packed = pipeline(pack, zlib.createGzip(), sink);
    const mtime = new Date(report.header.generatedAt);
    for (const name of BUNDLE_FILES) {
      const file = path.join(dir, name);
      const { size } = await fs.promises.stat(file);
      const entry = pack.entry({ name, size, mtime, mode: 0o644 });
      await pipeline(fs.createReadStream(file), entry);
    }
    pack.finalize();
    await packed;
    return summary;
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

async function writeMembers(
  deps: AuditReportDeps,
  report: AuditReport,
  range: MonthRange,
  dir: string,
): Promise<AuditSummary> {
  const { header } = report;
  const size = header.checkpoint.size;
  const file = (name: string) => fs.createWriteStream(path.join(dir, name));
  await fs.promises.writeFile(path.join(dir, 'checkpoint.txt'), header.checkpoint.note);
  await fs.promises.writeFile(path.join(dir, 'verifier-key.txt'), `${deps.ledger.verifierKey}\n`);
  await fs.promises.writeFile(path.join(dir, 'README.md'), bundleReadme(header));

  const json = file('report.json');
  const html = file('report.html');
  const cited = file('cited.jsonl');
  const summary = emptySummary();
  await writeChunk(json, JSON_FORMAT.begin(header));
  await writeChunk(html, HTML_FORMAT.begin(header));
  let index = 0;
  for await (const page of report.pages()) {
    let jsonChunk = '';
    let htmlChunk = '';
    for (const { row } of page) {
      addToSummary(summary, row);
      jsonChunk += JSON_FORMAT.row(row, index);
      htmlChunk += HTML_FORMAT.row(row, index);
      index += 1;
    }
    await writeChunk(json, jsonChunk);
    await writeChunk(html, htmlChunk);
    const entries = page.flatMap((p) => p.entries);
    const proofs = await deps.ledger.inclusionProofs(
      entries.map((e) => e.index),
      size,
    );
    await writeChunk(
      cited,
      entries
        .map(
          (e, i) =>
            `${JSON.stringify({ index: e.index, data: e.data, proof: (proofs[i] ?? []).map(hex) })}\n`,
        )
        .join(''),
    );
  }
  const sorted = sortedSummary(summary);
  await writeChunk(json, JSON_FORMAT.end(header, sorted));
  await writeChunk(html, HTML_FORMAT.end(header, sorted));
  await Promise.all([endStream(json), endStream(html), endStream(cited)]);

  const receivedFrom = range.fromMs - RECEIPT_MARGIN_MS;
  const { start, boundary } = await deps.store.reports.rangeStart(receivedFrom, size);
  const prove = async (entries: readonly { index: number; data: string }[]): Promise<ProvenEntry[]> => {
    const proofs = await deps.ledger.inclusionProofs(
      entries.map((e) => e.index),
      size,
    );
    return entries.map((e, i) => ({ index: e.index, data: e.data, proof: (proofs[i] ?? []).map(hex) }));
  };
  let boundaryEntry: ProvenEntry | null = null;
  if (boundary !== null) {
    const [entry] = await deps.ledger.entries(boundary, boundary + 1);
    if (entry?.data) boundaryEntry = (await prove([{ index: boundary, data: entry.data }]))[0] ?? null;
  }
  const earlier = await deps.store.reports.earlierStarts({
    environment: header.environment,
    fromMs: range.fromMs,
    toMs: range.toMs,
    start,
    size,
  });
  const frontierKeys = rangeNodeKeys(0, start);
  const nodes = await deps.store.reports.nodes(frontierKeys);
  const rangeFile: RangeFile = {
    start,
    end: size,
    receivedFrom: new Date(receivedFrom).toISOString(),
    frontier: frontierKeys.map((key) => hex(nodes.get(nodeKeyId(key)) ?? new Uint8Array())),
    boundary: boundaryEntry,
    earlierStarts: await prove(earlier),
  };
  await fs.promises.writeFile(path.join(dir, 'range.json'), `${JSON.stringify(rangeFile)}\n`);

  const leaves = file('leaves.jsonl');
  for (let next = start; next < size;) {
    const entries = await deps.ledger.entries(next, Math.min(size, next + 1000));
    if (entries.length === 0) break;
    await writeChunk(
      leaves,
      entries
        .map((e) => `${JSON.stringify({ index: e.index, leafHash: hex(e.leafHash), data: e.data })}\n`)
        .join(''),
    );
    next = (entries.at(-1)?.index ?? next) + 1;
  }
  await endStream(leaves);
  return sorted;
}
