/**
 * Reads an archive segment's rows from a SQLite file in a worker thread and turns them into
 * JSONL pages with their leaf hashes (src/retention/segment-format.ts), each gzipped as one member,
 * so that reading, hashing, encoding and compressing run beside the archiver's thread, which
 * only writes the pages out in order, and the server's thread keeps taking writes. Two workers
 * take every other page. The queries are the retention repository's, compiled
 * there (one SQL text each; the parameters below are theirs, in order). Pages are sent as
 * transferred buffers; the protocol is worker-pages.ts's.
 */
import { setPriority } from 'node:os';
import { gzipSync } from 'node:zlib';
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import {
  deploymentLinesPage,
  type DeploymentLinesRow,
  entryLinesPage,
  segmentPageBounds,
  type EntryLinesRow,
  type SegmentPage,
} from '../retention/segment-format.js';

export interface SegmentJob {
  readonly file: string;
  readonly first: number;
  readonly end: number;
  readonly pageSize: number;
  /** This worker makes the pages `part`, `part + parts`, ... of the segment's sequence of pages. */
  readonly part: number;
  readonly parts: number;
  /** One row, the page's lines (segment-format.ts EntryLinesRow). Parameters: the page's first index and the index past it. */
  readonly entriesSql: string;
  /**
   * One row, [count, lines as one blob], of the window's deployments. Parameters: the window's
   * first index, the index past it, the segment's first, the window's first.
   */
  readonly deploymentsSql: string;
}

/** Nice value of the thread: below the server's, still scheduled on an idle machine. */
const NICE = 10;
const { file, first, end, pageSize, part, parts, entriesSql, deploymentsSql } = workerData as SegmentJob;
// Archiving is background work: this thread yields the cores to the server's thread (on Linux
// a nice value is per thread), so ingest keeps its rate and archiving takes what is left.
try {
  setPriority(NICE);
} catch {
  // Not permitted here (some sandboxes): run at the process's priority.
}
const port = parentPort;
if (!port) throw new Error('segment-page-worker runs as a worker thread');
const db = new SQLite(file, { readonly: true, fileMustExist: true });
// The worker reads most of the file once: mapped into memory, a page read is no system call
// (SQLite caps the size at what it was built with).
db.pragma('mmap_size = 2147483648');
const entries = db.prepare(entriesSql).raw();
const deployments = db.prepare(deploymentsSql).raw();
/** The segment's pages: its entry pages, then as many windows of deployments. */
const bounds = segmentPageBounds(first, end, pageSize);
const pages = bounds.length;

let next = part;
let credit = 2;
let done = false;
function send(): void {
  while (credit > 0 && !done) {
    if (next >= 2 * pages) {
      done = true;
      port?.postMessage(null);
      db.close();
      return;
    }
    const [from, to] = bounds[next % pages] as [number, number];
    const page =
      next < pages
        ? entryLinesPage(from, entries.get(from, to) as EntryLinesRow)
        : deploymentLinesPage(deployments.get(from, to, first, from) as DeploymentLinesRow);
    if (next < pages && page.entries !== to - from) {
      throw new Error(`ledger entry ${from + page.entries} is missing`);
    }
    // Compressed here, at the same level as `gzip` (zlib's default), so the archiver's thread only
    // writes: one gzip member a page. Copied out of zlib's buffer, which may share a pooled one.
    const member = new Uint8Array(gzipSync(page.text));
    port?.postMessage({ ...page, text: member, gzipped: true } satisfies SegmentPage, [
      member.buffer,
      page.leaves.buffer as ArrayBuffer,
    ]);
    next += parts;
    credit -= 1;
  }
}
port.on('message', () => {
  credit += 1;
  send();
});
send();
