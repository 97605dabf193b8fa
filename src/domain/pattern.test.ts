import { describe, expect, it } from 'vitest';
import { PATTERN_INPUT_LIMIT, compilePattern, patternProblem } from './pattern.js';

describe('configured patterns run with RE2 semantics', () => {
  it('regression: a nested quantifier on a long non-matching ticket answers instead of backtracking', () => {
    // With JavaScript's RegExp this input takes longer than the age of the universe.
    const evil = compilePattern('^([A-Z]+)+-[0-9]+$');
    expect(evil.test(`${'A'.repeat(200)}!`)).toBe(false);
    expect(evil.test('OPS-123')).toBe(true);
  });

  it('rejects what needs backtracking (lookaround, backreferences) at configuration time', () => {
    expect(patternProblem('^(?=OPS)[A-Z]+-[0-9]+$')).toMatch(/RE2 syntax/);
    expect(patternProblem('^(a)\\1$')).toMatch(/RE2 syntax/);
    expect(patternProblem('^([A-Z]+-[0-9]+$')).toMatch(/missing closing \)/);
    expect(patternProblem('^[A-Z]+-[0-9]+$')).toBeUndefined();
    expect(patternProblem('x', 'q')).toMatch(/unknown flag/);
  });

  it(`never matches input longer than ${PATTERN_INPUT_LIMIT} characters`, () => {
    const any = compilePattern('^[A-Z]+-[0-9]+$');
    expect(any.test(`OPS-${'1'.repeat(PATTERN_INPUT_LIMIT - 4)}`)).toBe(true);
    expect(any.test(`OPS-${'1'.repeat(PATTERN_INPUT_LIMIT)}`)).toBe(false);
  });

  it('finds a match anywhere unless anchored, with the i, s and m flags', () => {
    expect(compilePattern('OPS').test('see OPS-1')).toBe(true);
    expect(compilePattern('^ops$', 'i').test('OPS')).toBe(true);
    expect(compilePattern('^a.b$', 's').test('a\nb')).toBe(true);
    expect(compilePattern('^b$', 'm').test('a\nb')).toBe(true);
    expect(compilePattern('^b$').test('a\nb')).toBe(false);
  });
});
