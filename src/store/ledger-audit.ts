/**
 * Offline verification of a stored ledger (`shiplog verify --data DIR | --database URL`,
 * DESIGN.md §4). Trusts nothing the database caches: it streams the entries in index order,
 * recomputes every leaf hash from the entry bytes, checks each entry against the record stored
 * for it (events.body), rebuilds the RFC 9162 tree in O(log n) memory with the root builder,
 * compares every stored subtree hash with the recomputed one, checks the sequencer's size, and
 * checks the latest checkpoint's signature and root. The first failure is reported with the
 * index it concerns; reading stops there.
 */
import { verifyCheckpoint } from '../ledger/checkpoint.js';
import { emptyRootHash, leafHash } from '../ledger/merkle.js';
import type { NoteVerifier } from '../ledger/note.js';
import { createRootBuilder } from '../ledger/root-builder.js';
import type { Store } from './database.js';

export interface LedgerProblem {
  /** The first entry index the problem concerns, when there is one. */
  readonly index: number | null;
  readonly message: string;
}

export interface AuditOptions {
  /** Keys that may have signed checkpoints (current and rotated-out ones). */
  readonly verifiers: readonly NoteVerifier[];
  /** More signed checkpoints to hold the log against (e.g. ones a witness saved). */
  readonly checkpoints?: readonly string[];
  /** Entries read per query (default 10 000). */
  readonly pageSize?: number;
  /** Called after each page with the entries checked so far and the expected total. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface AuditReport {
  readonly ok: boolean;
  /** Entries read and recomputed. */
  readonly entries: number;
  /** The size the sequencer row records. */
  readonly headSize: number;
  /** The recomputed root of all `entries`. */
  readonly rootHash: Uint8Array;
  /** Sizes of the checkpoints whose signature and root were checked. */
  readonly checkpointSizes: readonly number[];
  /** Failures, the first being the earliest in the log; empty when `ok`. */
  readonly problems: readonly LedgerProblem[];
  /** Things worth saying that do not fail the check (no checkpoint yet, dropped payloads). */
  readonly notes: readonly string[];
}

interface CheckpointToCheck {
  readonly label: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Verifies the whole stored ledger of `store`; never writes. */
export async function auditLedger(store: Store, options: AuditOptions): Promise<AuditReport> {
  const db = store.db;
  const pageSize = options.pageSize ?? 10_000;
  const problems: LedgerProblem[] = [];
  const notes: string[] = [];
  const head = await db.selectFrom('ledger_head').select('size').where('id', '=', 1).executeTakeFirst();
  const headSize = head ? Number(head.size) : 0;
  if (!head) problems.push({ index: null, message: 'the ledger head row (the sequencer) is missing' });

  // The checkpoints to hold the log against: the latest stored one and any given.
  const targets: CheckpointToCheck[] = [];
  const latest = await db
    .selectFrom('checkpoints')
    .select(['size', 'note', 'root_hash'])
    .orderBy('size', 'desc')
    .limit(1)
    .executeTakeFirst();
  const signed = [
    ...(latest ? [{ label: `the latest checkpoint (size ${Number(latest.size)})`, note: latest.note }] : []),
    ...(options.checkpoints ?? []).map((note, i) => ({ label: `given checkpoint #${i + 1}`, note })),
  ];
  if (!latest) notes.push('no checkpoint has been cut yet: only the tree itself was checked');
  if (signed.length > 0 && options.verifiers.length === 0) {
    problems.push({
      index: null,
      message: 'no verifier key to check checkpoint signatures with (pass --key)',
    });
  }
  for (const { label, note } of signed) {
    if (options.verifiers.length === 0) break;
    try {
      const checkpoint = verifyCheckpoint(note, options.verifiers);
      targets.push({ label, size: checkpoint.size, rootHash: checkpoint.rootHash });
    } catch (error) {
      problems.push({ index: null, message: `${label} is forged or damaged: ${(error as Error).message}` });
    }
  }
  if (
    latest &&
    targets[0]?.label.startsWith('the latest') &&
    !sameBytes(targets[0].rootHash, latest.root_hash)
  ) {
    problems.push({
      index: null,
      message: 'the latest checkpoint row holds a root hash other than its signed note',
    });
  }
  const wanted = new Map<number, Uint8Array>();
  for (const target of targets) if (target.size === 0) wanted.set(0, emptyRootHash());

  const builder = createRootBuilder();
  let expected = 0;
  let dropped = 0;
  const fail = (index: number | null, message: string) => {
    problems.push({ index, message });
  };
  let broken = false;
  while (!broken) {
    const rows = await db
      .selectFrom('ledger_entries')
      .select(['idx', 'leaf_hash', 'data', 'record_type'])
      .where('idx', '>=', expected)
      .orderBy('idx')
      .limit(pageSize)
      .execute();
    if (rows.length === 0) break;
    const start = expected;
    const end = start + rows.length;
    const events = await eventsFor(store, start, end);
    const nodes = await nodesCompletedIn(store, start, end);
    for (const row of rows) {
      const index = Number(row.idx);
      if (index !== expected) {
        fail(
          expected,
          `entry ${expected} is missing (the next stored entry is ${index}): a record was deleted`,
        );
        broken = true;
        break;
      }
      let leaf: Uint8Array = row.leaf_hash;
      if (row.data === null) {
        dropped += 1;
      } else {
        leaf = leafHash(Buffer.from(row.data, 'utf8'));
        if (!sameBytes(leaf, row.leaf_hash)) {
          fail(
            index,
            `entry ${index}: its data does not hash to its stored leaf hash: the record was changed`,
          );
          broken = true;
          break;
        }
        const claimed = events.get(index);
        if (claimed && claimed.length > 1) {
          fail(
            index,
            `entry ${index} is claimed by ${claimed.length} events (${claimed.map((e) => e.id).join(', ')})`,
          );
          broken = true;
          break;
        }
        const event = claimed?.[0];
        if (row.record_type === 'event' && !event) {
          fail(index, `entry ${index}: the event it records is missing from the events table`);
          broken = true;
          break;
        }
        if (event && event.body !== row.data) {
          fail(index, `entry ${index}: the stored event ${event.id} differs from its ledger entry`);
          broken = true;
          break;
        }
      }
      for (const node of builder.append(leaf)) {
        if (node.key.level === 0) continue;
        const id = `${node.key.level}/${node.key.index}`;
        const span = 2 ** node.key.level;
        const first = node.key.index * span;
        const stored = nodes.get(id);
        const range = `entries ${first}..${first + span - 1}`;
        if (stored === undefined) {
          fail(first, `the stored node over ${range} (level ${node.key.level}) is missing`);
          broken = true;
        } else if (!sameBytes(node.hash, stored)) {
          fail(
            first,
            `${range} do not hash to their stored node (level ${node.key.level}, index ${node.key.index}): ` +
              'a record in that range was changed, moved or removed',
          );
          broken = true;
        }
        if (broken) break;
      }
      if (broken) break;
      expected += 1;
      for (const target of targets) if (target.size === expected) wanted.set(expected, builder.root());
    }
    options.onProgress?.(expected, Math.max(headSize, expected));
    if (rows.length < pageSize) break;
  }

  if (!broken) {
    if (headSize > expected) {
      fail(
        expected,
        `the sequencer records ${headSize} entries but only ${expected} are stored: entries ${expected}..${headSize - 1} are missing (the log was truncated)`,
      );
    } else if (headSize < expected) {
      fail(
        headSize,
        `${expected} entries are stored but the sequencer records ${headSize}: entries from ${headSize} on were added behind its back`,
      );
    }
    const extra = await strayRows(store, expected);
    if (extra) fail(expected, extra);
    for (const target of targets) {
      if (target.size > expected) {
        fail(
          expected,
          `${target.label} covers ${target.size} entries but only ${expected} are stored: the log was truncated`,
        );
        continue;
      }
      const root = wanted.get(target.size);
      if (root && !sameBytes(root, target.rootHash)) {
        problems.push({
          index: null,
          message: `${target.label} has root ${hex(target.rootHash)} but the entries give ${hex(root)}: entries before ${target.size} were changed`,
        });
      }
    }
  }
  if (dropped > 0)
    notes.push(`${dropped} entries had their payload dropped by retention: only their leaf hash was checked`);
  // The earliest index first; problems without an index (signatures, roots) after them.
  problems.sort((a, b) => (a.index ?? Infinity) - (b.index ?? Infinity));
  return {
    ok: problems.length === 0,
    entries: expected,
    headSize,
    rootHash: builder.root(),
    checkpointSizes: targets.filter((t) => t.size <= expected).map((t) => t.size),
    problems,
    notes,
  };
}

async function eventsFor(
  store: Store,
  start: number,
  end: number,
): Promise<Map<number, { id: string; body: string }[]>> {
  const rows = await store.db
    .selectFrom('events')
    .select(['id', 'body', 'ledger_index'])
    .where('ledger_index', '>=', start)
    .where('ledger_index', '<', end)
    .execute();
  const byIndex = new Map<number, { id: string; body: string }[]>();
  for (const row of rows) {
    const index = Number(row.ledger_index);
    const list = byIndex.get(index) ?? [];
    list.push({ id: row.id, body: row.body });
    byIndex.set(index, list);
  }
  return byIndex;
}

/** The stored nodes (level >= 1) that leaves [start, end) complete, keyed "level/index". */
async function nodesCompletedIn(store: Store, start: number, end: number): Promise<Map<string, Uint8Array>> {
  const ranges: { level: number; lo: number; hi: number }[] = [];
  for (let level = 1; 2 ** level <= end; level += 1) {
    const span = 2 ** level;
    const lo = Math.ceil((start + 1) / span) - 1;
    const hi = Math.floor(end / span) - 1;
    if (hi >= lo) ranges.push({ level, lo, hi });
  }
  const nodes = new Map<string, Uint8Array>();
  if (ranges.length === 0) return nodes;
  const rows = await store.db
    .selectFrom('ledger_nodes')
    .select(['level', 'idx', 'hash'])
    .where((eb) =>
      eb.or(
        ranges.map((r) => eb.and([eb('level', '=', r.level), eb('idx', '>=', r.lo), eb('idx', '<=', r.hi)])),
      ),
    )
    .execute();
  for (const row of rows) nodes.set(`${Number(row.level)}/${Number(row.idx)}`, row.hash);
  return nodes;
}

/** Rows that point past the end of the log: nodes over missing leaves, events claiming missing entries. */
async function strayRows(store: Store, size: number): Promise<string | undefined> {
  const db = store.db;
  const counts = await db
    .selectFrom('ledger_nodes')
    .select(['level', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('level')
    .execute();
  for (const { level, n } of counts) {
    const expected = Math.floor(size / 2 ** Number(level));
    if (Number(n) > expected) {
      return `${Number(n) - expected} stored nodes at level ${Number(level)} lie beyond the ${size} entries: the log was truncated`;
    }
  }
  const beyond = await db
    .selectFrom('events')
    .select(['id', 'ledger_index'])
    .where('ledger_index', '>=', size)
    .orderBy('ledger_index')
    .limit(1)
    .executeTakeFirst();
  if (beyond) {
    return `event ${beyond.id} claims entry ${Number(beyond.ledger_index)}, beyond the ${size} stored entries: the log was truncated`;
  }
  return undefined;
}
