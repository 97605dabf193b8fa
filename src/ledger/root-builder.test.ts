import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appendNodes, emptyRootHash, leafHash, mapLookup, nodeKeyId, rootHash } from './merkle.js';
import { createRootBuilder } from './root-builder.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('createRootBuilder', () => {
  it('rebuilds the RFC 6962 reference roots', () => {
    const leaves = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ];
    const builder = createRootBuilder();
    expect(hex(builder.root())).toBe(hex(emptyRootHash()));
    const roots = leaves.map((leaf) => {
      builder.append(leafHash(Buffer.from(leaf, 'hex')));
      return hex(builder.root());
    });
    expect(builder.size).toBe(8);
    expect(roots[2]).toBe('aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77');
    expect(roots[7]).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  });

  it('produces the same node rows and roots as the stored tree, for every size up to 200', () => {
    const builder = createRootBuilder();
    const nodes = new Map<string, Uint8Array>();
    for (let index = 0; index < 200; index += 1) {
      const leaf = leafHash(randomBytes(index % 13));
      const built = builder.append(leaf);
      const stored = appendNodes(index, leaf, mapLookup(nodes));
      expect(built.map((row) => [nodeKeyId(row.key), hex(row.hash)])).toEqual(
        stored.map((row) => [nodeKeyId(row.key), hex(row.hash)]),
      );
      for (const row of stored) nodes.set(nodeKeyId(row.key), row.hash);
      expect(hex(builder.root())).toBe(hex(rootHash(index + 1, mapLookup(nodes))));
    }
  });
});
