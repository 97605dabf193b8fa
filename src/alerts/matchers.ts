/**
 * Alertmanager label matchers (`severity="critical"`, `service=~"checkout-.*"`,
 * `environment!="dev"`, `team!~"a|b"`), with Alertmanager's meaning: a regular expression is
 * anchored at both ends, a missing label is the empty string. Regular expressions are compiled
 * with RE2 semantics (src/domain/pattern.ts), like every configured pattern in shiplog.
 */
import { compilePattern, type ConfiguredPattern } from '../domain/pattern.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** Compiled for `=~` and `!~`. */
  readonly pattern?: ConfiguredPattern;
}

export type Labels = Readonly<Record<string, string>>;

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** Parses one matcher; throws an Error whose message says what is wrong. */
export function parseMatcher(text: string): Matcher {
  const match = MATCHER.exec(text);
  if (!match) throw new Error(`"${text}" is not a matcher (label="value", !=, =~ or !~)`);
  const [, name = '', op = '=', raw = ''] = match;
  const value = unquote(raw);
  if (op === '=~' || op === '!~') {
    let pattern: ConfiguredPattern;
    try {
      pattern = compilePattern(`^(?:${value})$`);
    } catch (error) {
      throw new Error(`"${text}": bad regular expression: ${(error as Error).message}`);
    }
    return { name, op, value, pattern };
  }
  return { name, op: op as MatchOp, value };
}

function unquote(raw: string): string {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
    try {
      return JSON.parse(raw) as string;
    } catch {
      throw new Error(`${raw} is not a valid quoted string`);
    }
  }
  if (raw.includes('"')) throw new Error(`${raw}: quote the whole value or none of it`);
  return raw;
}

/** True when `labels` satisfy `matcher`. */
export function matches(matcher: Matcher, labels: Labels): boolean {
  const value = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return matcher.pattern?.test(value) ?? false;
    case '!~':
      return !(matcher.pattern?.test(value) ?? false);
  }
}

/** True when `labels` satisfy every matcher. */
export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((m) => matches(m, labels));
}
