/**
 * Problems found in the policy, and how they are shown: located in the YAML source (the
 * `yaml` package's node ranges and LineCounter give line and column) and named by a readable
 * path, `environments.production.windows[0].to`, with a JSON pointer (RFC 6901) beside it for
 * API error details.
 */
import { isMap, type Document, type LineCounter } from 'yaml';
import { isValidTimeZone } from './local-time.js';

/** A path into the configuration: `['environments', 'production', 'windows', 0, 'to']`. */
export type ConfigPath = readonly (string | number)[];

/** One thing wrong with the policy, before it is given a line number. */
export interface PolicyProblem {
  readonly path: ConfigPath;
  readonly message: string;
  /** The problem is the key itself (unknown key, bad name), not its value. */
  readonly atKey?: boolean;
}

/** Where the policy came from, so problems can be given a file, line and column. */
export interface PolicySource {
  readonly fileName: string;
  /** 1-based line and column of the value (or key) at `path`, or of its nearest existing ancestor. */
  locate(path: ConfigPath, atKey?: boolean): { line: number; col: number } | undefined;
}

/**
 * Locates paths in a parsed YAML document. A path may name a missing key ("is required"); it
 * is then shown at its nearest existing ancestor.
 */
export function yamlSource(doc: Document, lineCounter: LineCounter, fileName: string): PolicySource {
  return {
    fileName,
    locate(path, atKey = false) {
      const parent = path.length > 0 ? doc.getIn(path.slice(0, -1), true) : undefined;
      if (atKey && isMap(parent)) {
        const pair = parent.items.find((item) => keyOf(item.key) === String(path[path.length - 1]));
        const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
        if (range) return lineCounter.linePos(range[0]);
      }
      for (let n = path.length; n >= 0; n--) {
        const prefix = path.slice(0, n);
        const node = doc.getIn(prefix, true) as { range?: [number, number, number] } | undefined;
        if (node?.range) return lineCounter.linePos(node.range[0]);
      }
      return { line: 1, col: 1 };
    },
  };
}

function keyOf(key: unknown): string {
  if (key !== null && typeof key === 'object' && 'value' in key) return String(key.value);
  return String(key);
}

/** Turns one TypeBox validation error into problems with readable messages. */
export function schemaProblem(
  path: ConfigPath,
  error: { keyword: string; message: string; params: unknown },
): PolicyProblem[] {
  const params = error.params as {
    additionalProperties?: string[];
    requiredProperties?: string[];
    allowedValues?: unknown[];
  };
  if (error.keyword === 'boolean') return []; // reported by its additionalProperties error
  if (error.keyword === 'additionalProperties' && params.additionalProperties) {
    return params.additionalProperties.map((key) => ({
      path: [...path, key],
      atKey: true,
      message: 'is not a known key',
    }));
  }
  if (error.keyword === 'required' && params.requiredProperties) {
    return params.requiredProperties.map((key) => ({ path: [...path, key], message: 'is required' }));
  }
  if (error.keyword === 'enum' && params.allowedValues) {
    return [{ path, message: `must be one of ${params.allowedValues.join(', ')}` }];
  }
  if (error.keyword === 'pattern') return [{ path, message: patternMessage(path) }];
  return [{ path, message: error.message }];
}

function patternMessage(path: ConfigPath): string {
  const key = path[path.length - 1];
  const parent = path[path.length - 2];
  if (key === 'from' || key === 'to') {
    if (path.includes('windows'))
      return key === 'to' ? 'must be HH:MM (00:00-23:59, or 24:00)' : 'must be HH:MM (00:00-23:59)';
    return 'must be MM-DD for `every: year`, `<day> HH:MM` (e.g. fri 18:00) for `every: week`';
  }
  if (key === 'approvalTtl') return 'must be a duration like 30m, 24h, 7d or 1d12h';
  if (parent === 'fields') return 'must be ticket, justification, commit or labels.<key>';
  return 'has the wrong format';
}

/** A problem when `timezone` is a string Intl does not know. */
export function checkTimeZone(timezone: unknown, path: ConfigPath): PolicyProblem[] {
  if (typeof timezone !== 'string' || isValidTimeZone(timezone)) return [];
  return [
    {
      path: [...path, 'timezone'],
      message: `unknown time zone "${timezone}" (use an IANA name like Europe/Berlin)`,
    },
  ];
}

/** A plain mapping (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `/production/windows/0` to `['production', 'windows', '0']` (RFC 6901 unescaping). */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** A path as a JSON pointer (RFC 6901), for `ErrorDetail.path`. */
export function jsonPointer(path: ConfigPath): string {
  return path.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** `environments.production.windows[0].to`; odd keys quoted: `environments["eu.prod"]`. */
export function jsonPath(path: ConfigPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number' || /^[0-9]+$/.test(segment)) out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '$' : out;
}
