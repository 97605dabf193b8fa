/**
 * The ledger in the database: appends inside the caller's write transaction, reads of entries,
 * proofs and roots, and signed checkpoints (DESIGN.md §4, docs/ledger.md).
 *
 * The tree is RFC 9162 §2.1 over stored complete subtrees (src/ledger/merkle.ts): leaves live in
 * `ledger_entries.leaf_hash`, every complete subtree above them in `ledger_nodes`, and the tree
 * size in the single `ledger_head` row, the sequencer. An append of a batch reads the head (row
 * locked on PostgreSQL, besides the writer advisory lock), fetches the O(log n) stored nodes the
 * batch needs in one query, hashes everything in memory and writes multi-row inserts. Roots and
 * proofs fetch their O(log n) nodes in one query each.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { signCheckpoint } from '../ledger/checkpoint.js';
import {
  appendLookupKeys,
  appendNodes,
  consistencyProof,
  consistencyProofKeys,
  inclusionProof,
  inclusionProofKeys,
  leafHash,
  mapLookup,
  nodeKeyId,
  rootHash,
  rootKeys,
  type NodeKey,
} from '../ledger/merkle.js';
import { signatureOf, type NoteSigner } from '../ledger/note.js';
import { ShiplogError } from '../errors.js';
import { bulkWrite } from './bulk-write.js';
import { LEDGER_CHANNEL } from './ledger-feed.js';
import type { Store } from './database.js';
import type { LedgerAppender } from './event-writer.js';
import type { Database, LedgerEntriesTable, LedgerNodesTable } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The most entries one read of entries returns (DESIGN.md §4). */
export const MAX_ENTRIES_PER_READ = 1000;
const ENTRY_COLUMNS = ['idx', 'leaf_hash', 'data', 'record_type', 'retired_ms'] as const;
const NODE_COLUMNS = ['level', 'idx', 'hash'] as const;
/** Terms of one OR: SQLite parses an OR chain as deep as it is long (limit 1000). */
const OR_CHUNK = 100;
const utf8 = new TextEncoder();

export interface LedgerEntry {
  readonly index: number;
  readonly leafHash: Uint8Array;
  /** The entry bytes as a string; null when retention dropped the payload. */
  readonly data: string | null;
}

export interface StoredCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** The signed note, as served by GET /v1/ledger/checkpoint. */
  readonly note: string;
  readonly createdMs: number;
}

export interface LedgerOptions {
  readonly signer: NoteSigner;
  /** The checkpoint origin line, e.g. `shiplog.example.com/ledger`. */
  readonly origin: string;
  /** Least time between two checkpoints cut on demand (default 1000 ms). */
  readonly checkpointIntervalMs?: number;
  readonly now?: () => number;
}

export interface Ledger extends LedgerAppender {
  readonly origin: string;
  readonly signer: NoteSigner;
  /** The note verifier key of the signer (GET /v1/ledger/key). */
  readonly verifierKey: string;
  /** The committed tree size. */
  size(db?: Db): Promise<number>;
  /** Entries [start, min(end, size)); at most {@link MAX_ENTRIES_PER_READ}. */
  entries(start: number, end: number): Promise<LedgerEntry[]>;
  /** RFC 9162 §2.1.3 PATH(index, D[0:size]); size must not exceed the tree size. */
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  /** Several inclusion proofs against one size, from one node query. */
  inclusionProofs(indexes: readonly number[], size: number): Promise<Uint8Array[][]>;
  /** RFC 9162 §2.1.4 PROOF(from, D[0:to]); `to` must not exceed the tree size. */
  consistencyProof(from: number, to: number): Promise<Uint8Array[]>;
  /** MTH(D[0:size]). */
  rootHash(size: number): Promise<Uint8Array>;
  /** The checkpoint with the largest size, if any was cut. */
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  /**
   * A checkpoint covering every entry committed before the call: the latest one when the tree
   * has not grown (and it is signed by the current key), else a new one, cut at most once per
   * `checkpointIntervalMs` (callers in between wait for the next cut and share it).
   */
  checkpoint(): Promise<StoredCheckpoint>;
  /** Cuts a checkpoint of the current tree now when it grew since the latest; else the latest. */
  cutCheckpoint(): Promise<StoredCheckpoint>;
}

/** Creates the ledger over `store`; its `append` runs in the caller's write transaction. */
export function createLedger(store: Store, options: LedgerOptions): Ledger {
  const { signer, origin } = options;
  const interval = options.checkpointIntervalMs ?? 1000;
  const now = options.now ?? Date.now;
  const db = store.db;
  let cutting: Promise<StoredCheckpoint> | null = null;

  async function append(
    trx: Transaction<Database>,
    entries: readonly string[],
    recordType?: string,
    external = false,
  ): Promise<number> {
    if (entries.length === 0) return readSize(trx, true);
    const first = await readSize(trx, true);
    const end = first + entries.length;

    // Left siblings that lie wholly before the batch are stored; the others the batch makes.
    const needed = new Map<string, NodeKey>();
    for (let i = first; i < end; i += 1) {
      for (const key of appendLookupKeys(i)) {
        if ((key.index + 1) * 2 ** key.level <= first) needed.set(nodeKeyId(key), key);
      }
    }
    const nodes = await fetchNodes(trx, [...needed.values()]);
    const lookup = mapLookup(nodes);

    const entryRows: LedgerEntriesTable[] = [];
    const nodeRows: LedgerNodesTable[] = [];
    entries.forEach((data, offset) => {
      const index = first + offset;
      const leaf = leafHash(utf8.encode(data));
      entryRows.push({
        idx: index,
        leaf_hash: toBuffer(leaf),
        data: external ? null : data,
        record_type: recordType ?? recordTypeOf(data),
        retired_ms: null,
      });
      for (const row of appendNodes(index, leaf, lookup)) {
        nodes.set(nodeKeyId(row.key), row.hash);
        if (row.key.level > 0) {
          nodeRows.push({ level: row.key.level, idx: row.key.index, hash: toBuffer(row.hash) });
        }
      }
    });
    await bulkWrite(trx, store.dialect, 'ledger_entries', ENTRY_COLUMNS, entryRows);
    await bulkWrite(trx, store.dialect, 'ledger_nodes', NODE_COLUMNS, nodeRows);
    await trx.updateTable('ledger_head').set({ size: end }).where('id', '=', 1).execute();
    // Delivered at commit to every replica's live stream (src/store/ledger-feed.ts).
    if (store.dialect === 'postgres') await sql`select pg_notify(${LEDGER_CHANNEL}, '')`.execute(trx);
    return first;
  }

  async function readSize(from: Db, lock = false): Promise<number> {
    let query = from.selectFrom('ledger_head').select('size').where('id', '=', 1);
    if (lock && store.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) throw new ShiplogError('SHIPLOG_INTERNAL', 'the ledger head row is missing');
    return Number(row.size);
  }

  async function requireWithinSize(name: string, value: number): Promise<number> {
    const size = await readSize(db);
    if (value > size) {
      throw new ShiplogError('SHIPLOG_INVALID_REQUEST', `${name} ${value} is above the tree size ${size}`, [
        { path: name, message: `must not be above the tree size ${size}` },
      ]);
    }
    return size;
  }

  async function inclusionProofs(indexes: readonly number[], size: number): Promise<Uint8Array[][]> {
    await requireWithinSize('size', size);
    const keys = indexes.flatMap((index) => inclusionProofKeys(index, size));
    const lookup = mapLookup(await fetchNodes(db, keys));
    return indexes.map((index) => inclusionProof(index, size, lookup));
  }

  async function latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const row = await db
      .selectFrom('checkpoints')
      .selectAll()
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      origin,
      size: Number(row.size),
      rootHash: Uint8Array.from(row.root_hash),
      note: row.note,
      createdMs: Number(row.created_ms),
    };
  }

  /** Whether `checkpoint` can be served as it is: same size as the tree, same origin and key. */
  function isCurrent(checkpoint: StoredCheckpoint | undefined, size: number): boolean {
    return (
      checkpoint !== undefined &&
      checkpoint.size === size &&
      checkpoint.note.startsWith(`${origin}\n`) &&
      signatureOf(checkpoint.note, signer.name, signer.keyId) !== undefined
    );
  }

  async function cutCheckpoint(): Promise<StoredCheckpoint> {
    const size = await readSize(db);
    const latest = await latestCheckpoint();
    if (latest && isCurrent(latest, size)) return latest;
    const root = await rootHashAt(db, size);
    const checkpoint: StoredCheckpoint = {
      origin,
      size,
      rootHash: root,
      note: signCheckpoint({ origin, size, rootHash: root }, signer),
      createdMs: now(),
    };
    await db
      .insertInto('checkpoints')
      .values({
        size,
        root_hash: toBuffer(checkpoint.rootHash),
        note: checkpoint.note,
        created_ms: checkpoint.createdMs,
      })
      .onConflict((oc) =>
        oc.column('size').doUpdateSet({ note: checkpoint.note, created_ms: checkpoint.createdMs }),
      )
      .execute();
    return checkpoint;
  }

  async function checkpoint(): Promise<StoredCheckpoint> {
    // `size` covers every entry committed before this call; a cut that read an older size does
    // not serve this caller, which then cuts (or joins) the next one.
    const size = await readSize(db);
    const latest = await latestCheckpoint();
    if (latest && isCurrent(latest, size)) return latest;
    if (latest && latest.size > size) return latest;
    const wait = latest ? latest.createdMs + interval - now() : 0;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, interval)));
    while (cutting) {
      const shared = await cutting.catch(() => undefined);
      if (shared && shared.size >= size) return shared;
    }
    cutting = cutCheckpoint().finally(() => {
      cutting = null;
    });
    return cutting;
  }

  return Object.freeze({
    origin,
    signer,
    verifierKey: signer.verifier.verifierKey,
    append,
    size: (from: Db = db) => readSize(from),
    async entries(start: number, end: number): Promise<LedgerEntry[]> {
      const size = await readSize(db);
      const stop = Math.min(end, size);
      if (stop <= start) return [];
      // An event's entry bytes live in events.body (stored once).
      const rows = await db
        .selectFrom('ledger_entries as l')
        .leftJoin('events as e', (join) =>
          join.onRef('e.ledger_index', '=', 'l.idx').on('l.data', 'is', null).on('l.retired_ms', 'is', null),
        )
        .select(['l.idx', 'l.leaf_hash', (eb) => eb.fn.coalesce('l.data', 'e.body').as('data')])
        .where('l.idx', '>=', start)
        .where('l.idx', '<', stop)
        .orderBy('l.idx')
        .execute();
      return rows.map((row) => ({
        index: Number(row.idx),
        leafHash: Uint8Array.from(row.leaf_hash),
        data: row.data,
      }));
    },
    inclusionProof: async (index: number, size: number) => (await inclusionProofs([index], size))[0] ?? [],
    inclusionProofs,
    async consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
      await requireWithinSize('to', to);
      const keys = consistencyProofKeys(from, to);
      return consistencyProof(from, to, mapLookup(await fetchNodes(db, keys)));
    },
    async rootHash(size: number): Promise<Uint8Array> {
      await requireWithinSize('size', size);
      return rootHashAt(db, size);
    },
    latestCheckpoint,
    checkpoint,
    cutCheckpoint,
  });
}

async function rootHashAt(db: Db, size: number): Promise<Uint8Array> {
  return rootHash(size, mapLookup(await fetchNodes(db, rootKeys(size))));
}

/** A Buffer view of the bytes: both database drivers bind only Buffers as blobs. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The record type of an entry (its top-level `recordType`), for filtering and retention. */
function recordTypeOf(data: string): string {
  try {
    const value: unknown = JSON.parse(data);
    if (value && typeof value === 'object' && 'recordType' in value) {
      const type = (value as { recordType: unknown }).recordType;
      if (typeof type === 'string') return type;
    }
  } catch {
    // Entries are JSON by construction; anything else is recorded as unknown.
  }
  return 'unknown';
}

/**
 * Fetches the hashes of the given complete subtrees in one query: level 0 from the leaves,
 * higher levels from `ledger_nodes`. Keys that are not stored are simply absent from the map.
 */
export async function fetchNodes(db: Db, keys: readonly NodeKey[]): Promise<Map<string, Uint8Array>> {
  const nodes = new Map<string, Uint8Array>();
  if (keys.length === 0) return nodes;
  const unique = [...new Map(keys.map((k) => [nodeKeyId(k), k])).values()];
  const rows: { level: number; idx: number; hash: Uint8Array }[] = [];
  // In chunks, one query each (usually one in all): a proof for many entries needs thousands
  // of keys, and one giant OR list overflows the SQL parser's stack.
  for (let i = 0; i < unique.length; i += OR_CHUNK) {
    const chunk = unique.slice(i, i + OR_CHUNK);
    const leaves = chunk.filter((k) => k.level === 0).map((k) => k.index);
    const inner = chunk.filter((k) => k.level > 0);
    const leafQuery = db
      .selectFrom('ledger_entries')
      .select([sql<number>`0`.as('level'), 'idx', 'leaf_hash as hash'])
      .where('idx', 'in', leaves.length > 0 ? leaves : [-1]);
    const innerQuery = db
      .selectFrom('ledger_nodes')
      .select(['level', 'idx', 'hash'])
      .where((eb) => eb.or(inner.map((k) => eb.and([eb('level', '=', k.level), eb('idx', '=', k.index)]))));
    const query =
      inner.length === 0 ? leafQuery : leaves.length === 0 ? innerQuery : leafQuery.unionAll(innerQuery);
    rows.push(...(await query.execute()));
  }
  for (const row of rows) {
    nodes.set(nodeKeyId({ level: Number(row.level), index: Number(row.idx) }), row.hash);
  }
  return nodes;
}
