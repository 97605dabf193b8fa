import { describe, expect, it } from 'vitest';
import { identityKey, sameIdentity, skeleton } from './identity.js';

describe('identity comparison', () => {
  it('regression: the review look-alikes of "appr" are appr (case, space, Cyrillic, zero-width, fullwidth)', () => {
    for (const name of [
      'APPR',
      'appr ',
      ' appr',
      '\u0430ppr',
      'appr\u200b',
      '\uff41ppr',
      'ap\u00adpr',
      'appr\ufe0f',
    ]) {
      expect(sameIdentity(name, 'appr'), JSON.stringify(name)).toBe(true);
    }
  });

  it('treats UTS #39 confusables as one person, and different people as different', () => {
    expect(sameIdentity('carol', 'car0l')).toBe(true); // digit zero
    expect(sameIdentity('paypal', '\u0440\u0430y\u0440\u0430l')).toBe(true); // Cyrillic р and а
    expect(sameIdentity('Straße', 'STRASSE')).toBe(true); // case folding
    expect(sameIdentity('alice', 'alicia')).toBe(false);
    expect(sameIdentity('bob', 'rob')).toBe(false);
    expect(identityKey('Dave')).toBe(identityKey('dave'));
  });

  it('computes the skeleton from the confusables table: NFD, prototypes, NFD', () => {
    expect(skeleton('\u0430')).toBe('a');
    expect(skeleton('1')).toBe('l');
    expect(skeleton('é')).toBe('e\u0301');
  });
});
