/**
 * Every regular expression that comes from configuration (`requireTicket`, the webhook mapping
 * rules, the ticket check's key pattern) runs on input an attacker controls: a ticket, a branch
 * name, a repository. JavaScript's backtracking engine takes exponential time on patterns like
 * `^([A-Z]+)+-[0-9]+$`, blocking the event loop for everyone. These patterns are compiled with
 * re2js instead (RE2 semantics: time linear in the input, no lookaround or backreferences),
 * and input longer than {@link PATTERN_INPUT_LIMIT} characters never matches.
 */
import { RE2JS } from 're2js';

/** Longer input never matches a configured pattern (and is never scanned). */
export const PATTERN_INPUT_LIMIT = 256;

/** A compiled configured pattern; `test` finds a match anywhere, like `RegExp.prototype.test`. */
export interface ConfiguredPattern {
  readonly source: string;
  test(input: string): boolean;
}

const FLAG_BITS: Readonly<Record<string, number>> = {
  i: RE2JS.CASE_INSENSITIVE,
  s: RE2JS.DOTALL,
  m: RE2JS.MULTILINE,
  // Without meaning for a yes/no match: global, sticky, unicode (RE2 is always Unicode-aware).
  g: 0,
  y: 0,
  u: 0,
};

const cache = new Map<string, ConfiguredPattern>();
const CACHE_LIMIT = 1000;

/**
 * Compiles `source` with RE2 semantics; flags are JavaScript's `i`, `s`, `m` (`g`, `y`, `u` are
 * accepted and ignored). Throws an Error naming the problem when RE2 cannot compile it.
 */
export function compilePattern(source: string, flags = ''): ConfiguredPattern {
  const key = `${flags}/${source}`;
  const known = cache.get(key);
  if (known) return known;
  let bits = 0;
  for (const flag of flags) {
    const bit = FLAG_BITS[flag];
    if (bit === undefined) throw new Error(`unknown flag "${flag}" (use i, s or m)`);
    bits |= bit;
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source, bits);
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(
      /^error parsing regexp: /,
      '',
    );
    const hint = /unsupported|escape/.test(message) ? ' (RE2 syntax: no lookaround or backreferences)' : '';
    throw new Error(`${message}${hint}`);
  }
  const pattern: ConfiguredPattern = Object.freeze({
    source,
    test: (input: string) => input.length <= PATTERN_INPUT_LIMIT && compiled.test(input),
  });
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, pattern);
  return pattern;
}

/** Why `source` is not a usable configured pattern; undefined when it is. */
export function patternProblem(source: string, flags = ''): string | undefined {
  try {
    compilePattern(source, flags);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
