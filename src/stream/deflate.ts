/**
 * `Content-Encoding: deflate` for the live stream, compressed once per batch for every client.
 *
 * The stream's cost is its bytes: every event goes to every client, and on a busy server 200
 * clients receive tens of MB/s. Compressing each client's stream separately would cost a
 * compressor (and its CPU) per client; instead each batch is compressed once, by a fresh
 * compressor, as a {@link Segment}: deflate blocks (RFC 1951) ending in a sync flush, so they
 * end on a byte boundary, refer to nothing before them and are not final. Any sequence of
 * segments after the zlib header (RFC 1950) is a valid deflate stream, so the same bytes go to
 * every client whatever it received before. What stays per client is the zlib trailer's
 * Adler-32 of everything sent, combined from each segment's checksum in constant time; the
 * stream ends with an empty final block and that trailer, so a decoder sees a complete stream.
 */
import zlib from 'node:zlib';

export interface Segment {
  readonly bytes: Buffer;
  /** Adler-32 of the uncompressed bytes, and their length. */
  readonly adler: number;
  readonly length: number;
}

/** The zlib header: deflate, 32 KiB window, default level, no dictionary (RFC 1950 §2.2). */
export const ZLIB_HEADER: Buffer = Buffer.from([0x78, 0x9c]);

/** The Adler-32 of nothing, where a stream's running checksum starts. */
export const ADLER_START = 1;

const BASE = 65521;
/** The most bytes summed before the sums must be reduced modulo BASE (zlib's NMAX). */
const NMAX = 5552;
/** An empty final fixed-Huffman block (RFC 1951 §3.2.3). */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

export function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let at = 0; at < bytes.length;) {
    const end = Math.min(at + NMAX, bytes.length);
    for (; at < end; at += 1) {
      a += bytes[at] as number;
      b += a;
    }
    a %= BASE;
    b %= BASE;
  }
  return ((b << 16) | a) >>> 0;
}

/** The Adler-32 of A followed by B from theirs and B's length (zlib's adler32_combine). */
export function adler32Combine(first: number, second: number, secondLength: number): number {
  const rem = secondLength % BASE;
  let sum1 = first & 0xffff;
  let sum2 = (rem * sum1) % BASE;
  sum1 += (second & 0xffff) + BASE - 1;
  sum2 += ((first >>> 16) & 0xffff) + ((second >>> 16) & 0xffff) + BASE - rem;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum2 >= BASE * 2) sum2 -= BASE * 2;
  if (sum2 >= BASE) sum2 -= BASE;
  return ((sum2 << 16) | sum1) >>> 0;
}

/** `plain` compressed on its own, to follow any other segment. */
export function segment(plain: Buffer): Segment {
  const bytes = zlib.deflateRawSync(plain, {
    level: zlib.constants.Z_BEST_SPEED,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  return { bytes, adler: adler32(plain), length: plain.length };
}

/** What ends a stream whose segments summed to `adler`: the final block and the trailer. */
export function trailer(adler: number): Buffer {
  const bytes = Buffer.alloc(FINAL_BLOCK.length + 4);
  FINAL_BLOCK.copy(bytes);
  bytes.writeUInt32BE(adler, FINAL_BLOCK.length);
  return bytes;
}

/**
 * Whether an `Accept-Encoding` header accepts deflate (RFC 9110 §12.5.3): named, or by `*`
 * when not named; `q=0` refuses.
 */
export function acceptsDeflate(header: string | undefined): boolean {
  if (header === undefined) return false;
  const weights = new Map<string, number>();
  for (const part of header.toLowerCase().split(',')) {
    const [coding = '', ...params] = part.split(';').map((p) => p.trim());
    const q = params.find((p) => p.startsWith('q='));
    weights.set(coding, q === undefined ? 1 : Number(q.slice(2)));
  }
  const weight = weights.get('deflate') ?? weights.get('*') ?? 0;
  return weight > 0;
}
