import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.js';

describe('strict base64 (RFC 4648 §4)', () => {
  it('round-trips bytes', () => {
    for (const length of [0, 1, 2, 3, 31, 32, 33]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + 11) % 256);
      expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
    }
    expect(encodeBase64(Uint8Array.of(0xfb, 0xff))).toBe('+/8=');
  });

  it('refuses what a lenient decoder would accept', () => {
    for (const bad of ['A', 'AB', 'AB=', 'AB==A', 'A B=', 'AB\n==', '-_8=', '+/9=', 'AA==AA==', '====']) {
      expect(decodeBase64(bad), bad).toBeUndefined();
    }
  });
});
