/**
 * The archive segment (DESIGN.md §14, docs/retention.md §Format): one per month, two objects.
 *
 * - `YYYY-MM.jsonl.gz`: gzip of one JSON object per line (RFC 1952, one gzip member per page of
 *   lines, which every gunzip reads as one stream). First every ledger entry of the
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
import { hash } from 'node:crypto';
import { nodeHash } from '../ledger/merkle.js';

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

/** A manifest but its leaf hashes: what the writer holds of the manifest it wrote, with the leaves as bytes. */
export type SegmentFields = Omit<SegmentManifest, 'leafHashes'>;

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

/**
 * One ledger entry as the store reads it for a segment on PostgreSQL (SQLite writes the lines
 * itself: {@link entryLinesPage}): a tuple, not an object, because a month is a million of them.
 * `record` is the entry's own text or its event's body, null once retired; `seq` and `scope`
 * name the events row that holds them (restored as it was); `retiredLeaf` is the stored leaf
 * hash of a retired entry, the only thing left of it.
 */
export type SegmentEntryRow = readonly [
  index: number,
  record: string | null,
  seq: number | null,
  scope: string | null,
  retiredLeaf: Uint8Array | null,
];

/** Consecutive lines of a segment's JSONL, as UTF-8, with the leaf hashes of its entries. */
export interface SegmentPage {
  /** The lines; when `gzipped`, already compressed as one gzip member (by the page's worker). */
  readonly text: Uint8Array;
  readonly gzipped?: boolean;
  /** Entry lines in the page (the first at ledger index `first`), then deployment lines. */
  readonly first: number;
  readonly entries: number;
  readonly deployments: number;
  /** The leaf hash of each entry line, 32 bytes each, in index order. */
  readonly leaves: Uint8Array;
  /** The indexes of entries retired before archiving (their leaf hash is the stored one). */
  readonly retired: readonly number[];
  /**
   * The hash of the complete subtree the page's entries make, when they make one (a whole
   * aligned page, see {@link segmentPageBounds}), so the proof need not hash them again.
   */
  readonly subtree?: { readonly level: number; readonly index: number; readonly hash: Uint8Array };
}

/**
 * The pages of the entries [first, end): `pageSize` (a power of two) entries each, aligned to
 * multiples of it, so that every whole page is one complete subtree of the ledger's tree.
 */
export function segmentPageBounds(first: number, end: number, pageSize: number): [number, number][] {
  const bounds: [number, number][] = [];
  for (let from = first; from < end; from = Math.min(end, (Math.floor(from / pageSize) + 1) * pageSize)) {
    bounds.push([from, Math.min(end, (Math.floor(from / pageSize) + 1) * pageSize)]);
  }
  return bounds;
}

/**
 * A page's UTF-8 text, written straight into one growing buffer: a page is megabytes, and
 * building it as strings (a line each, joined, then encoded) copied every byte three times.
 */
class PageText {
  private bytes: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafeSlow(Math.max(capacity, 1024));
  }

  /** Appends `text` as UTF-8 and returns the offset it starts at. */
  write(text: string): number {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    this.reserve(3 * text.length);
    const at = this.length;
    this.length += this.bytes.write(text, at, 'utf8');
    return at;
  }

  /** Writes into `leaves` at `offset` the leaf hash of the bytes from `at` to the end. */
  leafHashInto(at: number, leaves: Buffer, offset: number): void {
    leafHashAt(this.bytes, at, this.length, leaves, offset);
  }

  private reserve(more: number): void {
    const room = this.length + more;
    if (room <= this.bytes.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.bytes.length, room));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }

  done(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/**
 * Writes into `leaves` at `offset` the RFC 9162 leaf hash (merkle.ts `leafHash`: SHA-256 of 0x00
 * and the entry) of `bytes` from `start` to `end`, hashed where they lie: the byte before them
 * (there is one: the line's head) stands in for the prefix while it is computed, and the digest
 * comes as hex (on Node 20 a Buffer digest costs three times as much). No allocation but the hex
 * string, a million times a month.
 */
function leafHashAt(bytes: Buffer, start: number, end: number, leaves: Buffer, offset: number): void {
  const before = bytes[start - 1] ?? 0;
  bytes[start - 1] = 0;
  leaves.write(hash('sha256', bytes.subarray(start - 1, end), 'hex'), offset, 'hex');
  bytes[start - 1] = before;
}

/**
 * The fixed text of an entry line, in one place for the code here and the SQL that writes the
 * lines on SQLite (src/store/retention-repository.ts): `start`, the index, then either
 * `retired`, or (when it is an event's) `event` seq `scope` scope `eventEnd`, then `record`,
 * the record's bytes, `end`.
 */
export const ENTRY_LINE = {
  start: '{"type":"entry","index":',
  retired: ',"retired":true}\n',
  event: ',"event":{"seq":',
  scope: ',"scope":',
  eventEnd: '}',
  record: ',"record":',
  end: '}\n',
} as const;

/** Bytes a page of `rows` takes, about: records are a few hundred bytes, deployment rows a thousand. */
const LINE_BYTES = 1024;

/**
 * The entry lines of `rows`, which must be the entries `first`, `first + 1`, ... in order. The
 * leaf hash of each is made from the very record bytes written (RFC 9162: SHA-256 of 0x00 and
 * the entry), not taken from the store: proving these leaves against the checkpoint proves the
 * records. Throws when an entry is missing.
 */
export function entriesPage(rows: readonly SegmentEntryRow[], first: number): SegmentPage {
  const leaves = Buffer.allocUnsafeSlow(32 * rows.length);
  const retired: number[] = [];
  const text = new PageText(LINE_BYTES * rows.length);
  for (let offset = 0; offset < rows.length; offset += 1) {
    const [index, record, seq, scope, retiredLeaf] = rows[offset] as SegmentEntryRow;
    if (index !== first + offset) throw new Error(`ledger entry ${first + offset} is missing`);
    if (record === null) {
      if (retiredLeaf === null) throw new Error(`ledger entry ${index} has neither bytes nor a leaf hash`);
      leaves.set(retiredLeaf, 32 * offset);
      retired.push(index);
      text.write(`${ENTRY_LINE.start}${index}${ENTRY_LINE.retired}`);
      continue;
    }
    const event =
      seq === null || scope === null
        ? ''
        : `${ENTRY_LINE.event}${seq}${ENTRY_LINE.scope}${JSON.stringify(scope)}${ENTRY_LINE.eventEnd}`;
    text.write(`${ENTRY_LINE.start}${index}${event}${ENTRY_LINE.record}`);
    text.leafHashInto(text.write(record), leaves, 32 * offset);
    text.write(ENTRY_LINE.end);
  }
  return entryPage(first, rows.length, text.done(), leaves, retired);
}

const NEWLINE = 0x0a;
const CLOSE = 0x7d; // }
const START_BYTES = Buffer.from(ENTRY_LINE.start);
const RETIRED_BYTES = Buffer.from(ENTRY_LINE.retired);
const RECORD_KEY_BYTES = Buffer.from(ENTRY_LINE.record);

/**
 * A page of entry lines as the store wrote them in one go (SQLite): how many, the lines
 * (ENTRY_LINE around each record, in index order), the stored leaf hashes of the retired ones in
 * order (hex, comma-separated), and the first entry that has neither bytes nor a leaf hash.
 */
export type EntryLinesRow = readonly [
  count: number,
  text: Buffer | null,
  retiredLeaves: string | null,
  broken: number | null,
];

/**
 * The page of the entries `first`, `first + 1`, ... that the store wrote as `row`. Each line is
 * checked to be the next index's, and each leaf is hashed from the record bytes as they lie in
 * the page, as {@link entriesPage} does (the text is changed while a leaf is hashed, and restored).
 */
export function entryLinesPage(first: number, row: EntryLinesRow): SegmentPage {
  const [count, lines, retiredLeaves, broken] = row;
  if (broken !== null) throw new Error(`ledger entry ${broken} has neither bytes nor a leaf hash`);
  const text = lines ?? Buffer.alloc(0);
  const leaves = Buffer.allocUnsafeSlow(32 * count);
  const stored = retiredLeaves === null ? [] : retiredLeaves.split(',');
  const retired: number[] = [];
  let at = 0;
  for (let offset = 0; offset < count; offset += 1) {
    const index = first + offset;
    let digits = at + START_BYTES.length;
    let value = 0;
    for (let c = text[digits] ?? 0; c >= 0x30 && c <= 0x39; c = text[digits] ?? 0) {
      value = 10 * value + c - 0x30;
      digits += 1;
    }
    if (!holdsAt(text, at, START_BYTES) || digits === at + START_BYTES.length || value !== index) {
      throw new Error(`ledger entry ${index} is missing`);
    }
    if (holdsAt(text, digits, RETIRED_BYTES)) {
      const leaf = stored[retired.length] ?? '';
      if (leaf.length !== 64) throw new Error(`ledger entry ${index} has neither bytes nor a leaf hash`);
      leaves.write(leaf, 32 * offset, 'hex');
      retired.push(index);
      at = digits + RETIRED_BYTES.length;
      continue;
    }
    // The record's key is the line's first: inside a JSON string every `"` is escaped.
    const record = text.indexOf(RECORD_KEY_BYTES, digits);
    const end = text.indexOf(NEWLINE, digits);
    if (record < 0 || end < record || text[end - 1] !== CLOSE) {
      throw new Error(`the line of ledger entry ${index} is neither a record nor retired`);
    }
    leafHashAt(text, record + RECORD_KEY_BYTES.length, end - 1, leaves, 32 * offset);
    at = end + 1;
  }
  if (retired.length !== stored.length) {
    throw new Error(
      `the page of ledger entries from ${first} has ${stored.length} stored leaf hashes for ${retired.length} retired entries`,
    );
  }
  if (at !== text.length)
    throw new Error(`the page of ledger entries from ${first} holds more than ${count} lines`);
  return entryPage(first, count, text, leaves, retired);
}

/** Whether `text` holds `bytes` at `at`. */
function holdsAt(text: Buffer, at: number, bytes: Buffer): boolean {
  return (
    at + bytes.length <= text.length && text.compare(bytes, 0, bytes.length, at, at + bytes.length) === 0
  );
}

/** A page of entry lines, with its subtree's hash when it is a whole aligned page. */
function entryPage(
  first: number,
  count: number,
  text: Uint8Array,
  leaves: Buffer,
  retired: number[],
): SegmentPage {
  const page = {
    text,
    first,
    entries: count,
    deployments: 0,
    leaves: new Uint8Array(leaves.buffer, leaves.byteOffset, leaves.length),
    retired,
  };
  const level = Math.log2(count);
  if (count < 2 || !Number.isInteger(level) || first % count !== 0) return page;
  return { ...page, subtree: { level, index: first / count, hash: subtreeHash(leaves) } };
}

/** RFC 9162 MTH of a power-of-two run of leaf hashes (32 bytes each), level by level. */
function subtreeHash(leaves: Uint8Array): Uint8Array {
  let level = leaves;
  while (level.length > 32) {
    const up = new Uint8Array(level.length / 2);
    for (let i = 0; i < up.length; i += 32) {
      up.set(nodeHash(level.subarray(2 * i, 2 * i + 32), level.subarray(2 * i + 32, 2 * i + 64)), i);
    }
    level = up;
  }
  return level;
}

/** A deployment line is `DEPLOYMENT_LINE[0]`, the JSON text of the deployment's row, `DEPLOYMENT_LINE[1]`. */
export const DEPLOYMENT_LINE = ['{"type":"deployment","row":', '}\n'] as const;

/** The deployment lines of `rows`, each the JSON text of a deployment row. */
export function deploymentsPage(rows: readonly string[]): SegmentPage {
  const text = new PageText(LINE_BYTES * rows.length);
  for (const row of rows) {
    text.write(DEPLOYMENT_LINE[0]);
    text.write(row);
    text.write(DEPLOYMENT_LINE[1]);
  }
  return deploymentLinesPage([rows.length, text.done()]);
}

/** A page of deployment lines as the store wrote them in one go (SQLite): how many, and the lines. */
export type DeploymentLinesRow = readonly [count: number, text: Uint8Array | null];

/** The page of deployment lines the store wrote as `row`, or {@link deploymentsPage} built. */
export function deploymentLinesPage([count, text]: DeploymentLinesRow): SegmentPage {
  return {
    text: text ?? new Uint8Array(0),
    first: 0,
    entries: 0,
    deployments: count,
    leaves: new Uint8Array(0),
    retired: [],
  };
}
