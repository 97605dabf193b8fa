/**
 * The shared-segment deflate of the live stream: segments compressed apart and concatenated
 * after the zlib header decode, with the combined Adler-32 trailer, as one strict zlib stream
 * (node's own inflate checks the checksum); and Accept-Encoding is read as RFC 9110 says.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ADLER_START,
  acceptsDeflate,
  adler32,
  adler32Combine,
  segment,
  trailer,
  ZLIB_HEADER,
} from './deflate.js';

/** zlib's own Adler-32 of `bytes`: the last four bytes of its zlib stream. */
const zlibAdler = (bytes: Buffer) => zlib.deflateSync(bytes).readUInt32BE(zlib.deflateSync(bytes).length - 4);

describe('stream deflate', () => {
  it('computes and combines Adler-32 as zlib does, across its reduction limits', () => {
    const sizes = [0, 1, 5551, 5552, 5553, 65520, 65521, 65522, 200_000];
    for (const size of sizes) {
      const bytes = crypto.randomBytes(size);
      expect(adler32(bytes)).toBe(zlibAdler(bytes));
    }
    for (const [a, b] of [
      [0, 0],
      [10, 0],
      [0, 10],
      [70_000, 65521],
      [3, 140_000],
    ] as const) {
      const first = crypto.randomBytes(a);
      const second = Buffer.alloc(b, 0xff);
      expect(adler32Combine(adler32(first), adler32(second), b)).toBe(
        zlibAdler(Buffer.concat([first, second])),
      );
    }
  });

  it('decodes segments compressed apart as one whole zlib stream', () => {
    const texts = ['id: 1\nevent: deployment\ndata: {}\n\n', '', ': heartbeat\n\n', 'x'.repeat(100_000)];
    let adler = ADLER_START;
    const parts = [ZLIB_HEADER];
    for (const text of texts) {
      const s = segment(Buffer.from(text));
      adler = adler32Combine(adler, s.adler, s.length);
      parts.push(s.bytes);
    }
    parts.push(trailer(adler));
    expect(zlib.inflateSync(Buffer.concat(parts)).toString()).toBe(texts.join(''));
    // A wrong checksum is caught: the trailer is what makes the stream whole.
    parts[parts.length - 1] = trailer((adler + 1) >>> 0);
    expect(() => zlib.inflateSync(Buffer.concat(parts))).toThrow(/incorrect data check/);
  });

  it('reads Accept-Encoding: named, by *, refused by q=0', () => {
    expect(acceptsDeflate(undefined)).toBe(false);
    expect(acceptsDeflate('')).toBe(false);
    expect(acceptsDeflate('gzip, deflate, br, zstd')).toBe(true);
    expect(acceptsDeflate('Deflate;q=0.5')).toBe(true);
    expect(acceptsDeflate('gzip, deflate;q=0')).toBe(false);
    expect(acceptsDeflate('*')).toBe(true);
    expect(acceptsDeflate('*, deflate;q=0')).toBe(false);
    expect(acceptsDeflate('gzip, *;q=0')).toBe(false);
    expect(acceptsDeflate('identity')).toBe(false);
  });
});
