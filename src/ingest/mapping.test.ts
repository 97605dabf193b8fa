import { describe, expect, it } from 'vitest';
import {
  firstMatch,
  looksLikeVersion,
  pickActor,
  resolveService,
  resolveVersion,
  toName,
} from './mapping.js';
import { deploymentKey, eventId } from './payload.js';

describe('mapping defaults', () => {
  it('derives service names from repositories', () => {
    expect(resolveService(undefined, [], 'octo-org/checkout-api')).toBe('checkout-api');
    expect(resolveService(undefined, [], 'Codertocat/Hello-World')).toBe('hello-world');
    expect(resolveService(undefined, [], 'https://git.example/a/b/Pay Ments.git')).toBe('pay-ments');
  });

  it('sanitizes names to the event name pattern', () => {
    expect(toName('Production EU')).toBe('production-eu');
    expect(toName('--Staging__2')).toBe('staging__2');
    expect(toName('x'.repeat(80))).toHaveLength(63);
    expect(toName('***')).toBeUndefined();
    expect(toName('')).toBeUndefined();
  });

  it('takes versions from version-like refs, else the short commit', () => {
    expect(['v1.2.3', '1.2.3', '1.2.3-rc.1', '1.2', 'v2.0.0+build.5'].every(looksLikeVersion)).toBe(true);
    expect(['main', 'gh-pages', '1', 'v1', 'release-1.2'].some(looksLikeVersion)).toBe(false);
    expect(resolveVersion(['refs/tags/v1.4.0'], 'abcdef0123')).toBe('v1.4.0');
    expect(resolveVersion(['main'], 'ABCDEF0123')).toBe('abcdef0');
    expect(resolveVersion(['main'], undefined)).toBeUndefined();
  });

  it('prefers a human actor over a bot', () => {
    expect(pickActor([undefined, 'github-actions[bot]', 'alice'])).toBe('alice');
    expect(pickActor(['dependabot[bot]'])).toBe('dependabot[bot]');
  });

  it('matches rules exactly, by glob and by regex, first rule first', () => {
    const rules = [
      { match: 'octo-org/legacy', service: 'a' },
      { match: 'octo-org/*-api', service: 'b' },
      { match: '/^OCTO-ORG\\/.*$/i', service: 'c' },
      { match: '/(/', service: 'invalid regex never matches' },
    ];
    expect(firstMatch(rules, ['Octo-Org/Legacy'])?.service).toBe('a');
    expect(firstMatch(rules, ['octo-org/checkout-api'])?.service).toBe('b');
    expect(firstMatch(rules, ['octo-org/web'])?.service).toBe('c');
    expect(firstMatch(rules, ['other/web'])).toBeUndefined();
  });

  it('builds deployment keys and ids the event schema accepts', () => {
    expect(deploymentKey('github', 'octo-org/checkout api', '42')).toBe('github:octo-org:checkout-api:42');
    const long = deploymentKey('jenkins', 'x'.repeat(400), '1');
    expect(long.length).toBeLessThanOrEqual(256);
    expect(long).not.toBe(deploymentKey('jenkins', `${'x'.repeat(399)}y`, '1'));
    expect(eventId('abc')).toBe('abc');
    expect(eventId('a\nb')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(eventId('x'.repeat(129))).toMatch(/^sha256:/);
  });

  it('regression: a backtracking regex rule answers at once (RE2) and ignores over-long candidates', () => {
    const rules = [{ match: '/^(a+)+$/', service: 'evil' }];
    expect(firstMatch(rules, [`${'a'.repeat(100)}!`])).toBeUndefined();
    expect(firstMatch(rules, ['aaaa'])).toEqual(rules[0]);
    expect(firstMatch([{ match: '*-api', service: 's' }], [`${'x'.repeat(300)}-api`])).toBeUndefined();
  });
});
