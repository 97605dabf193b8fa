/**
 * `verification:` of shiplog.yaml (DESIGN.md §11): the health checks run after a deployment
 * succeeds and after a rollback. Field names and meanings follow Argo Rollouts' analysis
 * metrics (`successCondition`, `interval`, `count`, `failureLimit`, `consecutiveErrorLimit`,
 * `initialDelay`), so a team that writes AnalysisTemplates reads these as written.
 *
 * ```yaml
 * verification:
 *   - name: prod-errors
 *     match: {environment: production}
 *     prometheus: {url: http://127.0.0.1:9090, query: 'sum(rate(http_errors_total{service="{{service}}"}[1m]))'}
 *     successCondition: 'result < 0.5'
 *     interval: 30s
 *     count: 10
 *     failureLimit: 1
 *   - name: version-answered
 *     http: {url: 'http://{{service}}.internal/version', expectStatus: 200, expectBody: '{{version}}'}
 * ```
 */
import { positiveDuration } from '../config.js';
import { NAME_PATTERN } from '../domain/event.js';
import { isRecord } from '../policy/policy-problems.js';
import { isHttpUrl } from '../alerts/suppression-config.js';
import { ExpressionError, parseCondition, type Condition } from './expression.js';

/** Placeholders a URL, query or expected body may use, filled from the deployment. */
const PLACEHOLDERS = ['service', 'environment', 'version', 'region', 'deployment'] as const;

export interface PrometheusProbe {
  readonly kind: 'prometheus';
  readonly url: string;
  readonly query: string;
}

export interface HttpProbe {
  readonly kind: 'http';
  readonly url: string;
  readonly expectStatus: number;
  readonly expectBody?: string | undefined;
}

export interface VerificationCheck {
  readonly name: string;
  /** Labels the deployment must carry (service, environment, region, kind, or one of its labels). */
  readonly match: Readonly<Record<string, string>>;
  readonly probe: PrometheusProbe | HttpProbe;
  /** Prometheus checks only: what a successful measurement's `result` meets. */
  readonly successCondition?: Condition | undefined;
  readonly intervalMs: number;
  readonly count: number;
  readonly failureLimit: number;
  readonly consecutiveErrorLimit: number;
  readonly initialDelayMs: number;
  readonly timeoutMs: number;
}

type Problem = { path: (string | number)[]; message: string; atKey?: boolean };

const KEYS = [
  'name',
  'match',
  'prometheus',
  'http',
  'successCondition',
  'interval',
  'count',
  'failureLimit',
  'consecutiveErrorLimit',
  'initialDelay',
  'timeout',
];
const DEFAULTS = { interval: '30s', count: 1, failureLimit: 0, consecutiveErrorLimit: 4, timeout: '10s' };
const NAME = new RegExp(NAME_PATTERN);

/** Problems of the `verification:` list, paths from the top of the file. */
export function validateVerification(value: unknown): Problem[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return [{ path: ['verification'], message: 'must be a list of checks' }];
  const problems: Problem[] = [];
  const names = new Set<string>();
  value.forEach((check: unknown, i) => {
    const path = ['verification', i];
    if (!isRecord(check)) {
      problems.push({ path, message: 'must be a mapping (name, match, prometheus or http, ...)' });
      return;
    }
    const add = (key: string | null, message: string, atKey = false) =>
      problems.push({ path: key === null ? path : [...path, key], message, ...(atKey ? { atKey } : {}) });
    for (const key of Object.keys(check)) {
      if (!KEYS.includes(key)) add(key, `is not a known key (${KEYS.join(', ')})`, true);
    }
    if (typeof check.name !== 'string' || !NAME.test(check.name)) {
      add('name', 'is required: 1-63 characters of a-z 0-9 . _ -');
    } else if (names.has(check.name)) {
      add('name', 'is used by another check');
    } else names.add(check.name);
    if (check.match !== undefined) {
      if (!isRecord(check.match) || Object.values(check.match).some((v) => typeof v !== 'string'))
        add('match', 'must map label names to values ({environment: production})');
    }
    const hasProm = check.prometheus !== undefined;
    const hasHttp = check.http !== undefined;
    if (hasProm === hasHttp) add(null, 'must have exactly one of prometheus or http');
    if (hasProm) problems.push(...prometheusProblems(check.prometheus, [...path, 'prometheus']));
    if (hasHttp) problems.push(...httpProblems(check.http, [...path, 'http']));
    if (hasProm) {
      if (typeof check.successCondition !== 'string')
        add('successCondition', "is required: a condition like 'result < 0.5'");
      else {
        try {
          parseCondition(check.successCondition);
        } catch (error) {
          if (!(error instanceof ExpressionError)) throw error;
          add('successCondition', error.message);
        }
      }
    } else if (check.successCondition !== undefined) {
      add(
        'successCondition',
        'applies to prometheus checks only (http checks use expectStatus and expectBody)',
      );
    }
    for (const key of ['interval', 'initialDelay', 'timeout']) {
      if (check[key] === undefined) continue;
      if (key === 'initialDelay' && (check[key] === 0 || check[key] === '0s')) continue;
      try {
        positiveDuration(check[key]);
      } catch (error) {
        add(key, (error as Error).message);
      }
    }
    const whole = (key: string, min: number, max: number) => {
      const v = check[key];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max))
        add(key, `must be a whole number from ${min} to ${max}`);
    };
    whole('count', 1, 1000);
    whole('failureLimit', 0, 1000);
    whole('consecutiveErrorLimit', 0, 1000);
  });
  return problems;
}

function prometheusProblems(value: unknown, path: (string | number)[]): Problem[] {
  if (!isRecord(value)) return [{ path, message: 'must be a mapping with url and query' }];
  const problems: Problem[] = [];
  for (const key of Object.keys(value)) {
    if (key !== 'url' && key !== 'query')
      problems.push({ path: [...path, key], atKey: true, message: 'is not a known key (url, query)' });
  }
  if (typeof value.url !== 'string' || !isHttpUrl(value.url))
    problems.push({ path: [...path, 'url'], message: 'is required: the http(s) URL of Prometheus' });
  if (typeof value.query !== 'string' || value.query.trim() === '')
    problems.push({ path: [...path, 'query'], message: 'is required: a PromQL query' });
  else problems.push(...placeholderProblems(value.query, [...path, 'query']));
  return problems;
}

function httpProblems(value: unknown, path: (string | number)[]): Problem[] {
  if (!isRecord(value)) return [{ path, message: 'must be a mapping with url' }];
  const problems: Problem[] = [];
  for (const key of Object.keys(value)) {
    if (!['url', 'expectStatus', 'expectBody'].includes(key))
      problems.push({
        path: [...path, key],
        atKey: true,
        message: 'is not a known key (url, expectStatus, expectBody)',
      });
  }
  if (typeof value.url !== 'string' || !isHttpUrl(value.url.replaceAll(/\{\{\s*\w+\s*\}\}/g, 'x')))
    problems.push({
      path: [...path, 'url'],
      message: 'is required: an http(s) URL ({{service}} and others allowed)',
    });
  else problems.push(...placeholderProblems(value.url, [...path, 'url']));
  const status = value.expectStatus;
  if (
    status !== undefined &&
    (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
  )
    problems.push({ path: [...path, 'expectStatus'], message: 'must be an HTTP status from 100 to 599' });
  if (value.expectBody !== undefined) {
    if (typeof value.expectBody !== 'string' || value.expectBody === '')
      problems.push({ path: [...path, 'expectBody'], message: 'must be a non-empty string' });
    else problems.push(...placeholderProblems(value.expectBody, [...path, 'expectBody']));
  }
  return problems;
}

function placeholderProblems(text: string, path: (string | number)[]): Problem[] {
  const unknown = [...text.matchAll(/\{\{\s*(\w*)\s*\}\}/g)]
    .map((m) => m[1] ?? '')
    .filter((name) => !(PLACEHOLDERS as readonly string[]).includes(name));
  return unknown.length === 0
    ? []
    : [{ path, message: `names unknown placeholder {{${unknown[0]}}} (known: ${PLACEHOLDERS.join(', ')})` }];
}

/** A valid `verification:` list (call {@link validateVerification} first). */
export function parseVerification(value: unknown): VerificationCheck[] {
  if (!Array.isArray(value)) return [];
  return (value as Record<string, unknown>[]).map((check) => {
    const prom = check.prometheus as { url: string; query: string } | undefined;
    const http = check.http as { url: string; expectStatus?: number; expectBody?: string } | undefined;
    const probe: PrometheusProbe | HttpProbe = prom
      ? { kind: 'prometheus', url: prom.url.replace(/\/+$/, ''), query: prom.query }
      : {
          kind: 'http',
          url: (http as { url: string }).url,
          expectStatus: http?.expectStatus ?? 200,
          ...(http?.expectBody !== undefined ? { expectBody: http.expectBody } : {}),
        };
    const delay = check.initialDelay;
    return {
      name: check.name as string,
      match: { ...((check.match as Record<string, string> | undefined) ?? {}) },
      probe,
      successCondition:
        typeof check.successCondition === 'string' ? parseCondition(check.successCondition) : undefined,
      intervalMs: positiveDuration(check.interval ?? DEFAULTS.interval),
      count: (check.count as number | undefined) ?? DEFAULTS.count,
      failureLimit: (check.failureLimit as number | undefined) ?? DEFAULTS.failureLimit,
      consecutiveErrorLimit:
        (check.consecutiveErrorLimit as number | undefined) ?? DEFAULTS.consecutiveErrorLimit,
      initialDelayMs: delay === undefined || delay === 0 || delay === '0s' ? 0 : positiveDuration(delay),
      timeoutMs: positiveDuration(check.timeout ?? DEFAULTS.timeout),
    };
  });
}
