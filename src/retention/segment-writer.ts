/**
 * Writes one month's segment (src/retention/segment-format.ts) from the store, streamed: the
 * store reads pages of entries and turns them into lines with their leaf hashes, each page one
 * gzip member (on SQLite compressed by the worker thread that read it; otherwise here, on zlib's
 * thread pool), and the storage writes the members out in order, with backpressure from the
 * storage back to the reads, so a month never sits in memory. Only the leaf hashes (32 bytes an
 * entry) are kept, for the manifest, base64-encoded page by page as they arrive; they are the
 * hashes of the records as written, so proving them proves the segment
 * (src/retention/segment-verify.ts `confirmWrittenSegment`).
 */
import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { nodeKeyId } from '../ledger/merkle.js';
import { rangeProofKeys } from '../ledger/range-proof.js';
import type { StoredCheckpoint } from '../store/ledger-repository.js';
import type { Store } from '../store/database.js';
import {
  SEGMENT_FORMAT,
  SEGMENT_FORMAT_VERSION,
  manifestFile,
  recordsFile,
  type SegmentFields,
} from './segment-format.js';
import type { SegmentStorage } from './segment-storage.js';

export interface SegmentPlan {
  readonly month: string;
  readonly first: number;
  readonly end: number;
  readonly checkpoint: StoredCheckpoint;
  readonly verifierKey: string;
}

/** One gzip member of `text`, at zlib's default level (as `gzip` and the benchmark's baseline), on the thread pool. */
const gzipMember = promisify(gzip) as (text: Uint8Array) => Promise<Buffer>;

/** Entries a page (a power of two: a whole page is one complete subtree). */
const PAGE = 8192;

/** A segment as written, for `confirmWrittenSegment` to check against what the storage holds. */
export interface WrittenSegment {
  /** The manifest written, but its leaf hashes: `leaves` holds them. */
  readonly manifest: SegmentFields;
  /** The manifest's leaf hashes, as made (32 bytes each), not decoded again from its base64. */
  readonly leaves: Uint8Array;
  /** The complete subtrees hashed on the way (`level/index`). */
  readonly subtrees: ReadonlyMap<string, Uint8Array>;
  /** Size and SHA-256 (hex) of the manifest object's bytes. */
  readonly manifestBytes: number;
  readonly manifestSha256: string;
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
  let members = 0;
  // The manifest's base64 of the leaves, made as the pages arrive (while the workers make the
  // next ones) in whole 3-byte groups, so it is the base64 of all of them: the manifest of a
  // 1M-entry month (43 MB) is never built, serialised and encoded as one string at the end.
  const encoded: Buffer[] = [];
  let encodedBytes = 0;
  const encodeLeaves = (upTo: number) => {
    if (upTo <= encodedBytes) return;
    encoded.push(Buffer.from(leaves.subarray(encodedBytes, upTo).toString('base64'), 'latin1'));
    encodedBytes = upTo;
  };

  async function* compressedPages(): AsyncGenerator<Uint8Array> {
    for await (const page of store.retention.segmentPages(first, end, PAGE)) {
      if (page.entries > 0) {
        if (page.first !== first + written) throw new Error(`ledger entry ${first + written} is missing`);
        leaves.set(page.leaves, 32 * written);
        retired.push(...page.retired);
        if (page.subtree) subtrees.set(`${page.subtree.level}/${page.subtree.index}`, page.subtree.hash);
        written += page.entries;
        encodeLeaves(32 * written - ((32 * written) % 3));
        onProgress?.(written, total);
      } else if (written !== total) {
        throw new Error(`ledger entries ${first + written}..${end - 1} are missing`);
      }
      deployments += page.deployments;
      if (page.text.length > 0) {
        yield page.gzipped ? page.text : await gzipMember(page.text);
        members += 1;
      }
    }
    if (written !== total) throw new Error(`ledger entries ${first + written}..${end - 1} are missing`);
    encodeLeaves(32 * total);
    if (members === 0) yield await gzipMember(new Uint8Array(0)); // an empty gzip file, not no file
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
    // One page ahead at most: the next pages are read and compressed while this one is written,
    // and a month never piles up in memory.
    pipeline(Readable.from(compressedPages(), { highWaterMark: 1 }), tap, body),
    storage.write(recordsFile(month), body),
  ]);

  const keys = rangeProofKeys(first, end, checkpoint.size);
  const nodes = await store.retention.nodes(keys);
  const manifest: SegmentFields = {
    format: SEGMENT_FORMAT,
    formatVersion: SEGMENT_FORMAT_VERSION,
    month,
    createdAt: new Date(nowMs).toISOString(),
    ledger: { first, end },
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
  const parts = manifestParts(manifest, encoded);
  const manifestSha = createHash('sha256');
  let manifestBytes = 0;
  for (const part of parts) {
    manifestSha.update(part);
    manifestBytes += part.length;
  }
  await storage.write(manifestFile(month), Readable.from(parts));
  return { manifest, leaves, subtrees, manifestBytes, manifestSha256: manifestSha.digest('hex') };
}

/**
 * The bytes of the manifest's JSON, `leafHashes` (the base64 in `encoded`, in order) at its place
 * in the order of SegmentManifest's fields, without ever joining them into one string.
 */
function manifestParts(fields: SegmentFields, encoded: readonly Buffer[]): Buffer[] {
  const { format, formatVersion, month, createdAt, ledger, ...rest } = fields;
  const head = JSON.stringify({ format, formatVersion, month, createdAt, ledger, leafHashes: '' });
  const tail = JSON.stringify(rest);
  // `…,"leafHashes":"` + base64 + `",` + the other fields (the tail without its opening brace).
  return [Buffer.from(head.slice(0, -2)), ...encoded, Buffer.from(`",${tail.slice(1)}`)];
}
