/**
 * Ledger entry bytes: the UTF-8 of the RFC 8785 (JSON Canonicalization Scheme) form of a stored
 * record (DESIGN.md §4). RFC 8785 §3.2 fixes property order (sorted by UTF-16 code units),
 * number formatting (ECMAScript `Number.prototype.toString`) and string escaping, so anyone
 * holding the record can recompute the exact bytes that were hashed into the tree.
 */
import canonicalize from 'canonicalize';

const utf8 = new TextEncoder();

/**
 * The RFC 8785 canonical JSON text of `record`. Throws a TypeError when the value has no JSON
 * form (`undefined`, a function) and an Error for values RFC 8785 forbids (NaN, Infinity,
 * lone surrogates, BigInt, cycles).
 */
export function canonicalJson(record: unknown): string {
  const text = canonicalize(record);
  if (text === undefined) throw new TypeError('the record has no JSON representation');
  return text;
}

/** The ledger entry bytes of `record`: the UTF-8 of its RFC 8785 canonical JSON. */
export function canonicalBytes(record: unknown): Uint8Array {
  return utf8.encode(canonicalJson(record));
}
