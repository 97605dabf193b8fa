/**
 * The Merkle tree of the ledger, exactly as RFC 9162 section 2.1 defines it.
 *
 * The database keeps the hash of every complete subtree: the node key (level, index) covers the
 * leaves [index * 2^level, (index + 1) * 2^level), level 0 being the leaf hashes. Every hash the
 * RFC needs (a root, a proof element) is the Merkle Tree Hash of a range that splits into
 * O(log n) such aligned complete subtrees, so every operation here comes in two halves: a
 * `...Keys` function that names the nodes it needs, which the store fetches in one batched
 * read, and a pure function that combines them through a `lookup`. Nothing here ever rehashes
 * all the leaves.
 *
 * Indexes are plain numbers up to 2^53 - 1; JavaScript bitwise operators truncate to 32 bits,
 * so shifts and masks are written as arithmetic (`Math.floor(x / 2)`, `x % 2`, `2 ** level`).
 */
import { hash } from 'node:crypto';
import { ShiplogError } from '../errors.js';

/** A complete subtree: it covers leaves [index * 2^level, (index + 1) * 2^level). */
export interface NodeKey {
  readonly level: number;
  readonly index: number;
}

/** A node key with its hash, as the store persists it. */
export interface NodeHash {
  readonly key: NodeKey;
  readonly hash: Uint8Array;
}

/** Returns the stored hash of a complete subtree; throws when the caller did not fetch it. */
export type NodeLookup = (key: NodeKey) => Uint8Array;

/** Size in bytes of every hash in the tree (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

// One-shot `crypto.hash` is about twice as fast as a `createHash` object per node, and its
// digest as hex, decoded, a third of the cost of the same digest as a Buffer (Node 20 allocates
// that one outside the pool: 1.5 µs against 0.5 µs a node). Both matter when `shiplog verify`
// hashes millions of nodes and the archiver a million leaves a month. The result is a view of
// Buffer's shared pool: never transfer its `buffer` to a worker.
function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const input = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
  const digest = Buffer.from(hash('sha256', input, 'hex'), 'hex');
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** RFC 9162 §2.1.1: the hash of a leaf, `SHA-256(0x00 || entry)`. */
export function leafHash(entry: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, entry);
}

/** The input of {@link nodeHash}, reused: `hash` reads it synchronously, so no call sees another's. */
const NODE_INPUT = Buffer.alloc(1 + 2 * 32, NODE_PREFIX);

/** RFC 9162 §2.1.1: the hash of an interior node, `SHA-256(0x01 || left || right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== 32 || right.length !== 32) return sha256(NODE_PREFIX, left, right);
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 33);
  return sha256(NODE_INPUT);
}

/** RFC 9162 §2.1.1: the hash of the empty tree, `SHA-256()` of no bytes. */
export function emptyRootHash(): Uint8Array {
  return sha256();
}

/** A string naming a node key, for maps keyed by node (`"level/index"`). */
export function nodeKeyId(key: NodeKey): string {
  return `${key.level}/${key.index}`;
}

/**
 * A lookup over hashes fetched into a map keyed by {@link nodeKeyId}; it throws on a node the
 * caller did not fetch, which is always a bug in the caller.
 */
export function mapLookup(nodes: ReadonlyMap<string, Uint8Array>): NodeLookup {
  return function lookupFetchedNode(key) {
    const hash = nodes.get(nodeKeyId(key));
    if (hash === undefined) throw new RangeError(`Merkle node ${nodeKeyId(key)} was not fetched`);
    return hash;
  };
}

function checkedLookup(lookup: NodeLookup, key: NodeKey): Uint8Array {
  const hash = lookup(key);
  if (hash.length !== HASH_SIZE) {
    throw new RangeError(`Merkle node ${nodeKeyId(key)} has ${hash.length} bytes, not ${HASH_SIZE}`);
  }
  return hash;
}

function isIndex(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function requireIndex(name: string, value: number): void {
  if (!isIndex(value)) {
    throw new ShiplogError('SHIPLOG_INVALID_REQUEST', `${name} must be a non-negative integer below 2^53`, [
      { path: name, message: 'not a non-negative safe integer' },
    ]);
  }
}

/** The largest power of two strictly below n (n >= 2): the split point k of RFC 9162 §2.1.1. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The largest power of two not above n (n >= 1). */
function largestPowerOfTwoAtMost(n: number): number {
  let k = 1;
  while (k * 2 <= n) k *= 2;
  return k;
}

// ---------------------------------------------------------------------------------------------
// Appending

/**
 * The complete-subtree nodes (level >= 1) that become computable when leaf `leafIndex` is
 * appended, lowest level first: one per trailing 1 bit of `leafIndex`.
 */
export function nodesCompletedByAppend(leafIndex: number): NodeKey[] {
  requireIndex('leafIndex', leafIndex);
  const keys: NodeKey[] = [];
  let index = leafIndex;
  let level = 0;
  while (index % 2 === 1) {
    index = (index - 1) / 2;
    level += 1;
    keys.push({ level, index });
  }
  return keys;
}

/**
 * The stored nodes that {@link appendNodes} needs to append leaf `leafIndex`: the left child of
 * every node the append completes (all of them already in the tree).
 */
export function appendLookupKeys(leafIndex: number): NodeKey[] {
  return nodesCompletedByAppend(leafIndex).map((key) => ({ level: key.level - 1, index: key.index * 2 }));
}

/**
 * The node rows to store when appending leaf `leafIndex` with hash `leaf`: the leaf itself
 * (level 0) followed by every complete subtree it completes, each computed from its stored
 * left child (see {@link appendLookupKeys}) and the node just below it. O(log n) hashes.
 *
 * When appending several leaves in one transaction, let `lookup` also see the rows returned
 * for the earlier leaves of the batch.
 */
export function appendNodes(leafIndex: number, leaf: Uint8Array, lookup: NodeLookup): NodeHash[] {
  if (leaf.length !== HASH_SIZE) throw new RangeError(`a leaf hash has ${HASH_SIZE} bytes`);
  const rows: NodeHash[] = [{ key: { level: 0, index: leafIndex }, hash: leaf }];
  let hash = leaf;
  for (const key of nodesCompletedByAppend(leafIndex)) {
    const left = checkedLookup(lookup, { level: key.level - 1, index: key.index * 2 });
    hash = nodeHash(left, hash);
    rows.push({ key, hash });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Ranges and roots

/**
 * Splits the leaf range [start, end) into aligned complete subtrees, largest first, the way
 * RFC 9162 §2.1.1 splits MTH(D[start:end]) at the largest power of two below its size. The
 * range must start at a multiple of the largest power of two not above its size, which every
 * range that appears in a root or a proof does.
 */
export function rangeNodeKeys(start: number, end: number): NodeKey[] {
  requireIndex('start', start);
  requireIndex('end', end);
  if (start > end) throw new RangeError(`range [${start}, ${end}) is reversed`);
  const keys: NodeKey[] = [];
  let remaining = end - start;
  if (remaining === 0) return keys;
  let size = largestPowerOfTwoAtMost(remaining);
  let level = Math.round(Math.log2(size));
  if (start % size !== 0) {
    throw new RangeError(`range [${start}, ${end}) is not aligned to complete subtrees`);
  }
  let position = start;
  for (; level >= 0; level -= 1, size /= 2) {
    if (remaining >= size) {
      keys.push({ level, index: position / size });
      position += size;
      remaining -= size;
    }
  }
  return keys;
}

/**
 * MTH(D[start:end]) per RFC 9162 §2.1.1, combined from the stored complete subtrees named by
 * {@link rangeNodeKeys}: right to left, each larger left subtree hashed with the rest.
 */
export function hashRange(start: number, end: number, lookup: NodeLookup): Uint8Array {
  const keys = rangeNodeKeys(start, end);
  const last = keys.at(-1);
  if (last === undefined) return emptyRootHash();
  let hash = checkedLookup(lookup, last);
  for (let i = keys.length - 2; i >= 0; i -= 1) {
    hash = nodeHash(checkedLookup(lookup, keys[i] as NodeKey), hash);
  }
  return hash;
}

/** The stored nodes {@link rootHash} needs for a tree of `size` leaves. */
export function rootKeys(size: number): NodeKey[] {
  requireIndex('size', size);
  return rangeNodeKeys(0, size);
}

/** The root hash MTH(D[0:size]) of the tree of the first `size` leaves (RFC 9162 §2.1.1). */
export function rootHash(size: number, lookup: NodeLookup): Uint8Array {
  requireIndex('size', size);
  return hashRange(0, size, lookup);
}

// ---------------------------------------------------------------------------------------------
// Proofs

type Range = readonly [start: number, end: number];

/** PATH(index, D[0:size]) of RFC 9162 §2.1.3.1 as the ranges whose MTH it lists, in order. */
function inclusionRanges(index: number, size: number): Range[] {
  requireIndex('index', index);
  requireIndex('size', size);
  if (index >= size) {
    throw new ShiplogError('SHIPLOG_INVALID_REQUEST', `index ${index} is not below tree size ${size}`, [
      { path: 'index', message: 'must be below size' },
    ]);
  }
  // Walks from the root down; PATH lists the deepest sibling first.
  const ranges: Range[] = [];
  let start = 0;
  let end = size;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
      m -= k;
    }
  }
  return ranges.reverse();
}

/** PROOF(from, D[0:to]) = SUBPROOF(from, D[0:to], true) of RFC 9162 §2.1.4.1 as ranges, in order. */
function consistencyRanges(from: number, to: number): Range[] {
  requireIndex('from', from);
  requireIndex('to', to);
  if (from > to) {
    throw new ShiplogError('SHIPLOG_INVALID_REQUEST', `from ${from} is above to ${to}`, [
      { path: 'from', message: 'must not be above to' },
    ]);
  }
  // Nothing to prove between equal trees, or from the empty tree.
  if (from === 0 || from === to) return [];
  const ranges: Range[] = [];
  let start = 0;
  let end = to;
  let m = from;
  let complete = true; // the flag b: the subtree [start, start + m) is a node of the old tree
  for (;;) {
    const n = end - start;
    if (m === n) {
      if (!complete) ranges.push([start, start + m]);
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
      m -= k;
      complete = false;
    }
  }
  return ranges.reverse();
}

function rangesKeys(ranges: readonly Range[]): NodeKey[] {
  return ranges.flatMap(([start, end]) => rangeNodeKeys(start, end));
}

function rangesHashes(ranges: readonly Range[], lookup: NodeLookup): Uint8Array[] {
  return ranges.map(([start, end]) => hashRange(start, end, lookup));
}

/** The stored nodes {@link inclusionProof} needs: O(log size) of them. */
export function inclusionProofKeys(index: number, size: number): NodeKey[] {
  return rangesKeys(inclusionRanges(index, size));
}

/** The inclusion proof PATH(index, D[0:size]) of RFC 9162 §2.1.3.1; needs `0 <= index < size`. */
export function inclusionProof(index: number, size: number, lookup: NodeLookup): Uint8Array[] {
  return rangesHashes(inclusionRanges(index, size), lookup);
}

/** The stored nodes {@link consistencyProof} needs: O(log to) of them. */
export function consistencyProofKeys(from: number, to: number): NodeKey[] {
  return rangesKeys(consistencyRanges(from, to));
}

/**
 * The consistency proof PROOF(from, D[0:to]) of RFC 9162 §2.1.4.1; needs `0 <= from <= to`.
 * It is empty when `from` is 0 or equals `to`.
 */
export function consistencyProof(from: number, to: number, lookup: NodeLookup): Uint8Array[] {
  return rangesHashes(consistencyRanges(from, to), lookup);
}

// ---------------------------------------------------------------------------------------------
// Verification

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

function allHashes(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((hash) => hash.length === HASH_SIZE);
}

/**
 * RFC 9162 §2.1.3.2: does `proof` show that the leaf with hash `leaf` is at `index` in the tree
 * of `size` leaves whose root is `root`? False on any malformed input, never a throw.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isIndex(index) || !isIndex(size) || index >= size) return false;
  if (leaf.length !== HASH_SIZE || root.length !== HASH_SIZE || !allHashes(proof)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of `from` leaves with root `oldRoot` is a
 * prefix of the tree of `to` leaves with root `newRoot`? Equal sizes need an empty proof and
 * equal roots; size 0 needs an empty proof and the empty-tree root. False on malformed input.
 */
export function verifyConsistency(
  from: number,
  to: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  if (!isIndex(from) || !isIndex(to) || from > to) return false;
  if (oldRoot.length !== HASH_SIZE || newRoot.length !== HASH_SIZE || !allHashes(proof)) return false;
  if (from === to) return proof.length === 0 && equalBytes(oldRoot, newRoot);
  if (from === 0) return proof.length === 0 && equalBytes(oldRoot, emptyRootHash());
  if (proof.length === 0) return false;

  // Step 1: when `from` is a power of two the old root is itself a node of the new tree.
  const path = from === largestPowerOfTwoAtMost(from) ? [oldRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const [first, ...rest] = path as [Uint8Array, ...Uint8Array[]];
  let fr = first;
  let sr = first;
  for (const c of rest) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
}
