/**
 * Where archive segments live: a folder (default `./archive` under the data folder) or an
 * S3-compatible bucket (src/retention/s3-storage.ts). Both write a whole object from a stream
 * and only then make it visible (a folder: write to a temporary name, fsync, rename; S3: a
 * multipart upload completes atomically), so a crash never leaves half a segment under its name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { ShiplogError } from '../errors.js';
import type { RetentionConfig } from './retention-config.js';

export interface SegmentStorage {
  /** The folder or `s3://bucket/prefix`, for messages. */
  readonly location: string;
  write(name: string, body: Readable): Promise<void>;
  /** The object's bytes; a SHIPLOG_NOT_FOUND error when there is none. */
  read(name: string): Promise<Readable>;
  /** The object names (without prefix). */
  list(): Promise<string[]>;
}

/** A folder of segments. */
export function createFolderStorage(dir: string): SegmentStorage {
  const resolved = path.resolve(dir);
  return Object.freeze({
    location: resolved,
    async write(name: string, body: Readable) {
      fs.mkdirSync(resolved, { recursive: true });
      const final = path.join(resolved, name);
      const temporary = `${final}.partial`;
      await pipeline(body, fs.createWriteStream(temporary));
      const handle = await fs.promises.open(temporary, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(temporary, final);
    },
    async read(name: string) {
      const file = path.join(resolved, name);
      if (!fs.existsSync(file)) throw new ShiplogError('SHIPLOG_NOT_FOUND', `no ${name} in ${resolved}`);
      return fs.createReadStream(file, { highWaterMark: 1 << 20 });
    },
    async list() {
      return fs.existsSync(resolved) ? fs.readdirSync(resolved) : [];
    },
  });
}

/** The storage `retention:` names: S3 when `s3:` is set, else `archiveDir` (relative to `dataDir`). */
export async function storageFor(config: RetentionConfig, dataDir: string): Promise<SegmentStorage> {
  if (config.s3) {
    const { createS3Storage } = await import('./s3-storage.js');
    return createS3Storage(config.s3);
  }
  return createFolderStorage(path.resolve(dataDir, config.archiveDir));
}

/** Reads a whole (small) object as text. */
export async function readText(storage: SegmentStorage, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.read(name)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}
