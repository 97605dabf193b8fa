/**
 * Loads and validates the governance policy (the `environments:` section of `shiplog.yaml`).
 * Every problem is collected before anything is thrown, so one run of `shiplog serve` names
 * them all, each as `<file>:<line>:<col> <path>: <message>`. The schema checks the shape;
 * the checks here and in `freeze-checks.ts` add what a JSON Schema cannot say: known time
 * zones, compilable regular expressions, windows that are not empty, freezes that do not overlap.
 */
import { LineCounter, parseDocument } from 'yaml';
import { Compile } from 'typebox/compile';
import { NAME_PATTERN } from '../domain/event.js';
import { patternProblem } from '../domain/pattern.js';
import { ShiplogError } from '../errors.js';
import { checkFreezes } from './freeze-checks.js';
import {
  checkTimeZone,
  isRecord,
  jsonPath,
  jsonPointer,
  pointerSegments,
  schemaProblem,
  yamlSource,
  type ConfigPath,
  type PolicyProblem,
  type PolicySource,
} from './policy-problems.js';
import { parseDuration } from '../domain/duration.js';
import { EnvironmentsSchema, RULE_KEYS, minutesOfDay, type Policy } from './policy-schema.js';

const environmentsCheck = Compile(EnvironmentsSchema);

/**
 * Parses a YAML configuration file and returns its frozen policy. Only `environments:` is
 * read; other top-level sections belong to other parts of the configuration. Throws one
 * `ShiplogError` (`SHIPLOG_CONFIG`) listing every problem with its line and column.
 */
export function loadPolicyFile(text: string, fileName: string): Policy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((error) => {
      const pos = lineCounter.linePos(error.pos[0]);
      return `${fileName}:${pos.line}:${pos.col} (yaml): ${firstLine(error.message)}`;
    });
    throw configError(fileName, lines, []);
  }
  const source = yamlSource(doc, lineCounter, fileName);
  const root: unknown = doc.toJS();
  if (root !== null && root !== undefined && (typeof root !== 'object' || Array.isArray(root))) {
    throw configError(fileName, [`${fileName}:1:1 $: must be a mapping of sections`], []);
  }
  const environments =
    root === null || root === undefined ? undefined : (root as Record<string, unknown>).environments;
  return parsePolicy(environments ?? {}, source);
}

/**
 * Validates an already parsed `environments:` section and returns the frozen policy, or throws
 * one `ShiplogError` (`SHIPLOG_CONFIG`) listing every problem, located through `source`.
 */
export function parsePolicy(environments: unknown, source?: PolicySource): Policy {
  const problems = validatePolicy(environments);
  if (problems.length > 0) {
    const fileName = source?.fileName ?? 'shiplog.yaml';
    const located = problems
      .map((problem) => ({ problem, pos: source?.locate(problem.path, problem.atKey) }))
      .sort((a, b) => (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0));
    const lines = located.map(({ problem, pos }) => {
      const where = pos ? `${fileName}:${pos.line}:${pos.col} ` : '';
      return `${where}${jsonPath(problem.path)}: ${problem.message}`;
    });
    const details = located.map(({ problem }, i) => ({
      path: jsonPointer(problem.path),
      message: lines[i] ?? '',
    }));
    throw configError(fileName, lines, details);
  }
  return deepFreeze({ environments: structuredClone(environments) as Policy['environments'] });
}

/**
 * Every problem with an `environments:` section, paths starting at `environments`. Exported
 * so the configuration loader can merge them with the problems of other sections.
 */
export function validatePolicy(environments: unknown): PolicyProblem[] {
  const base = ['environments'];
  if (typeof environments !== 'object' || environments === null || Array.isArray(environments)) {
    return [{ path: base, message: 'must be a mapping of environment names to rules' }];
  }
  const problems: PolicyProblem[] = [];
  const nameRule = new RegExp(NAME_PATTERN);
  for (const error of environmentsCheck.Errors(environments)) {
    const segments = pointerSegments(error.instancePath);
    if (segments[1] === 'freezes' && segments.length >= 3) continue; // checked per freeze below
    problems.push(...schemaProblem([...base, ...segments], error));
  }
  for (const [name, env] of Object.entries(environments as Record<string, unknown>)) {
    const path = [...base, name];
    if (!nameRule.test(name)) {
      problems.push({
        path,
        atKey: true,
        message: 'environment names are 1-63 characters of a-z 0-9 . _ - (lower case)',
      });
    }
    if (isRecord(env)) problems.push(...checkEnvironment(env, path));
  }
  return dedupe(problems);
}

function checkEnvironment(env: Record<string, unknown>, path: ConfigPath): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  if (env.protected === undefined && RULE_KEYS.some((key) => env[key] !== undefined)) {
    problems.push({
      path,
      atKey: true,
      message:
        'has rules but no `protected`: set `protected: true` to enforce them or `false` for advice only',
    });
  }
  if (typeof env.requireTicket === 'string') {
    const problem = patternProblem(env.requireTicket);
    if (problem !== undefined) {
      problems.push({
        path: [...path, 'requireTicket'],
        message: `is not a valid regular expression (${problem})`,
      });
    }
  }
  if (typeof env.approvalTtl === 'string' && parseDuration(env.approvalTtl) === 0) {
    problems.push({ path: [...path, 'approvalTtl'], message: 'must be longer than 0' });
  }
  if (isRecord(env.approvers) && env.approvers.roles === undefined && env.approvers.names === undefined) {
    problems.push({ path: [...path, 'approvers'], message: 'must name `roles`, `names` or both' });
  }
  if (Array.isArray(env.windows)) {
    env.windows.forEach((window: unknown, i) =>
      problems.push(...checkWindow(window, [...path, 'windows', i])),
    );
  }
  if (Array.isArray(env.freezes)) problems.push(...checkFreezes(env.freezes, [...path, 'freezes']));
  return problems;
}

function checkWindow(window: unknown, path: ConfigPath): PolicyProblem[] {
  if (!isRecord(window)) return [];
  const problems = checkTimeZone(window.timezone, path);
  if (typeof window.from === 'string' && typeof window.to === 'string' && window.from === window.to) {
    problems.push({
      path: [...path, 'to'],
      message: `must differ from \`from\` (${window.from}); an earlier \`to\` means a window that runs overnight`,
    });
  } else if (typeof window.from === 'string' && window.to === '24:00' && minutesOfDay(window.from) === 0) {
    problems.push({
      path: [...path, 'to'],
      message: 'a window from 00:00 to 24:00 is the whole day: omit `windows`',
    });
  }
  return problems;
}

function configError(
  fileName: string,
  lines: string[],
  details: { path: string; message: string }[],
): ShiplogError {
  const count = lines.length === 1 ? '1 problem' : `${lines.length} problems`;
  return new ShiplogError(
    'SHIPLOG_CONFIG',
    `${fileName}: ${count} in the governance policy:\n${lines.join('\n')}`,
    details,
  );
}

function dedupe(problems: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${jsonPointer(problem.path)} ${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
