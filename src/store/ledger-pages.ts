/**
 * The pages `shiplog verify` reads a stored ledger in, and the first half of their check: each
 * entry's leaf hash recomputed from its stored bytes (src/ledger/audit-checks.ts). The second
 * half, rebuilding the tree from those leaves and comparing its nodes, runs on the main thread
 * (ledger-audit.ts). On SQLite a worker thread reads and checks the pages
 * (ledger-page-worker.ts), so the two halves run on two cores at once.
 */
import { checkEntry, type LedgerProblem, type StoredEntry } from '../ledger/audit-checks.js';

/** One entry row joined with one event that claims it (none: id and body are null). */
export type EntryRow = readonly [
  idx: number,
  leafHash: Uint8Array,
  data: string | null,
  recordType: string,
  retiredMs: number | null,
  eventId: string | null,
  body: string | null,
];

/** A page of entries [start, start + count) whose leaves were checked. */
export interface CheckedPage {
  readonly start: number;
  /** The leaf hashes of the entries that passed, 32 bytes each, in index order. */
  readonly leaves: Uint8Array;
  readonly count: number;
  readonly retired: number;
  /** The first problem of the page; the leaves before it are valid. */
  readonly problem?: LedgerProblem;
  /** Index of the first missing entry, when the page ended short of its range. */
  readonly missing?: number;
  /** The stored subtree nodes (level >= 1) the page's entries complete, keyed `level/index`. */
  readonly nodes: Map<string, Uint8Array>;
}

/** Per level, the index range of the subtree nodes that leaves [start, end) complete. */
export function completedRanges(start: number, end: number): { level: number; lo: number; hi: number }[] {
  const ranges: { level: number; lo: number; hi: number }[] = [];
  for (let level = 1; 2 ** level <= end; level += 1) {
    const span = 2 ** level;
    const lo = Math.ceil((start + 1) / span) - 1;
    const hi = Math.floor(end / span) - 1;
    if (hi >= lo) ranges.push({ level, lo, hi });
  }
  return ranges;
}

/** Checks the entries of the range [start, stop) read as `rows` (ordered by index). */
export function checkPage(
  rows: readonly EntryRow[],
  start: number,
  stop: number,
  nodes: Map<string, Uint8Array>,
): CheckedPage {
  const entries = storedEntries(rows);
  const leaves = new Uint8Array(32 * entries.length);
  let count = 0;
  let retired = 0;
  for (const entry of entries) {
    const verdict = checkEntry(entry, start + count, entry.index);
    if ('problem' in verdict) return { start, leaves, count, retired, problem: verdict.problem, nodes };
    if (verdict.retired) retired += 1;
    leaves.set(verdict.leaf, 32 * count);
    count += 1;
  }
  return start + count < stop
    ? { start, leaves, count, retired, missing: start + count, nodes }
    : { start, leaves, count, retired, nodes };
}

function storedEntries(rows: readonly EntryRow[]): StoredEntry[] {
  const entries: StoredEntry[] = [];
  let claims: { id: string; body: string }[] = [];
  let last = -1;
  for (const [idx, leafHash, data, recordType, retiredMs, eventId, body] of rows) {
    const index = Number(idx);
    if (index !== last) {
      claims = [];
      last = index;
      entries.push({
        index,
        leafHash,
        data,
        external: recordType === 'event' && data === null,
        retired: retiredMs !== null,
        claims,
      });
    }
    if (eventId !== null && body !== null) claims.push({ id: eventId, body });
  }
  return entries;
}
