/**
 * Alertmanager matchers (`severity!="critical"`, `team=~"pay.*"`) as shiplog's silences use
 * them: parsed from the configuration, sent to Alertmanager's API v2 as `{name, value, isRegex,
 * isEqual}`, and evaluated on shiplog's own alert labels so its own non-critical alerts are
 * held the same way. Regexes are anchored, like Alertmanager's, and run with RE2 semantics
 * (src/domain/pattern.ts), like Alertmanager's Go regexp.
 */
import { compilePattern } from '../domain/pattern.js';

/** One matcher in Alertmanager's API v2 shape. */
export interface SilenceMatcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual: boolean;
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** Parses `name="value"` (`=`, `!=`, `=~`, `!~`; the value quoted or bare); throws an Error saying why not. */
export function parseMatcher(text: string): SilenceMatcher {
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

/** Whether `labels` meet one matcher; a missing label is the empty string, as in Alertmanager. */
export function matches(matcher: SilenceMatcher, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[matcher.name] ?? '';
  const hit = matcher.isRegex
    ? compilePattern(`^(?:${matcher.value})$`).test(value)
    : value === matcher.value;
  return hit === matcher.isEqual;
}

/** `name="value"` form of a matcher, for messages and docs. */
export function formatMatcher(matcher: SilenceMatcher): string {
  const op = (matcher.isEqual ? '' : '!') + (matcher.isRegex ? '~' : '=');
  return `${matcher.name}${op === '~' ? '=~' : op}${JSON.stringify(matcher.value)}`;
}
