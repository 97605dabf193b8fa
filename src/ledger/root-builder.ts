/**
 * Streaming RFC 9162 §2.1.1 root computation for auditors (`shiplog verify`): feed every leaf
 * hash in index order and read the root of any prefix, in O(log n) memory. It keeps the
 * "right frontier" of the tree (the complete subtrees of the current size, largest first),
 * which is also exactly the set of nodes `rootKeys(size)` names, so a verifier can compare the
 * stored node hashes with recomputed ones as it goes.
 */
import { emptyRootHash, nodeHash, rangeNodeKeys } from './merkle.js';
import type { NodeHash } from './merkle.js';

/** A tree being rebuilt from its leaves. */
export interface RootBuilder {
  /** The number of leaves appended so far. */
  readonly size: number;
  /**
   * Appends the next leaf hash; returns the rows the append creates (the leaf at level 0 and
   * every complete subtree it completes), the same rows `appendNodes` gives the store.
   */
  append(leaf: Uint8Array): NodeHash[];
  /** The root hash of the leaves appended so far. */
  root(): Uint8Array;
}

/**
 * Starts rebuilding a tree from leaf 0, or from leaf `from.size` given the hashes of the
 * complete subtrees of the first `from.size` leaves (`rangeNodeKeys(0, size)`, largest
 * first): so an audit bundle can carry a run of leaves and prove it against the root without
 * the leaves before it (docs/audit.md, Completeness).
 */
export function createRootBuilder(from?: { size: number; frontier: readonly Uint8Array[] }): RootBuilder {
  const frontier: { level: number; hash: Uint8Array }[] = [];
  let size = 0;
  if (from !== undefined) {
    const keys = rangeNodeKeys(0, from.size);
    if (keys.length !== from.frontier.length) {
      throw new RangeError(
        `a tree of ${from.size} leaves has ${keys.length} frontier nodes, not ${from.frontier.length}`,
      );
    }
    keys.forEach((key, i) => frontier.push({ level: key.level, hash: from.frontier[i] as Uint8Array }));
    size = from.size;
  }
  return {
    get size() {
      return size;
    },
    append: function appendLeaf(leaf) {
      const index = size;
      const rows: NodeHash[] = [{ key: { level: 0, index }, hash: leaf }];
      let node = { level: 0, hash: leaf };
      for (let top = frontier.at(-1); top !== undefined && top.level === node.level; top = frontier.at(-1)) {
        frontier.pop();
        node = { level: node.level + 1, hash: nodeHash(top.hash, node.hash) };
        rows.push({
          key: { level: node.level, index: Math.floor(index / 2 ** node.level) },
          hash: node.hash,
        });
      }
      frontier.push(node);
      size += 1;
      return rows;
    },
    root: function frontierRoot() {
      let root = frontier.at(-1)?.hash;
      if (root === undefined) return emptyRootHash();
      for (let i = frontier.length - 2; i >= 0; i -= 1) {
        root = nodeHash((frontier[i] as { hash: Uint8Array }).hash, root);
      }
      return root;
    },
  };
}
