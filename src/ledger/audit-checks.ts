/**
 * The checks of an offline ledger audit (`shiplog verify`, DESIGN.md §4), as pure functions: the
 * store streams what is stored (src/store/ledger-audit.ts) and these say what is wrong with it.
 * Each returns the problem it finds, naming the first index it concerns, or nothing.
 */
import { leafHash, type NodeHash } from './merkle.js';

export interface LedgerProblem {
  /** The first entry index the problem concerns, when there is one. */
  readonly index: number | null;
  readonly message: string;
}

/** One stored entry as the auditor reads it, with the records that claim it. */
export interface StoredEntry {
  readonly index: number;
  readonly leafHash: Uint8Array;
  /** The entry's own bytes; null for a record's entry (an event's) or a retired payload. */
  readonly data: string | null;
  /** The entry was written for a record that holds its bytes (events.body). */
  readonly external: boolean;
  /** Retention dropped the payload and kept the leaf hash. */
  readonly retired: boolean;
  /** The records (events) that claim this entry, with their stored bytes. */
  readonly claims: readonly { readonly id: string; readonly body: string }[];
}

export type EntryVerdict =
  { readonly problem: LedgerProblem } | { readonly leaf: Uint8Array; readonly retired: boolean };

const utf8 = new TextEncoder();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Checks entry `expected` (the next index of the log) and gives the leaf hash to build on. */
export function checkEntry(entry: StoredEntry | undefined, expected: number, next?: number): EntryVerdict {
  if (entry === undefined || entry.index !== expected) {
    const where = next === undefined ? 'no entry follows' : `the next stored entry is ${next}`;
    return {
      problem: { index: expected, message: `entry ${expected} is missing (${where}): a record was deleted` },
    };
  }
  const { index, claims } = entry;
  if (entry.retired) return { leaf: entry.leafHash, retired: true };
  if (claims.length > 1) {
    return {
      problem: {
        index,
        message: `entry ${index} is claimed by ${claims.length} events (${claims.map((c) => c.id).join(', ')})`,
      },
    };
  }
  const claim = claims[0];
  if (entry.external && claim === undefined) {
    return {
      problem: { index, message: `entry ${index}: the event it records is missing from the events table` },
    };
  }
  if (!entry.external && claim !== undefined) {
    return {
      problem: { index, message: `entry ${index} is not an event's, yet event ${claim.id} claims it` },
    };
  }
  const bytes = entry.external ? (claim?.body ?? '') : (entry.data ?? '');
  const leaf = leafHash(utf8.encode(bytes));
  if (!sameBytes(leaf, entry.leafHash)) {
    const what = entry.external ? `the stored event ${claim?.id ?? ''}` : 'its data';
    return {
      problem: {
        index,
        message: `entry ${index}: ${what} does not hash to its stored leaf hash: the record was changed`,
      },
    };
  }
  return { leaf, retired: false };
}

/** Compares a subtree hash the rebuilt tree made with the stored one. */
export function checkNode(node: NodeHash, stored: Uint8Array | undefined): LedgerProblem | undefined {
  const span = 2 ** node.key.level;
  const first = node.key.index * span;
  const range = `entries ${first}..${first + span - 1}`;
  if (stored === undefined) {
    return { index: first, message: `the stored node over ${range} (level ${node.key.level}) is missing` };
  }
  if (!sameBytes(node.hash, stored)) {
    return {
      index: first,
      message:
        `${range} do not hash to their stored node (level ${node.key.level}, index ${node.key.index}): ` +
        'a record in that range was changed, moved or removed',
    };
  }
  return undefined;
}

/** Compares the number of entries read with the sequencer's size. */
export function checkSize(entries: number, headSize: number): LedgerProblem | undefined {
  if (headSize > entries) {
    return {
      index: entries,
      message: `the sequencer records ${headSize} entries but only ${entries} are stored: entries ${entries}..${headSize - 1} are missing (the log was truncated)`,
    };
  }
  if (headSize < entries) {
    return {
      index: headSize,
      message: `${entries} entries are stored but the sequencer records ${headSize}: entries from ${headSize} on were added behind its back`,
    };
  }
  return undefined;
}

/** A signed checkpoint to hold the log against. */
export interface CheckpointTarget {
  readonly label: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/** Checks a checkpoint against the root the entries give at its size (undefined: not reached). */
export function checkCheckpoint(
  target: CheckpointTarget,
  entries: number,
  root: Uint8Array | undefined,
): LedgerProblem | undefined {
  if (target.size > entries) {
    return {
      index: entries,
      message: `${target.label} covers ${target.size} entries but only ${entries} are stored: the log was truncated`,
    };
  }
  if (root && !sameBytes(root, target.rootHash)) {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    return {
      index: null,
      message: `${target.label} has root ${hex(target.rootHash)} but the entries give ${hex(root)}: entries before ${target.size} were changed`,
    };
  }
  return undefined;
}
