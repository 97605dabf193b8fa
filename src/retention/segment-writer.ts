/**
 * Writes one month's segment (src/retention/segment-format.ts) from the store, streamed: the
 * store reads pages of entries and turns them into lines with their leaf hashes (on SQLite in a
 * worker thread), this thread gzips them through one stream while the storage writes the
 * compressed bytes out, with backpressure from the storage back to the reads, so a month never
 * sits in memory. Only the leaf hashes (32 bytes an entry) are kept, for the manifest; they are
 * the hashes of the records as written, so proving them proves the segment
 * (src/retention/segment-verify.ts `confirmWrittenSegment`).
 */
import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { nodeKeyId } from '../ledger/merkle.js';
import { rangeProofKeys } from '../ledger/range-proof.js';
import type { StoredCheckpoint } from '../store/ledger-repository.js';
import type { Store } from '../store/database.js';
import {
  SEGMENT_FORMAT,
  SEGMENT_FORMAT_VERSION,
  manifestFile,
  recordsFile,
  type SegmentManifest,
} from './segment-format.js';
import type { SegmentStorage } from './segment-storage.js';

export interface SegmentPlan {
  readonly month: string;
  readonly first: number;
  readonly end: number;
  readonly checkpoint: StoredCheckpoint;
  readonly verifierKey: string;
}

/** Entries a page (a power of two: a whole page is one complete subtree). */
const PAGE = 8192;

/** A segment as written: its manifest, and the complete subtrees hashed on the way (`level/index`). */
export interface WrittenSegment {
  readonly manifest: SegmentManifest;
  readonly subtrees: ReadonlyMap<string, Uint8Array>;
}

/** Writes the segment of `plan` to `storage`. */
export async function writeSegment(
  store: Store,
  storage: SegmentStorage,
  plan: SegmentPlan,
  nowMs: number,
  onProgress?: (done: number, total: number) => void,
): Promise<WrittenSegment> {
  const { month, first, end, checkpoint } = plan;
  const total = end - first;
  const leaves = Buffer.alloc(32 * total);
  const retired: number[] = [];
  const subtrees = new Map<string, Uint8Array>();
  let written = 0;
  let deployments = 0;

  async function* lines(): AsyncGenerator<Uint8Array> {
    for await (const page of store.retention.segmentPages(first, end, PAGE)) {
      if (page.entries > 0) {
        if (page.first !== first + written) throw new Error(`ledger entry ${first + written} is missing`);
        leaves.set(page.leaves, 32 * written);
        retired.push(...page.retired);
        if (page.subtree) subtrees.set(`${page.subtree.level}/${page.subtree.index}`, page.subtree.hash);
        written += page.entries;
        onProgress?.(written, total);
      } else if (written !== total) {
        throw new Error(`ledger entries ${first + written}..${end - 1} are missing`);
      }
      deployments += page.deployments;
      if (page.text.length > 0) yield page.text;
    }
    if (written !== total) throw new Error(`ledger entries ${first + written}..${end - 1} are missing`);
  }

  const sha = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sha.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const body = new PassThrough();
  await Promise.all([
    // One page ahead at most: the next page is read while gzip compresses this one on the
    // thread pool, and a month never piles up in memory. A 1 MiB output buffer lets zlib take a
    // whole page in one go on its thread rather than returning to this busy one every 16 KiB;
    // the level is zlib's default, as `gzip` and the benchmark's baseline use.
    pipeline(Readable.from(lines(), { highWaterMark: 1 }), createGzip({ chunkSize: 1 << 20 }), tap, body),
    storage.write(recordsFile(month), body),
  ]);

  const keys = rangeProofKeys(first, end, checkpoint.size);
  const nodes = await store.retention.nodes(keys);
  const manifest: SegmentManifest = {
    format: SEGMENT_FORMAT,
    formatVersion: SEGMENT_FORMAT_VERSION,
    month,
    createdAt: new Date(nowMs).toISOString(),
    ledger: { first, end },
    leafHashes: leaves.toString('base64'),
    retired,
    checkpoint: { size: checkpoint.size, note: checkpoint.note },
    verifierKey: plan.verifierKey,
    proof: keys.map((key) => {
      const hash = nodes.get(nodeKeyId(key));
      if (!hash) throw new Error(`the ledger node ${nodeKeyId(key)} is missing`);
      return { level: key.level, index: key.index, hash: Buffer.from(hash).toString('hex') };
    }),
    records: { file: recordsFile(month), bytes, sha256: sha.digest('hex'), entries: total, deployments },
  };
  await storage.write(manifestFile(month), Readable.from([JSON.stringify(manifest)]));
  return { manifest, subtrees };
}
