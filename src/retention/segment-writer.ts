/**
 * Writes one month's segment (src/retention/segment-format.ts) from the store, streamed: pages
 * of entries are read, turned into lines and gzipped while the storage writes the compressed
 * bytes out, with backpressure from the storage back to the reads, so a month never sits in
 * memory. Only the leaf hashes (32 bytes an entry) are kept, for the manifest.
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

const PAGE = 10_000;

/** Writes the segment of `plan` to `storage`; returns its manifest. */
export async function writeSegment(
  store: Store,
  storage: SegmentStorage,
  plan: SegmentPlan,
  nowMs: number,
  onProgress?: (done: number, total: number) => void,
): Promise<SegmentManifest> {
  const { month, first, end, checkpoint } = plan;
  const total = end - first;
  const leaves = Buffer.alloc(32 * total);
  const retired: number[] = [];
  let written = 0;
  let deployments = 0;

  async function* lines(): AsyncGenerator<string> {
    for await (const page of store.retention.entryPages(first, end, PAGE)) {
      let text = '';
      for (const entry of page) {
        const offset = entry.index - first;
        if (offset !== written) throw new Error(`ledger entry ${first + written} is missing`);
        leaves.set(entry.leafHash, 32 * offset);
        written += 1;
        if (entry.bytes === null) {
          retired.push(entry.index);
          text += `{"type":"entry","index":${entry.index},"retired":true}\n`;
        } else if (entry.event) {
          text += `{"type":"entry","index":${entry.index},"event":{"seq":${entry.event.seq},"scope":${JSON.stringify(entry.event.scope)}},"record":${entry.bytes}}\n`;
        } else {
          text += `{"type":"entry","index":${entry.index},"record":${entry.bytes}}\n`;
        }
      }
      onProgress?.(written, total);
      yield text;
    }
    if (written !== total) throw new Error(`ledger entries ${first + written}..${end - 1} are missing`);
    for await (const rows of store.retention.deploymentPages(first, end, PAGE)) {
      deployments += rows.length;
      yield rows.map((row) => `{"type":"deployment","row":${JSON.stringify(row)}}\n`).join('');
    }
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
    pipeline(Readable.from(lines()), createGzip(), tap, body),
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
  return manifest;
}
