import { describe, expect, it } from 'vitest';
import { leafHash, mapLookup, nodeHash, nodeKeyId, rootHash } from './merkle.js';
import { rangeProofKeys, rootFromRange } from './range-proof.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const concat = (hashes: readonly Uint8Array[]) => Buffer.concat(hashes.map((h) => Buffer.from(h)));

/** Every complete subtree of a tree of `size` leaves, keyed `level/index`. */
function allNodes(size: number): { leaves: Uint8Array[]; nodes: Map<string, Uint8Array> } {
  const leaves = Array.from({ length: size }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
  const nodes = new Map<string, Uint8Array>();
  leaves.forEach((leaf, i) => nodes.set(`0/${i}`, leaf));
  for (let level = 1; 2 ** level <= size; level += 1) {
    for (let index = 0; (index + 1) * 2 ** level <= size; index += 1) {
      const left = nodes.get(`${level - 1}/${2 * index}`) as Uint8Array;
      const right = nodes.get(`${level - 1}/${2 * index + 1}`) as Uint8Array;
      nodes.set(`${level}/${index}`, nodeHash(left, right));
    }
  }
  return { leaves, nodes };
}

describe('range proofs', () => {
  it('give the root from a run of leaves and O(log n) outside subtrees, for every run of small trees', () => {
    for (let size = 1; size <= 19; size += 1) {
      const { leaves, nodes } = allNodes(size);
      const root = rootHash(size, mapLookup(nodes));
      for (let from = 0; from < size; from += 1) {
        for (let to = from + 1; to <= size; to += 1) {
          const keys = rangeProofKeys(from, to, size);
          const proof = new Map(keys.map((k) => [nodeKeyId(k), nodes.get(nodeKeyId(k)) as Uint8Array]));
          expect(hex(rootFromRange(from, to, size, concat(leaves.slice(from, to)), mapLookup(proof)))).toBe(
            hex(root),
          );
          expect(keys.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size + 1)) + 2);
        }
      }
    }
  });

  it('gives another root when one leaf of the run is changed', () => {
    const { leaves, nodes } = allNodes(13);
    const keys = rangeProofKeys(3, 9, 13);
    const proof = mapLookup(new Map(keys.map((k) => [nodeKeyId(k), nodes.get(nodeKeyId(k)) as Uint8Array])));
    const changed = leaves.slice(3, 9);
    changed[2] = leafHash(new TextEncoder().encode('forged'));
    expect(hex(rootFromRange(3, 9, 13, concat(changed), proof))).not.toBe(
      hex(rootHash(13, mapLookup(nodes))),
    );
  });

  it('take the complete subtrees inside the run that the caller already hashed, and the same root follows', () => {
    const { leaves, nodes } = allNodes(19);
    const keys = rangeProofKeys(3, 17, 19);
    const proof = mapLookup(new Map(keys.map((k) => [nodeKeyId(k), nodes.get(nodeKeyId(k)) as Uint8Array])));
    // The pages [4, 8), [8, 12) and [12, 16) of 4 leaves, as the segment writer hashes them.
    const known = new Map(['2/1', '2/2', '2/3'].map((id) => [id, nodes.get(id) as Uint8Array]));
    const run = concat(leaves.slice(3, 17));
    expect(hex(rootFromRange(3, 17, 19, run, proof, known))).toBe(hex(rootHash(19, mapLookup(nodes))));
    // A known subtree is taken as given: a wrong one gives another root.
    known.set('2/2', leafHash(new TextEncoder().encode('forged')));
    expect(hex(rootFromRange(3, 17, 19, run, proof, known))).not.toBe(hex(rootHash(19, mapLookup(nodes))));
  });

  it('refuses a run outside the tree', () => {
    expect(() => rangeProofKeys(2, 9, 8)).toThrow(RangeError);
  });
});
