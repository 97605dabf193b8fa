/**
 * The archive segment (DESIGN.md §14, docs/retention.md §Format): one per month, two objects.
 *
 * - `YYYY-MM.jsonl.gz`: gzip of one JSON object per line. First every ledger entry of the
 *   segment, in index order, then the deployment rows its events touched:
 *   `{"type":"entry","index":N,"event":{"seq":S,"scope":"..."},"record":<entry bytes>}` (an
 *   event's entry), `{"type":"entry","index":N,"record":<entry bytes>}` (any other record),
 *   `{"type":"entry","index":N,"retired":true}` (a payload retired before it was archived) and
 *   `{"type":"deployment","row":{...}}`. `record` is always the last member and holds the exact
 *   entry bytes (RFC 8785 JSON), so a verifier hashes the text between `"record":` and the final
 *   `}` without re-encoding it.
 * - `YYYY-MM.manifest.json`: the ledger index range, every leaf hash, the signed checkpoint that
 *   covers them and the subtree hashes that prove the range in it (src/ledger/range-proof.ts),
 *   and the size and SHA-256 of the JSONL.
 */
export const SEGMENT_FORMAT = 'shiplog-archive-segment';
export const SEGMENT_FORMAT_VERSION = 1;

export interface SegmentManifest {
  readonly format: typeof SEGMENT_FORMAT;
  readonly formatVersion: number;
  /** `YYYY-MM` (UTC) of the entries' receipt. */
  readonly month: string;
  readonly createdAt: string;
  /** The entries [first, end) of the ledger. */
  readonly ledger: { readonly first: number; readonly end: number };
  /** Base64 of the leaf hashes of [first, end), 32 bytes each, in index order. */
  readonly leafHashes: string;
  /** Indexes whose payload was retired before the segment was written (leaf hash only). */
  readonly retired: readonly number[];
  /** A signed checkpoint (C2SP tlog-checkpoint) whose tree holds the range. */
  readonly checkpoint: { readonly size: number; readonly note: string };
  /** The key that signed it, for reference only: a verifier trusts the keys it is given. */
  readonly verifierKey: string;
  /** The complete subtrees outside the range that give the checkpoint's root with its leaves. */
  readonly proof: readonly { readonly level: number; readonly index: number; readonly hash: string }[];
  readonly records: {
    readonly file: string;
    readonly bytes: number;
    readonly sha256: string;
    readonly entries: number;
    readonly deployments: number;
  };
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(value: string): boolean {
  return MONTH.test(value);
}

/** `YYYY-MM` of an instant, UTC. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** The first instant of `month`. */
export function monthStart(month: string): number {
  const match = MONTH.exec(month);
  if (!match) throw new RangeError(`${month} is not a month (YYYY-MM)`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, 1);
}

/** The first instant after `month`. */
export function monthEnd(month: string): number {
  const start = new Date(monthStart(month));
  return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
}

export function recordsFile(month: string): string {
  return `${month}.jsonl.gz`;
}

export function manifestFile(month: string): string {
  return `${month}.manifest.json`;
}

/** The months of the segments among object names (`YYYY-MM.manifest.json`), in order. */
export function monthsOf(names: readonly string[]): string[] {
  return names
    .map((n) => /^(\d{4}-\d{2})\.manifest\.json$/.exec(n)?.[1])
    .filter((m): m is string => m !== undefined && isMonth(m))
    .sort();
}

const RECORD_KEY = '"record":';

/** Splits an entry line into its head (index, event) and the exact record bytes, if any. */
export function splitEntryLine(line: string): {
  head: { type?: unknown; index?: unknown; retired?: unknown; event?: unknown; row?: unknown };
  bytes: string | undefined;
} {
  // Inside a JSON string every `"` is escaped, so the first `"record":` is the member's key.
  const at = line.indexOf(RECORD_KEY);
  if (at < 0) return { head: JSON.parse(line) as Record<string, unknown>, bytes: undefined };
  if (!line.endsWith('}')) throw new SyntaxError('an entry line does not end with }');
  const head = JSON.parse(`${line.slice(0, at)}"record":null}`) as Record<string, unknown>;
  return { head, bytes: line.slice(at + RECORD_KEY.length, -1) };
}
