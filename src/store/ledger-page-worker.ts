/**
 * Reads and checks a SQLite ledger page by page in a worker thread for `shiplog verify`: it
 * recomputes each entry's leaf hash (ledger-pages.ts) while the main thread rebuilds the tree
 * from the previous page's leaves, so the audit uses two cores. Each page is an index range
 * [start, start + pageSize); the leaves travel as one transferred buffer. The main thread asks
 * for each next page ('more'); the worker keeps at most two pages ahead.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { checkPage, completedRanges, type EntryRow } from './ledger-pages.js';

interface Job {
  readonly file: string;
  readonly pageSize: number;
  readonly end: number;
}

const { file, pageSize, end } = workerData as Job;
const port = parentPort;
if (!port) throw new Error('ledger-page-worker runs as a worker thread');
const db = new SQLite(file, { readonly: true, fileMustExist: true });
const entries = db
  .prepare(
    `select l.idx, l.leaf_hash, l.data, l.record_type, l.retired_ms, e.id, e.body
     from ledger_entries l left join events e on e.ledger_index = l.idx
     where l.idx >= ? and l.idx < ? order by l.idx`,
  )
  .raw();
const nodes = db
  .prepare('select idx, hash from ledger_nodes where level = ? and idx >= ? and idx <= ?')
  .raw();

let start = 0;
let credit = 2;
let done = false;
function send(): void {
  while (credit > 0 && start < end && !done) {
    const stop = Math.min(start + pageSize, end);
    const stored = new Map<string, Uint8Array>();
    for (const { level, lo, hi } of completedRanges(start, stop)) {
      for (const [idx, hash] of nodes.all(level, lo, hi) as [number, Uint8Array][]) {
        stored.set(`${level}/${idx}`, hash);
      }
    }
    const page = checkPage(entries.all(start, start + pageSize) as EntryRow[], start, stop, stored);
    port?.postMessage(page, [page.leaves.buffer as ArrayBuffer]);
    // Past a problem nothing more is read: the audit stops there.
    if (page.problem !== undefined || page.missing !== undefined) start = end;
    start += pageSize;
    credit -= 1;
  }
  if (start >= end && !done) {
    done = true;
    port?.postMessage(null);
    db.close();
  }
}
port.on('message', () => {
  credit += 1;
  send();
});
send();
