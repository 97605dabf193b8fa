import { describe, expect, it } from 'vitest';
import { formatCheckpoint, parseCheckpoint, signCheckpoint, verifyCheckpoint } from './checkpoint.js';
import { leafHash, nodeHash } from './merkle.js';
import { generateSigner, parseSignerKey, parseVerifierKey, signNote } from './note.js';

const ORIGIN = 'shiplog.example.com/ledger';
const ROOT = Buffer.from('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328', 'hex');
const ROOT_B64 = 'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=';
const BODY = `${ORIGIN}\n8\n${ROOT_B64}\n`;

describe('checkpoint body (C2SP tlog-checkpoint)', () => {
  it('formats origin, decimal size and base64 root, one per line', () => {
    expect(formatCheckpoint({ origin: ORIGIN, size: 8, rootHash: ROOT })).toBe(BODY);
    expect(formatCheckpoint({ origin: ORIGIN, size: 8, rootHash: ROOT, extensions: ['ext one'] })).toBe(
      `${BODY}ext one\n`,
    );
    expect(formatCheckpoint({ origin: ORIGIN, size: 2 ** 40, rootHash: ROOT })).toContain(
      '\n1099511627776\n',
    );
  });

  it('parses what it formats', () => {
    const parsed = parseCheckpoint(`${BODY}ext\n`);
    expect(parsed.origin).toBe(ORIGIN);
    expect(parsed.size).toBe(8);
    expect(Buffer.from(parsed.rootHash).equals(ROOT)).toBe(true);
    expect(parsed.extensions).toEqual(['ext']);
    expect(parseCheckpoint(`${ORIGIN}\n0\n${ROOT_B64}\n`).size).toBe(0);
  });

  it.each([
    ['no final newline', BODY.slice(0, -1)],
    ['empty origin', `\n8\n${ROOT_B64}\n`],
    ['leading zero', `${ORIGIN}\n08\n${ROOT_B64}\n`],
    ['sign', `${ORIGIN}\n+8\n${ROOT_B64}\n`],
    ['negative', `${ORIGIN}\n-8\n${ROOT_B64}\n`],
    ['fraction', `${ORIGIN}\n8.0\n${ROOT_B64}\n`],
    ['exponent', `${ORIGIN}\n8e0\n${ROOT_B64}\n`],
    ['space', `${ORIGIN}\n 8\n${ROOT_B64}\n`],
    ['hex', `${ORIGIN}\n0x8\n${ROOT_B64}\n`],
    ['empty size', `${ORIGIN}\n\n${ROOT_B64}\n`],
    ['size above 2^53', `${ORIGIN}\n9007199254740993\n${ROOT_B64}\n`],
    ['missing root', `${ORIGIN}\n8\n`],
    ['short root', `${ORIGIN}\n8\n${Buffer.alloc(31).toString('base64')}\n`],
    ['long root', `${ORIGIN}\n8\n${Buffer.alloc(33).toString('base64')}\n`],
    ['hex root', `${ORIGIN}\n8\n${ROOT.toString('hex')}\n`],
    ['unpadded root', `${ORIGIN}\n8\n${ROOT_B64.slice(0, -1)}\n`],
    ['url-safe root', `${ORIGIN}\n8\n${ROOT.toString('base64url')}=\n`],
    ['empty extension', `${BODY}\n`],
    ['carriage return', `${ORIGIN}\r\n8\n${ROOT_B64}\n`],
  ])('refuses a body with %s', (_, text) => {
    expect(() => parseCheckpoint(text)).toThrow(/malformed checkpoint/);
  });

  it('refuses to format an invalid checkpoint', () => {
    expect(() => formatCheckpoint({ origin: 'a\nb', size: 1, rootHash: ROOT })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: ORIGIN, size: -1, rootHash: ROOT })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: ORIGIN, size: 1.5, rootHash: ROOT })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: ORIGIN, size: 1, rootHash: ROOT.subarray(1) })).toThrow(
      TypeError,
    );
    expect(() => formatCheckpoint({ origin: ORIGIN, size: 1, rootHash: ROOT, extensions: [''] })).toThrow(
      TypeError,
    );
  });
});

describe('signed checkpoints', () => {
  const oldKey = generateSigner(ORIGIN);
  const newKey = generateSigner(ORIGIN);
  const root = nodeHash(leafHash(Uint8Array.of(1)), leafHash(Uint8Array.of(2)));

  it('signs a checkpoint as a note whose text is the body', () => {
    const note = signCheckpoint({ origin: ORIGIN, size: 2, rootHash: root }, oldKey.signer);
    const [body, signature] = note.split('\n\n');
    expect(`${body}\n`).toBe(formatCheckpoint({ origin: ORIGIN, size: 2, rootHash: root }));
    expect(signature).toMatch(new RegExp(`^— ${ORIGIN.replaceAll('.', '\\.')} [A-Za-z0-9+/]{91}=\\n$`));
    const verified = verifyCheckpoint(note, [oldKey.signer.verifier], { origin: ORIGIN });
    expect(verified).toMatchObject({ origin: ORIGIN, size: 2, extensions: [] });
    expect(Buffer.from(verified.rootHash).equals(Buffer.from(root))).toBe(true);
    expect(verified.verifiedBy).toEqual([oldKey.signer.verifier]);
  });

  it('keeps old checkpoints verifiable after a key rotation', () => {
    const before = signCheckpoint({ origin: ORIGIN, size: 1, rootHash: root }, oldKey.signer);
    const after = signCheckpoint(
      { origin: ORIGIN, size: 2, rootHash: root },
      parseSignerKey(newKey.signerKey),
    );
    const keys = [parseVerifierKey(oldKey.verifierKey), parseVerifierKey(newKey.verifierKey)];
    expect(verifyCheckpoint(before, keys).size).toBe(1);
    expect(verifyCheckpoint(before, keys).verifiedBy[0]?.verifierKey).toBe(oldKey.verifierKey);
    expect(verifyCheckpoint(after, keys).size).toBe(2);
    expect(verifyCheckpoint(after, keys).verifiedBy[0]?.verifierKey).toBe(newKey.verifierKey);
    // Without the old key the old checkpoint no longer verifies, and vice versa.
    expect(() => verifyCheckpoint(before, [keys[1] as (typeof keys)[1]])).toThrow(/no verifiable signatures/);
    expect(() => verifyCheckpoint(after, [keys[0] as (typeof keys)[0]])).toThrow(/no verifiable signatures/);
  });

  it('refuses a tampered checkpoint, a foreign origin and an unknown key', () => {
    const note = signCheckpoint({ origin: ORIGIN, size: 2, rootHash: root }, oldKey.signer);
    const keys = [oldKey.signer.verifier];
    expect(() => verifyCheckpoint(note.replace(`${ORIGIN}\n2\n`, `${ORIGIN}\n3\n`), keys)).toThrow(
      /invalid signature/,
    );
    expect(() => verifyCheckpoint(note, keys, { origin: 'other.example/log' })).toThrow(/not other\.example/);
    expect(() => verifyCheckpoint(note, [generateSigner(ORIGIN).signer.verifier])).toThrow(/no verifiable/);
  });

  it('refuses a validly signed note whose text is not a checkpoint', () => {
    const { signer } = generateSigner(ORIGIN);
    for (const text of [`${ORIGIN}\n02\n${ROOT_B64}\n`, `${ORIGIN}\n2\n`, 'hello\n']) {
      expect(() => verifyCheckpoint(signNote(text, signer), [signer.verifier]), text).toThrow(
        /malformed checkpoint/,
      );
    }
  });
});
