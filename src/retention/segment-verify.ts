/**
 * Proves a segment from its two objects alone, no database (`shiplog archive verify`, and the
 * archiver before it lets anything be deleted):
 *
 * 1. the JSONL's size and SHA-256 are the manifest's, and it holds every entry of the range
 *    once, in order;
 * 2. each entry's record bytes hash (RFC 9162 leaf, SHA-256(0x00 || bytes)) to the manifest's
 *    leaf hash for its index;
 * 3. the checkpoint's signature is one of the trusted keys';
 * 4. the manifest's leaves with its proof nodes give the checkpoint's root
 *    (src/ledger/range-proof.ts): every entry is included in the signed tree.
 */
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { Transform } from 'node:stream';
import { verifyCheckpoint } from '../ledger/checkpoint.js';
import { leafHash, mapLookup } from '../ledger/merkle.js';
import type { NoteVerifier } from '../ledger/note.js';
import { rootFromRange } from '../ledger/range-proof.js';
import {
  SEGMENT_FORMAT,
  SEGMENT_FORMAT_VERSION,
  manifestFile,
  splitEntryLine,
  type SegmentFields,
  type SegmentManifest,
} from './segment-format.js';
import { readText, type SegmentStorage } from './segment-storage.js';
import type { WrittenSegment } from './segment-writer.js';

export interface SegmentVerdict {
  readonly month: string;
  readonly ok: boolean;
  readonly first: number;
  readonly end: number;
  readonly entries: number;
  /** Entries whose payload was retired before archiving (leaf hash only). */
  readonly retired: number;
  readonly deployments: number;
  readonly checkpointSize: number;
  /** The first problem found; none when `ok`. */
  readonly problem?: string;
}

/** Reads and proves the segment of `month` in `storage` against `verifiers`. */
export async function verifySegment(
  storage: SegmentStorage,
  month: string,
  verifiers: readonly NoteVerifier[],
  onProgress?: (done: number, total: number) => void,
): Promise<SegmentVerdict> {
  let manifest: SegmentManifest;
  try {
    manifest = JSON.parse(await readText(storage, manifestFile(month))) as SegmentManifest;
  } catch (error) {
    return failed(month, `the manifest cannot be read: ${(error as Error).message}`);
  }
  const { first, end } = manifest.ledger ?? { first: 0, end: 0 };
  const base = {
    month,
    first,
    end,
    entries: 0,
    retired: 0,
    deployments: 0,
    checkpointSize: manifest.checkpoint?.size ?? 0,
  };
  // 3 and 4 first: they need only the manifest.
  const leaves = Buffer.from(typeof manifest.leafHashes === 'string' ? manifest.leafHashes : '', 'base64');
  const unproved = proveManifest(manifest, month, verifiers, leaves);
  if (unproved !== undefined) return { ...base, ok: false, problem: unproved };

  // 1 and 2: stream the records.
  const retiredSet = new Set(manifest.retired);
  let next = first;
  let retired = 0;
  let deployments = 0;
  let problem: string | undefined;
  const sha = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _e, done) {
      sha.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const checkLine = (line: string): string | undefined => {
    const { head, bytes: record } = splitEntryLine(line);
    if (head.type === 'deployment') {
      deployments += 1;
      return undefined;
    }
    if (head.type !== 'entry') return `a line of type ${String(head.type)} is not known`;
    if (head.index !== next) return `entry ${next} is missing (found ${String(head.index)})`;
    const offset = 32 * (next - first);
    if (head.retired === true) {
      if (!retiredSet.has(next))
        return `entry ${next} has no record, yet the manifest does not list it as retired`;
      retired += 1;
    } else {
      if (record === undefined) return `entry ${next} has no record`;
      const leaf = leafHash(Buffer.from(record, 'utf8'));
      if (Buffer.compare(leaf, leaves.subarray(offset, offset + 32)) !== 0) {
        return `entry ${next}: its record does not hash to its leaf hash: the record was changed`;
      }
    }
    next += 1;
    if ((next - first) % 10_000 === 0) onProgress?.(next - first, end - first);
    return undefined;
  };
  try {
    const stream = (await storage.read(manifest.records.file))
      .pipe(tap)
      .pipe(createGunzip({ chunkSize: 256 * 1024 }));
    let rest = '';
    for await (const chunk of stream) {
      const text = rest + (chunk as Buffer).toString('utf8');
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        if (line === '') continue;
        problem = checkLine(line);
        if (problem) break;
      }
      if (problem) {
        stream.destroy();
        break;
      }
    }
    if (!problem && rest !== '') problem = checkLine(rest);
  } catch (error) {
    problem = `the records cannot be read: ${(error as Error).message}`;
  }
  const counted = { ...base, entries: next - first, retired, deployments };
  if (problem) return { ...counted, ok: false, problem };
  if (next !== end) return { ...counted, ok: false, problem: `entries ${next}..${end - 1} are missing` };
  if (bytes !== manifest.records.bytes || sha.digest('hex') !== manifest.records.sha256) {
    return {
      ...counted,
      ok: false,
      problem: 'the records file is not the one the manifest describes (size or SHA-256)',
    };
  }
  if (retired !== manifest.retired.length) {
    return { ...counted, ok: false, problem: 'the manifest lists retired entries the records do not' };
  }
  return { ...counted, ok: true };
}

/**
 * Proves a segment the archiver has just written (src/retention/segment-writer.ts), without
 * reading its records again line by line: the writer made the manifest's leaf hashes from the
 * very record bytes it wrote (so step 2 held as it wrote), and this checks the rest against the
 * storage: the stored manifest has the size and SHA-256 of the one written, it proves (steps 3
 * and 4, from the leaf hashes as made and the complete subtrees the writer hashed from them on
 * the way), and the stored records object has the size and SHA-256 of the bytes written (step
 * 1: gzip is lossless, so the object holds exactly the lines whose records were hashed).
 * Deletion later proves the segment again in full ({@link verifySegment}).
 */
export async function confirmWrittenSegment(
  storage: SegmentStorage,
  written: WrittenSegment,
  verifiers: readonly NoteVerifier[],
): Promise<SegmentVerdict> {
  const { manifest } = written;
  const { month, ledger, records } = manifest;
  const verdict = {
    month,
    first: ledger.first,
    end: ledger.end,
    entries: records.entries,
    retired: manifest.retired.length,
    deployments: records.deployments,
    checkpointSize: manifest.checkpoint.size,
  };
  const fail = (problem: string): SegmentVerdict => ({ ...verdict, ok: false, problem });
  try {
    const stored = await digestOf(storage, manifestFile(month));
    if (stored.bytes !== written.manifestBytes || stored.sha256 !== written.manifestSha256) {
      return fail('the stored manifest is not the one written');
    }
  } catch (error) {
    return fail(`the manifest cannot be read: ${(error as Error).message}`);
  }
  const unproved = proveManifest(manifest, month, verifiers, written.leaves, written.subtrees);
  if (unproved !== undefined) return fail(unproved);
  let stored;
  try {
    stored = await digestOf(storage, records.file);
  } catch (error) {
    return fail(`the records cannot be read: ${(error as Error).message}`);
  }
  if (stored.bytes !== records.bytes || stored.sha256 !== records.sha256) {
    return fail('the records file is not the one the manifest describes (size or SHA-256)');
  }
  return { ...verdict, ok: true };
}

/** Size and SHA-256 (hex) of a stored object, read as it streams. */
async function digestOf(storage: SegmentStorage, name: string): Promise<{ bytes: number; sha256: string }> {
  const sha = createHash('sha256');
  let bytes = 0;
  for await (const chunk of await storage.read(name)) {
    sha.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: sha.digest('hex') };
}

/**
 * Steps 3 and 4, from the manifest alone: its checkpoint is signed by a trusted key and its leaf
 * hashes (`leaves`: decoded from the stored manifest, or as the writer made them) with its proof
 * give that checkpoint's root. Returns the problem, none when it proves.
 */
function proveManifest(
  manifest: SegmentFields,
  month: string,
  verifiers: readonly NoteVerifier[],
  leaves: Uint8Array,
  subtrees?: ReadonlyMap<string, Uint8Array>,
): string | undefined {
  if (manifest.format !== SEGMENT_FORMAT || manifest.formatVersion !== SEGMENT_FORMAT_VERSION) {
    return `not a shiplog segment of format version ${SEGMENT_FORMAT_VERSION}`;
  }
  if (manifest.month !== month) return `the manifest is for ${manifest.month}`;
  const { first, end } = manifest.ledger;
  if (leaves.length !== 32 * (end - first)) {
    return `the manifest lists ${leaves.length / 32} leaf hashes for ${end - first} entries`;
  }
  let checkpoint;
  try {
    checkpoint = verifyCheckpoint(manifest.checkpoint.note, verifiers);
  } catch (error) {
    return `its checkpoint is not signed by a trusted key: ${(error as Error).message}`;
  }
  if (checkpoint.size !== manifest.checkpoint.size || end > checkpoint.size) {
    return `its checkpoint (size ${checkpoint.size}) does not cover entries ${first}..${end - 1}`;
  }
  const proof = new Map(manifest.proof.map((n) => [`${n.level}/${n.index}`, Buffer.from(n.hash, 'hex')]));
  let root: Uint8Array;
  try {
    root = rootFromRange(first, end, checkpoint.size, leaves, mapLookup(proof), subtrees);
  } catch (error) {
    return `its proof is incomplete: ${(error as Error).message}`;
  }
  if (!Buffer.from(root).equals(checkpoint.rootHash)) {
    return `its leaf hashes and proof do not give the root of its signed checkpoint (size ${checkpoint.size})`;
  }
  return undefined;
}

function failed(month: string, problem: string): SegmentVerdict {
  return {
    month,
    ok: false,
    first: 0,
    end: 0,
    entries: 0,
    retired: 0,
    deployments: 0,
    checkpointSize: 0,
    problem,
  };
}
