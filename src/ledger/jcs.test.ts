import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalJson } from './jcs.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

describe('canonicalBytes (RFC 8785)', () => {
  it('sorts properties by UTF-16 code units, recursively, without whitespace', () => {
    expect(text(canonicalBytes({ b: [3, { z: 1, a: 2 }], a: 'x', '\u20ac': 1, '\r': 2, '1': 3 }))).toBe(
      '{"\\r":2,"1":3,"a":"x","b":[3,{"a":2,"z":1}],"€":1}',
    );
  });

  it('formats numbers and escapes strings as RFC 8785 §3.2.2 requires', () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1 + 0.2, 333333333.3333333, 4.5])).toBe(
      '[1e+21,1e-7,0,0.30000000000000004,333333333.3333333,4.5]',
    );
    expect(canonicalJson('\u0000\u001f"\\/é\u2028')).toBe('"\\u0000\\u001f\\"\\\\/é\u2028"');
  });

  it('encodes the canonical text as UTF-8', () => {
    expect(Buffer.from(canonicalBytes({ name: 'é€😀' })).toString('hex')).toBe(
      Buffer.from('{"name":"é€😀"}', 'utf8').toString('hex'),
    );
  });

  it('drops undefined properties and gives the same bytes for the same record in any key order', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(canonicalBytes({ x: 1, y: { p: true, q: null } })).toEqual(
      canonicalBytes({ y: { q: null, p: true }, x: 1 }),
    );
  });

  it('refuses values with no canonical form', () => {
    expect(() => canonicalBytes(undefined)).toThrow(TypeError);
    expect(() => canonicalBytes(() => 1)).toThrow(TypeError);
    expect(() => canonicalBytes({ a: Number.NaN })).toThrow();
    expect(() => canonicalBytes({ a: Number.POSITIVE_INFINITY })).toThrow();
    expect(() => canonicalBytes('\ud800')).toThrow();
    expect(() => canonicalBytes({ n: 1n })).toThrow();
  });
});
