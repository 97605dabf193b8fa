/**
 * A proof that a contiguous run of leaves [from, to) is part of the tree of `size` leaves
 * (RFC 9162 §2.1.1): the hashes of the complete subtrees that lie wholly outside the run, in the
 * order the recursive MTH definition meets them. With the run's own leaves they give the root,
 * so an archive segment (src/retention) proves all its entries at once against one signed
 * checkpoint with O(log size) hashes, where one inclusion proof per entry would take
 * O(n log size).
 */
import { hashRange, nodeHash, rangeNodeKeys, type NodeKey, type NodeLookup } from './merkle.js';

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkRange(from: number, to: number, size: number): void {
  if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && Number.isSafeInteger(size))) {
    throw new RangeError('range bounds must be integers');
  }
  if (from < 0 || from > to || to > size) {
    throw new RangeError(`range [${from}, ${to}) does not lie in a tree of ${size} leaves`);
  }
}

/** The stored complete subtrees outside [from, to) that {@link rootFromRange} needs. */
export function rangeProofKeys(from: number, to: number, size: number): NodeKey[] {
  checkRange(from, to, size);
  const keys: NodeKey[] = [];
  const visit = (lo: number, hi: number): void => {
    if (hi <= from || lo >= to) {
      keys.push(...rangeNodeKeys(lo, hi));
      return;
    }
    if (lo >= from && hi <= to) return;
    const k = largestPowerOfTwoBelow(hi - lo);
    visit(lo, lo + k);
    visit(lo + k, hi);
  };
  if (size > 0) visit(0, size);
  return keys;
}

/**
 * MTH(D[0:size]) from the leaf hashes of [from, to) (`leaves`: 32 bytes each, concatenated in
 * index order, so a month of a million entries is one 32 MB buffer, not a million objects) and
 * the subtrees named by {@link rangeProofKeys} (`proof`). Throws when a proof node is missing.
 * `known` may give the hashes of complete subtrees inside the range that the caller has already
 * computed from these same leaves (keyed `level/index`); they are not hashed again.
 */
export function rootFromRange(
  from: number,
  to: number,
  size: number,
  leaves: Uint8Array,
  proof: NodeLookup,
  known?: ReadonlyMap<string, Uint8Array>,
): Uint8Array {
  checkRange(from, to, size);
  if (leaves.length !== 32 * (to - from)) {
    throw new RangeError(`expected ${to - from} leaf hashes, got ${leaves.length / 32}`);
  }
  const inside = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return leaves.subarray(32 * (lo - from), 32 * (lo - from) + 32);
    const level = Math.log2(hi - lo);
    const computed = Number.isInteger(level) ? known?.get(`${level}/${lo / (hi - lo)}`) : undefined;
    if (computed !== undefined) return computed;
    const k = largestPowerOfTwoBelow(hi - lo);
    return nodeHash(inside(lo, lo + k), inside(lo + k, hi));
  };
  const visit = (lo: number, hi: number): Uint8Array => {
    if (hi <= from || lo >= to) return hashRange(lo, hi, proof);
    if (lo >= from && hi <= to) return inside(lo, hi);
    const k = largestPowerOfTwoBelow(hi - lo);
    return nodeHash(visit(lo, lo + k), visit(lo + k, hi));
  };
  return visit(0, size);
}
