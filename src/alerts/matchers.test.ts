import { describe, expect, it } from 'vitest';
import { formatMatcher, matches, parseMatcher } from './matchers.js';

describe('Alertmanager matchers', () => {
  it('parses the four operators, quoted or bare, into API v2 matchers', () => {
    expect(parseMatcher('severity!="critical"')).toEqual({
      name: 'severity',
      value: 'critical',
      isRegex: false,
      isEqual: false,
    });
    expect(parseMatcher('team=~"pay.*"')).toMatchObject({ isRegex: true, isEqual: true });
    expect(parseMatcher('team !~ ops')).toMatchObject({ value: 'ops', isRegex: true, isEqual: false });
    expect(parseMatcher('a="x\\"y"').value).toBe('x"y');
    for (const text of ['severity!="critical"', 'team=~"pay.*"', 'team!~"ops"', 'a="b"']) {
      expect(formatMatcher(parseMatcher(text))).toBe(text);
    }
  });

  it('refuses what Alertmanager would', () => {
    expect(() => parseMatcher('severity')).toThrow('must be a matcher');
    expect(() => parseMatcher('team=~"("')).toThrow('invalid regular expression');
    expect(() => parseMatcher('a="open')).toThrow('unterminated');
  });

  it('matches labels as Alertmanager does: anchored regexes, a missing label is empty', () => {
    expect(matches(parseMatcher('severity!="critical"'), { severity: 'warning' })).toBe(true);
    expect(matches(parseMatcher('severity!="critical"'), { severity: 'critical' })).toBe(false);
    expect(matches(parseMatcher('severity!="critical"'), {})).toBe(true);
    expect(matches(parseMatcher('team=~"pay"'), { team: 'payments' })).toBe(false);
    expect(matches(parseMatcher('team=~"pay.*"'), { team: 'payments' })).toBe(true);
    expect(matches(parseMatcher('team=""'), {})).toBe(true);
  });
});
