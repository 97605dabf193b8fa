/**
 * Alertmanager label matchers (`severity="critical"`, `service=~"checkout-.*"`,
 * `environment!="dev"`, `team!~"a|b"`), with Alertmanager's meaning: a regular expression is
 * anchored at both ends, a missing label is the empty string. One parser for every place
 * shiplog.yaml takes a matcher: the alert routing tree, and the silences of `alerts.suppression`
 * (which go to Alertmanager's API v2 in this very shape, `{name, value, isRegex, isEqual}`, and
 * hold shiplog's own alerts the same way). Regular expressions are compiled with RE2 semantics
 * (src/domain/pattern.ts), like Alertmanager's Go regexp and every configured pattern in shiplog.
 */
import { compilePattern } from '../domain/pattern.js';

/** One matcher, in Alertmanager's API v2 shape. */
export interface Matcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual: boolean;
}

export type Labels = Readonly<Record<string, string>>;

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** Parses `name="value"` (`=`, `!=`, `=~`, `!~`; the value quoted or bare); throws an Error saying why not. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new Error('must be a matcher like severity!="critical" (operators = != =~ !~)');
  const [, name = '', op = '', raw = ''] = m;
  let value = raw;
  if (raw.startsWith('"')) {
    if (!raw.endsWith('"') || raw.length < 2) throw new Error('has an unterminated quoted value');
    try {
      value = JSON.parse(raw) as string;
    } catch {
      throw new Error('has a quoted value that is not a valid string');
    }
  } else if (/[",{}]/.test(raw)) {
    throw new Error('has an unquoted value with ", {, } or a comma: quote it');
  }
  const isRegex = op === '=~' || op === '!~';
  if (isRegex) {
    try {
      compilePattern(`^(?:${value})$`);
    } catch (error) {
      throw new Error(`has an invalid regular expression (${(error as Error).message})`);
    }
  }
  return Object.freeze({ name, value, isRegex, isEqual: op === '=' || op === '=~' });
}

/** Whether `labels` meet one matcher (regexes are compiled once and cached by src/domain/pattern.ts). */
export function matches(matcher: Matcher, labels: Labels): boolean {
  const value = labels[matcher.name] ?? '';
  const hit = matcher.isRegex
    ? compilePattern(`^(?:${matcher.value})$`).test(value)
    : value === matcher.value;
  return hit === matcher.isEqual;
}

/** True when `labels` satisfy every matcher. */
export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((m) => matches(m, labels));
}

/** `name="value"` form of a matcher, for messages and docs. */
export function formatMatcher(matcher: Matcher): string {
  const op = matcher.isRegex ? (matcher.isEqual ? '=~' : '!~') : matcher.isEqual ? '=' : '!=';
  return `${matcher.name}${op}${JSON.stringify(matcher.value)}`;
}
