import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  appendLookupKeys,
  appendNodes,
  consistencyProof,
  consistencyProofKeys,
  emptyRootHash,
  hashRange,
  inclusionProof,
  inclusionProofKeys,
  leafHash,
  mapLookup,
  nodeHash,
  nodeKeyId,
  nodesCompletedByAppend,
  rangeNodeKeys,
  rootHash,
  rootKeys,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
import type { NodeKey, NodeLookup } from './merkle.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

// The reference leaves of the RFC 6962 / Certificate Transparency test suite.
const RFC6962_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(fromHex);

// ----- naive reference implementation, straight from RFC 9162 §2.1, over all the leaves -----

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function naiveMth(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return Uint8Array.from(createHash('sha256').digest());
  if (leaves.length === 1) return leafHash(leaves[0] as Uint8Array);
  const k = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(naiveMth(leaves.slice(0, k)), naiveMth(leaves.slice(k)));
}

function naivePath(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  if (m < k) return [...naivePath(m, leaves.slice(0, k)), naiveMth(leaves.slice(k))];
  return [...naivePath(m - k, leaves.slice(k)), naiveMth(leaves.slice(0, k))];
}

function naiveSubproof(m: number, leaves: readonly Uint8Array[], complete: boolean): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [naiveMth(leaves)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...naiveSubproof(m, leaves.slice(0, k), complete), naiveMth(leaves.slice(k))];
  return [...naiveSubproof(m - k, leaves.slice(k), false), naiveMth(leaves.slice(0, k))];
}

function naiveConsistency(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  return m === 0 || m === leaves.length ? [] : naiveSubproof(m, leaves, true);
}

// ----- a node store built the way the database will build it: one append at a time -----

interface Tree {
  readonly leaves: Uint8Array[];
  readonly nodes: Map<string, Uint8Array>;
}

function buildTree(leaves: readonly Uint8Array[]): Tree {
  const nodes = new Map<string, Uint8Array>();
  leaves.forEach((entry, index) => {
    const needed = new Map(appendLookupKeys(index).map((key) => [nodeKeyId(key), nodes.get(nodeKeyId(key))]));
    const lookup: NodeLookup = (key) => {
      const hash = needed.get(nodeKeyId(key));
      if (hash === undefined) throw new Error(`append read unannounced node ${nodeKeyId(key)}`);
      return hash;
    };
    for (const row of appendNodes(index, leafHash(entry), lookup)) nodes.set(nodeKeyId(row.key), row.hash);
  });
  return { leaves: [...leaves], nodes };
}

/** A lookup that only answers the keys announced beforehand, as the store's batched read does. */
function fetched(tree: Tree, keys: readonly NodeKey[]): NodeLookup {
  const batch = new Map<string, Uint8Array>();
  for (const key of keys) {
    const hash = tree.nodes.get(nodeKeyId(key));
    if (hash === undefined) throw new Error(`node ${nodeKeyId(key)} is not stored`);
    batch.set(nodeKeyId(key), hash);
  }
  return mapLookup(batch);
}

const treeRoot = (tree: Tree, size: number): Uint8Array => rootHash(size, fetched(tree, rootKeys(size)));
const treeInclusion = (tree: Tree, index: number, size: number): Uint8Array[] =>
  inclusionProof(index, size, fetched(tree, inclusionProofKeys(index, size)));
const treeConsistency = (tree: Tree, from: number, to: number): Uint8Array[] =>
  consistencyProof(from, to, fetched(tree, consistencyProofKeys(from, to)));

const rfcTree = buildTree(RFC6962_LEAVES);

describe('hashing (RFC 9162 §2.1.1)', () => {
  it('hashes the empty tree as SHA-256 of nothing', () => {
    expect(hex(emptyRootHash())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(rootHash(0, mapLookup(new Map())))).toBe(hex(emptyRootHash()));
  });

  it('prefixes leaves with 0x00 and nodes with 0x01', () => {
    expect(hex(leafHash(new Uint8Array()))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    const left = leafHash(fromHex('00'));
    const right = leafHash(fromHex('10'));
    const expected = createHash('sha256').update(Uint8Array.of(1)).update(left).update(right).digest('hex');
    expect(hex(nodeHash(left, right))).toBe(expected);
  });

  it('matches the RFC 6962 reference roots', () => {
    expect(hex(treeRoot(rfcTree, 8))).toBe(
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    );
    expect(hex(treeRoot(rfcTree, 3))).toBe(
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    );
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('computes the root of size %i as the naive MTH', (size) => {
    expect(hex(treeRoot(rfcTree, size))).toBe(hex(naiveMth(RFC6962_LEAVES.slice(0, size))));
  });
});

describe('complete-subtree keys', () => {
  it('completes one node per trailing 1 bit of the appended index', () => {
    expect(nodesCompletedByAppend(0)).toEqual([]);
    expect(nodesCompletedByAppend(1)).toEqual([{ level: 1, index: 0 }]);
    expect(nodesCompletedByAppend(2)).toEqual([]);
    expect(nodesCompletedByAppend(7)).toEqual([
      { level: 1, index: 3 },
      { level: 2, index: 1 },
      { level: 3, index: 0 },
    ]);
    expect(appendLookupKeys(7)).toEqual([
      { level: 0, index: 6 },
      { level: 1, index: 2 },
      { level: 2, index: 0 },
    ]);
  });

  it('stores exactly the complete subtrees: 2n - popcount(n) nodes for n leaves', () => {
    const tree = buildTree(Array.from({ length: 13 }, (_, i) => Uint8Array.of(i)));
    // 13 = 0b1101: 8 + 4 + 1 leaves in complete trees of 15 + 7 + 1 nodes.
    expect(tree.nodes.size).toBe(23);
    expect(tree.nodes.has('3/0')).toBe(true);
    expect(tree.nodes.has('2/2')).toBe(true);
    expect(tree.nodes.has('2/3')).toBe(false);
  });

  it('splits ranges at the largest power of two, largest subtree first', () => {
    expect(rangeNodeKeys(0, 0)).toEqual([]);
    expect(rangeNodeKeys(0, 7)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(rangeNodeKeys(8, 13)).toEqual([
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(rangeNodeKeys(4, 5)).toEqual([{ level: 0, index: 4 }]);
    expect(() => rangeNodeKeys(2, 6)).toThrow(RangeError);
    expect(() => rangeNodeKeys(5, 4)).toThrow(RangeError);
  });

  it('hashes a sub-range as the MTH of its leaves', () => {
    const tree = buildTree(Array.from({ length: 40 }, (_, i) => Uint8Array.of(i, i * 3)));
    for (const [start, end] of [
      [0, 40],
      [32, 40],
      [16, 29],
      [8, 16],
      [37, 38],
    ] as const) {
      expect(hex(hashRange(start, end, fetched(tree, rangeNodeKeys(start, end))))).toBe(
        hex(naiveMth(tree.leaves.slice(start, end))),
      );
    }
  });

  it('rejects a lookup that answers something other than a 32-byte hash', () => {
    expect(() => rootHash(2, () => new Uint8Array(31))).toThrow(RangeError);
    expect(() => rootHash(2, mapLookup(new Map()))).toThrow(/not fetched/);
  });
});

describe('inclusion proofs (RFC 9162 §2.1.3)', () => {
  const pairs = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((size) =>
    Array.from({ length: size }, (_, index) => [index, size] as const),
  );

  it.each(pairs)('proves leaf %i in the tree of size %i', (index, size) => {
    const proof = treeInclusion(rfcTree, index, size);
    const leaves = RFC6962_LEAVES.slice(0, size);
    expect(proof.map(hex)).toEqual(naivePath(index, leaves).map(hex));
    const root = naiveMth(leaves);
    const leaf = leafHash(RFC6962_LEAVES[index] as Uint8Array);
    expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);

    // A different leaf, index or root fails, and so does a shortened or lengthened proof. (A
    // different size can verify: RFC 9162 binds the size only through the root it signs.)
    const otherLeaf = leafHash(Uint8Array.of(0xff));
    expect(verifyInclusion(otherLeaf, index, size, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, index, size, proof, otherLeaf)).toBe(false);
    expect(verifyInclusion(leaf, size, size, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, index + size, size, proof, root)).toBe(false);
    if (size > 1) {
      expect(verifyInclusion(leaf, (index + 1) % size, size, proof, root)).toBe(false);
      expect(verifyInclusion(leaf, index, size, proof.slice(0, -1), root)).toBe(false);
      expect(verifyInclusion(leaf, index, size, proof.slice(1), root)).toBe(false);
    }
    expect(verifyInclusion(leaf, index, size, [...proof, leaf], root)).toBe(false);
    expect(verifyInclusion(leaf, index, size, [leaf, ...proof], root)).toBe(false);
    expect(verifyInclusion(leaf, -1, size, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, index + 0.5, size, proof, root)).toBe(false);
  });

  it('has the known RFC 6962 path for leaf 0 of 8', () => {
    expect(treeInclusion(rfcTree, 0, 8).map(hex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
  });

  it('rejects index >= size and negative or fractional arguments when building', () => {
    expect(() => inclusionProofKeys(3, 3)).toThrow(/not below tree size/);
    expect(() => inclusionProofKeys(-1, 3)).toThrow();
    expect(() => inclusionProofKeys(1.5, 3)).toThrow();
    expect(() => inclusionProofKeys(0, 2 ** 53)).toThrow();
  });
});

describe('consistency proofs (RFC 9162 §2.1.4)', () => {
  const pairs = [0, 1, 2, 3, 4, 5, 6, 7, 8].flatMap((to) =>
    Array.from({ length: to + 1 }, (_, from) => [from, to] as const),
  );

  it.each(pairs)('proves the tree of size %i is a prefix of size %i', (from, to) => {
    const proof = treeConsistency(rfcTree, from, to);
    expect(proof.map(hex)).toEqual(naiveConsistency(from, RFC6962_LEAVES.slice(0, to)).map(hex));
    const oldRoot = naiveMth(RFC6962_LEAVES.slice(0, from));
    const newRoot = naiveMth(RFC6962_LEAVES.slice(0, to));
    expect(verifyConsistency(from, to, proof, oldRoot, newRoot)).toBe(true);

    const junk = leafHash(Uint8Array.of(0xee));
    expect(verifyConsistency(from, to, [...proof, junk], oldRoot, newRoot)).toBe(false);
    expect(verifyConsistency(from, to, [junk, ...proof], oldRoot, newRoot)).toBe(false);
    expect(verifyConsistency(from, to, proof, junk, newRoot)).toBe(false);
    // From the empty tree every tree is consistent, whatever its root.
    if (from > 0) expect(verifyConsistency(from, to, proof, oldRoot, junk)).toBe(false);
    if (proof.length > 0) {
      expect(verifyConsistency(from, to, proof.slice(0, -1), oldRoot, newRoot)).toBe(false);
      expect(verifyConsistency(from, to, proof.slice(1), oldRoot, newRoot)).toBe(false);
      const flipped = proof.map((hash, i) =>
        i === 0 ? Uint8Array.from(hash, (b, j) => (j ? b : b ^ 1)) : hash,
      );
      expect(verifyConsistency(from, to, flipped, oldRoot, newRoot)).toBe(false);
    }
    if (from !== to) {
      // Swapped roots and swapped sizes.
      expect(verifyConsistency(from, to, proof, newRoot, oldRoot)).toBe(false);
      expect(verifyConsistency(to, from, proof, newRoot, oldRoot)).toBe(false);
    }
  });

  it('has the known RFC 6962 proofs', () => {
    expect(treeConsistency(rfcTree, 1, 8).map(hex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(treeConsistency(rfcTree, 6, 8).map(hex)).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(treeConsistency(rfcTree, 2, 5).map(hex)).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
  });

  it('rejects from > to when building and when verifying', () => {
    expect(() => consistencyProofKeys(4, 3)).toThrow(/above/);
    const root = naiveMth(RFC6962_LEAVES.slice(0, 3));
    expect(verifyConsistency(4, 3, [], root, root)).toBe(false);
  });

  it('accepts the empty tree only with its own root', () => {
    const root = naiveMth(RFC6962_LEAVES);
    expect(verifyConsistency(0, 8, [], emptyRootHash(), root)).toBe(true);
    expect(verifyConsistency(0, 8, [], root, root)).toBe(false);
    expect(verifyConsistency(0, 8, [root], emptyRootHash(), root)).toBe(false);
  });
});

describe('randomized cross-check against the naive implementation', () => {
  const size = 300;
  // Deterministic pseudo-random leaves and choices, so a failure can be replayed.
  const leaves = Array.from({ length: size }, (_, i) =>
    createHash('sha256')
      .update(String(i))
      .digest()
      .subarray(0, i % 7 === 0 ? 0 : 1 + (i % 32)),
  );
  const tree = buildTree(leaves);
  const roots = Array.from({ length: size + 1 }, (_, n) => naiveMth(leaves.slice(0, n)));
  let seed = 20_261_126; // MINSTD (Park-Miller): products stay below 2^53
  const random = (below: number): number => {
    seed = (seed * 48_271) % 2_147_483_647;
    return Math.floor((seed / 2_147_483_647) * below);
  };

  it('computes every root size 0..300', () => {
    for (let n = 0; n <= size; n += 1) expect(hex(treeRoot(tree, n))).toBe(hex(roots[n] as Uint8Array));
  });

  it('builds and verifies 400 random inclusion proofs from O(log n) nodes', () => {
    for (let trial = 0; trial < 400; trial += 1) {
      const n = 1 + random(size);
      const index = random(n);
      const keys = inclusionProofKeys(index, n);
      expect(keys.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)) + 1);
      const proof = treeInclusion(tree, index, n);
      expect(proof.map(hex)).toEqual(naivePath(index, leaves.slice(0, n)).map(hex));
      const leaf = leafHash(leaves[index] as Uint8Array);
      const root = roots[n] as Uint8Array;
      expect(verifyInclusion(leaf, index, n, proof, root)).toBe(true);
      if (n > 1) expect(verifyInclusion(leaf, (index + 1) % n, n, proof, root)).toBe(false);
    }
  });

  it('builds and verifies 400 random consistency proofs from O(log n) nodes', () => {
    for (let trial = 0; trial < 400; trial += 1) {
      const to = random(size + 1);
      const from = random(to + 1);
      const keys = consistencyProofKeys(from, to);
      expect(keys.length).toBeLessThanOrEqual(3 * Math.ceil(Math.log2(to + 1)) + 1);
      const proof = treeConsistency(tree, from, to);
      expect(proof.map(hex)).toEqual(naiveConsistency(from, leaves.slice(0, to)).map(hex));
      const oldRoot = roots[from] as Uint8Array;
      const newRoot = roots[to] as Uint8Array;
      expect(verifyConsistency(from, to, proof, oldRoot, newRoot)).toBe(true);
      if (from !== to && from > 0) {
        expect(verifyConsistency(from, to, proof, newRoot, oldRoot)).toBe(false);
        const other = roots[from === 1 ? 2 : from - 1] as Uint8Array;
        expect(verifyConsistency(from, to, proof, other, newRoot)).toBe(false);
      }
    }
  });
});

describe('indexes above 2^32 (no 32-bit bitwise arithmetic)', () => {
  const big = 2 ** 32;

  it('computes append keys past 2^32', () => {
    const completed = nodesCompletedByAppend(2 ** 33 - 1);
    expect(completed).toHaveLength(33);
    expect(completed.at(-1)).toEqual({ level: 33, index: 0 });
    expect(nodesCompletedByAppend(big + 1)).toEqual([{ level: 1, index: big / 2 }]);
    expect(nodesCompletedByAppend(big)).toEqual([]);
    expect(nodesCompletedByAppend(2 ** 52 + 3)).toEqual([
      { level: 1, index: 2 ** 51 + 1 },
      { level: 2, index: 2 ** 50 },
    ]);
  });

  it('decomposes roots and ranges past 2^32', () => {
    expect(rootKeys(big + 5)).toEqual([
      { level: 32, index: 0 },
      { level: 2, index: big / 4 },
      { level: 0, index: big + 4 },
    ]);
    expect(rangeNodeKeys(3 * big, 3 * big + 2)).toEqual([{ level: 1, index: (3 * big) / 2 }]);
    expect(rootKeys(2 ** 53 - 1)).toHaveLength(53);
  });

  it('names proof keys past 2^32', () => {
    const index = big + 6;
    const size = big + 8;
    // Leaf big+6 of big+8: sibling leaf big+7, then leaves [big+4, big+6), [big, big+4), [0, big).
    expect(inclusionProofKeys(index, size)).toEqual([
      { level: 0, index: big + 7 },
      { level: 1, index: big / 2 + 2 },
      { level: 2, index: big / 4 },
      { level: 32, index: 0 },
    ]);
    expect(consistencyProofKeys(big, big + 3)).toEqual([
      { level: 1, index: big / 2 },
      { level: 0, index: big + 2 },
    ]);
  });

  // In a tree whose leaves are all equal every complete subtree of one level has the same hash,
  // so trees of any size can be hashed, proven and verified in O(log n).
  const leaf = leafHash(Uint8Array.of(42));
  const levels = [leaf];
  for (let level = 1; level <= 53; level += 1) {
    const below = levels[level - 1] as Uint8Array;
    levels.push(nodeHash(below, below));
  }
  const uniform: NodeLookup = (key) => levels[key.level] as Uint8Array;

  it('proves and verifies inclusion and consistency in trees of more than 2^32 leaves', () => {
    const size = 2 ** 33 + 12_345;
    const root = rootHash(size, uniform);
    for (const index of [0, big - 1, big, big + 7, size - 1]) {
      const proof = inclusionProof(index, size, uniform);
      expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);
    }
    for (const from of [1, big - 1, big, big + 3, 2 ** 33 + 1]) {
      const proof = consistencyProof(from, size, uniform);
      expect(verifyConsistency(from, size, proof, rootHash(from, uniform), root)).toBe(true);
      expect(verifyConsistency(from, size, proof, rootHash(from + 1, uniform), root)).toBe(false);
    }
  });
});
