/**
 * How a tool's names become shiplog's service, environment and version (DESIGN.md §7): explicit
 * rules from the config first, then the defaults every adapter shares.
 */
import { NAME_PATTERN } from '../domain/event.js';
import { compilePattern, type ConfiguredPattern } from '../domain/pattern.js';

/**
 * A rule's `match` is an exact string, a glob (`*` any run of characters, `?` one character) or
 * a regular expression written `/.../flags`. Matching is case-insensitive except for regexes,
 * which carry their own flags. Globs and regexes run with RE2 semantics (src/domain/pattern.ts):
 * they see tool-supplied names, so they must not backtrack.
 */
export interface MappingRule {
  readonly match: string;
}

/** Rules from the config, tried in order; the first rule that matches any candidate wins. */
export interface MappingRules {
  /** Matched against the repository / application / job (full name and short name). */
  readonly services?: readonly (MappingRule & { readonly service: string })[];
  /** Matched against the tool's environment name, stage, job name or branch. */
  readonly environments?: readonly (MappingRule & { readonly environment: string })[];
  /** Matched against the cluster name or server (Argo CD) or a REGION build parameter (Jenkins). */
  readonly regions?: readonly (MappingRule & { readonly region: string })[];
}

/** Options every adapter takes. */
export interface AdapterOptions {
  readonly rules?: MappingRules;
}

const NAME = new RegExp(NAME_PATTERN);
const compiled = new Map<string, ConfiguredPattern | null>();

function toPattern(match: string): ConfiguredPattern | null {
  let re = compiled.get(match);
  if (re !== undefined) return re;
  re = null;
  const literal = /^\/(.+)\/([a-z]*)$/s.exec(match);
  try {
    if (literal) {
      const [, source = '', flags = ''] = literal;
      re = compilePattern(source, flags);
    } else if (/[*?]/.test(match)) {
      const body = match
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('*', '.*')
        .replaceAll('?', '.');
      re = compilePattern(`^${body}$`, 'i');
    }
  } catch {
    re = null; // an invalid regex in the config never matches; config validation reports it
  }
  compiled.set(match, re);
  return re;
}

/** Whether a rule's `match` accepts `candidate`. */
function matches(match: string, candidate: string): boolean {
  const re = toPattern(match);
  if (re) return re.test(candidate);
  return match.toLowerCase() === candidate.toLowerCase();
}

/** The first rule (in rule order) that matches one of the candidates. */
export function firstMatch<R extends MappingRule>(
  rules: readonly R[] | undefined,
  candidates: readonly (string | undefined)[],
): R | undefined {
  if (!Array.isArray(rules)) return undefined;
  const present = candidates.filter((c): c is string => typeof c === 'string' && c !== '');
  return rules.find((rule) => typeof rule?.match === 'string' && present.some((c) => matches(rule.match, c)));
}

/**
 * A tool's name as a shiplog name (`^[a-z0-9][a-z0-9._-]{0,62}$`): lower-cased, spaces and
 * other characters → `-`, runs of `-` collapsed, leading punctuation dropped, cut to 63.
 * `undefined` when nothing usable is left.
 */
export function toName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const name = value
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63)
    .replace(/[-.]+$/, '');
  return NAME.test(name) ? name : undefined;
}

/** `octo-org/checkout-api` → `checkout-api` (also strips `.git` and trailing slashes). */
export function shortName(repository: string | undefined): string | undefined {
  if (repository === undefined) return undefined;
  const parts = repository
    .replace(/\.git$/, '')
    .split('/')
    .filter((p) => p !== '');
  return parts.at(-1);
}

/** The service: a matching rule, else the short name of `fallback`, as a shiplog name. */
export function resolveService(
  rules: MappingRules | undefined,
  candidates: readonly (string | undefined)[],
  fallback: string | undefined,
): string | undefined {
  const rule = firstMatch(rules?.services, candidates);
  return toName(rule ? rule.service : shortName(fallback));
}

/** The environment: a matching rule, else the tool's name lower-cased, spaces → `-`. */
export function resolveEnvironment(
  rules: MappingRules | undefined,
  candidates: readonly (string | undefined)[],
  fallback: string | undefined,
): string | undefined {
  const rule = firstMatch(rules?.environments, candidates);
  return toName(rule ? rule.environment : fallback);
}

/** The region: a matching rule, else `fallback` as a name. */
export function resolveRegion(
  rules: MappingRules | undefined,
  candidates: readonly (string | undefined)[],
  fallback: string | undefined,
): string | undefined {
  const rule = firstMatch(rules?.regions, candidates);
  return toName(rule ? rule.region : fallback);
}

const VERSION = /^v?\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const COMMIT = /^[0-9a-f]{7,64}$/i;

/** Whether a tag or ref names a version: `v1.2.3`, `1.2.3`, `1.2.3-rc.1`, `1.2`. */
export function looksLikeVersion(ref: string): boolean {
  return VERSION.test(ref);
}

/** `refs/tags/v1.2.3` → `v1.2.3`, `refs/heads/main` → `main`. */
function stripRef(ref: string): string {
  return ref.replace(/^refs\/(?:tags|heads)\//, '');
}

/** Whether the text is a (possibly abbreviated) hex commit id. */
export function isCommit(value: string | undefined): value is string {
  return value !== undefined && COMMIT.test(value);
}

/**
 * The version: the first ref/tag that looks like a version, else the 7-character short commit,
 * else `undefined`.
 */
export function resolveVersion(
  refs: readonly (string | undefined)[],
  commit: string | undefined,
): string | undefined {
  for (const ref of refs) {
    if (ref === undefined) continue;
    const name = stripRef(ref);
    if (looksLikeVersion(name)) return name;
  }
  return isCommit(commit) ? commit.slice(0, 7).toLowerCase() : undefined;
}

/** The actor: the first login that is not a bot, else the first login. */
export function pickActor(logins: readonly (string | undefined)[]): string | undefined {
  const present = logins.filter((l): l is string => l !== undefined && l !== '');
  return present.find((l) => !l.endsWith('[bot]')) ?? present[0];
}
