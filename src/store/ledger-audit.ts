/**
 * Offline verification of a stored ledger (`shiplog verify --data DIR | --database URL`,
 * DESIGN.md §4). Trusts nothing the database caches: it streams the entries in index order with
 * the events that claim them, recomputes every leaf hash from the stored bytes (an event's entry
 * bytes are its `events.body`, stored once), rebuilds the RFC 9162 tree in O(log n) memory with
 * the root builder, compares every stored subtree hash with the recomputed one, checks the
 * sequencer's size and the checkpoints' signatures and roots. The checks themselves are pure
 * (src/ledger/audit-checks.ts); this module reads and feeds them. The first failure is reported
 * with the index it concerns; reading stops there.
 */
import {
  checkCheckpoint,
  checkEntry,
  checkNode,
  checkSize,
  type CheckpointTarget,
  type LedgerProblem,
} from '../ledger/audit-checks.js';
import { verifyCheckpoint } from '../ledger/checkpoint.js';
import { emptyRootHash } from '../ledger/merkle.js';
import type { NoteVerifier } from '../ledger/note.js';
import { createRootBuilder, type RootBuilder } from '../ledger/root-builder.js';
import type { Store } from './database.js';
import { checkPage, completedRanges, type CheckedPage } from './ledger-pages.js';
import { builtWorker, workerPages } from './worker-pages.js';

export type { LedgerProblem };

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
  /** Entries whose payload retention retired (only their leaf hash was checked). */
  readonly retired: number;
  /** Failures, the first being the earliest in the log; empty when `ok`. */
  readonly problems: readonly LedgerProblem[];
  /** Things worth saying that do not fail the check (no checkpoint yet, retired payloads). */
  readonly notes: readonly string[];
}

/** Verifies the whole stored ledger of `store`; never writes. */
export async function auditLedger(store: Store, options: AuditOptions): Promise<AuditReport> {
  const db = store.db;
  const problems: LedgerProblem[] = [];
  const notes: string[] = [];
  const head = await db.selectFrom('ledger_head').select('size').where('id', '=', 1).executeTakeFirst();
  const headSize = head ? Number(head.size) : 0;
  if (!head) problems.push({ index: null, message: 'the ledger head row (the sequencer) is missing' });

  const { targets, latestRoot } = await checkpointTargets(store, options, problems, notes);
  if (
    latestRoot &&
    targets[0]?.label.startsWith('the latest') &&
    !sameRoot(targets[0].rootHash, latestRoot)
  ) {
    problems.push({
      index: null,
      message: 'the latest checkpoint row holds a root hash other than its signed note',
    });
  }

  const builder = createRootBuilder();
  const roots = new Map<number, Uint8Array>();
  for (const target of targets) if (target.size === 0) roots.set(0, emptyRootHash());
  const walk = await walkEntries(store, builder, options, headSize, (size) => {
    if (targets.some((t) => t.size === size)) roots.set(size, builder.root());
  });
  if (walk.problem) {
    problems.push(walk.problem);
  } else {
    const end =
      checkSize(builder.size, headSize) ??
      (await strayRows(store, builder.size)) ??
      targets.map((t) => checkCheckpoint(t, builder.size, roots.get(t.size))).find((p) => p !== undefined);
    if (end) problems.push(end);
  }
  if (walk.retired > 0) {
    notes.push(
      `${walk.retired} entries had their payload retired by retention: only their leaf hash was checked`,
    );
  }
  // The earliest index first; problems without an index (signatures, roots) after them.
  problems.sort((a, b) => (a.index ?? Infinity) - (b.index ?? Infinity));
  return {
    ok: problems.length === 0,
    entries: builder.size,
    headSize,
    rootHash: builder.root(),
    checkpointSizes: targets.filter((t) => t.size <= builder.size).map((t) => t.size),
    retired: walk.retired,
    problems,
    notes,
  };
}

function sameRoot(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(b);
}

/** The latest stored checkpoint and any given ones, with their signatures checked. */
async function checkpointTargets(
  store: Store,
  options: AuditOptions,
  problems: LedgerProblem[],
  notes: string[],
): Promise<{ targets: CheckpointTarget[]; latestRoot: Uint8Array | undefined }> {
  const latest = await store.db
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
  const targets: CheckpointTarget[] = [];
  if (signed.length > 0 && options.verifiers.length === 0) {
    problems.push({
      index: null,
      message: 'no verifier key to check checkpoint signatures with (pass --key)',
    });
    return { targets, latestRoot: latest?.root_hash };
  }
  for (const { label, note } of signed) {
    try {
      const checkpoint = verifyCheckpoint(note, options.verifiers);
      targets.push({ label, size: checkpoint.size, rootHash: checkpoint.rootHash });
    } catch (error) {
      problems.push({ index: null, message: `${label} is forged or damaged: ${(error as Error).message}` });
    }
  }
  return { targets, latestRoot: latest?.root_hash };
}

/**
 * Streams the entries page by page (each page an index range, read with the events claiming
 * its entries and the subtree nodes it completes), checks each and appends it to the rebuilt
 * tree. Returns at the first problem.
 */
async function walkEntries(
  store: Store,
  builder: RootBuilder,
  options: AuditOptions,
  headSize: number,
  onSize: (size: number) => void,
): Promise<{ problem?: LedgerProblem; retired: number }> {
  const pageSize = options.pageSize ?? 10_000;
  const last = await store.db
    .selectFrom('ledger_entries')
    .select((eb) => eb.fn.max('idx').as('idx'))
    .executeTakeFirst();
  const end = last?.idx === null || last?.idx === undefined ? 0 : Number(last.idx) + 1;
  let retired = 0;
  // Leaving the loop early ends the generator, which stops its worker.
  for await (const page of checkedPages(store, pageSize, end)) {
    retired += page.retired;
    for (let i = 0; i < page.count; i += 1) {
      for (const node of builder.append(page.leaves.subarray(32 * i, 32 * i + 32))) {
        if (node.key.level === 0) continue;
        const problem = checkNode(node, page.nodes.get(`${node.key.level}/${node.key.index}`));
        if (problem) return { problem, retired };
      }
      onSize(builder.size);
    }
    if (page.problem) return { problem: page.problem, retired };
    if (page.missing !== undefined) {
      const verdict = checkEntry(undefined, page.missing, await nextIndex(store, page.missing));
      if ('problem' in verdict) return { problem: verdict.problem, retired };
    }
    options.onProgress?.(builder.size, Math.max(headSize, end));
  }
  return { retired };
}

/**
 * The pages [0, end) in order, their leaves checked. On SQLite, from the built code, a worker
 * thread reads and checks them while this thread rebuilds the tree (two cores); elsewhere
 * (PostgreSQL, or the TypeScript sources under test) this thread reads each page through
 * Kysely, the next one requested before this one is used.
 */
async function* checkedPages(store: Store, pageSize: number, end: number): AsyncGenerator<CheckedPage> {
  const worker = builtWorker('ledger-page-worker');
  if (store.dialect === 'sqlite' && worker) {
    yield* workerPages<CheckedPage>(worker, { file: store.location, pageSize, end });
    return;
  }
  let next = end > 0 ? pageAt(store, 0, pageSize, end) : undefined;
  try {
    for (let start = 0; next !== undefined; start += pageSize) {
      const page = await next;
      next = start + pageSize < end ? pageAt(store, start + pageSize, pageSize, end) : undefined;
      yield page;
    }
  } finally {
    // Stopped early (a problem found): settle the page read ahead before the caller closes the store.
    await next?.catch(() => undefined);
  }
}

/** Entries [start, start + pageSize) checked, with the stored nodes they complete. */
async function pageAt(store: Store, start: number, pageSize: number, end: number): Promise<CheckedPage> {
  const stop = Math.min(start + pageSize, end);
  const rows = await store.db
    .selectFrom('ledger_entries as l')
    .leftJoin('events as e', 'e.ledger_index', 'l.idx')
    .select(['l.idx', 'l.leaf_hash', 'l.data', 'l.record_type', 'l.retired_ms', 'e.id', 'e.body'])
    .where('l.idx', '>=', start)
    .where('l.idx', '<', start + pageSize)
    .orderBy('l.idx')
    .execute();
  const ranges = completedRanges(start, stop);
  const nodes = new Map<string, Uint8Array>();
  if (ranges.length > 0) {
    const found = await store.db
      .selectFrom('ledger_nodes')
      .select(['level', 'idx', 'hash'])
      .where((eb) =>
        eb.or(
          ranges.map((r) =>
            eb.and([eb('level', '=', r.level), eb('idx', '>=', r.lo), eb('idx', '<=', r.hi)]),
          ),
        ),
      )
      .execute();
    for (const n of found) nodes.set(`${Number(n.level)}/${Number(n.idx)}`, n.hash);
  }
  const entries = rows.map(
    (r) => [r.idx, r.leaf_hash, r.data, r.record_type, r.retired_ms, r.id, r.body] as const,
  );
  return checkPage(entries, start, stop, nodes);
}

async function nextIndex(store: Store, from: number): Promise<number | undefined> {
  const row = await store.db
    .selectFrom('ledger_entries')
    .select((eb) => eb.fn.min('idx').as('idx'))
    .where('idx', '>', from)
    .executeTakeFirst();
  return row?.idx === null || row?.idx === undefined ? undefined : Number(row.idx);
}

/** Rows that point past the end of the log: nodes over missing leaves, events claiming missing entries. */
async function strayRows(store: Store, size: number): Promise<LedgerProblem | undefined> {
  const db = store.db;
  const counts = await db
    .selectFrom('ledger_nodes')
    .select(['level', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('level')
    .execute();
  for (const { level, n } of counts) {
    const expected = Math.floor(size / 2 ** Number(level));
    if (Number(n) > expected) {
      return {
        index: size,
        message: `${Number(n) - expected} stored nodes at level ${Number(level)} lie beyond the ${size} entries: the log was truncated`,
      };
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
    return {
      index: size,
      message: `event ${beyond.id} claims entry ${Number(beyond.ledger_index)}, beyond the ${size} stored entries: the log was truncated`,
    };
  }
  return undefined;
}
