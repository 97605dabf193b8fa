/**
 * `alerts.suppression:` of shiplog.yaml (DESIGN.md §11): the Alertmanager shiplog silences
 * while a service deploys.
 *
 * ```yaml
 * alerts:
 *   suppression:
 *     alertmanager:
 *       url: http://127.0.0.1:9093
 *       matchers: ['severity!="critical"']   # added to service="S", environment="E"
 *       grace: 10m                           # the silence ends this long after the final state
 *       lease: 5m                            # how far ahead each renewal extends it
 *       maxHold: 6h                          # a deployment that never finishes stops holding it
 * ```
 */
import { positiveDuration } from '../config.js';
import { parseDuration } from '../domain/duration.js';
import { isRecord } from '../policy/policy-problems.js';
import { parseMatcher, type Matcher } from './matchers.js';

export interface SuppressionSettings {
  /** Base URL of Alertmanager (its API v2 is under `/api/v2`). */
  readonly url: string;
  /** Added to `service="S"` and `environment="E"`; default `severity!="critical"`. */
  readonly matchers: readonly Matcher[];
  readonly graceMs: number;
  readonly leaseMs: number;
  readonly maxHoldMs: number;
}

type Problem = { path: (string | number)[]; message: string; atKey?: boolean };

const DEFAULT_SUPPRESSION = Object.freeze({
  matchers: ['severity!="critical"'],
  grace: '10m',
  lease: '5m',
  maxHold: '6h',
});

const KEYS = ['url', 'matchers', 'grace', 'lease', 'maxHold'];

/** Problems of `alerts.suppression` (the value under `alerts:`), paths from the top of the file. */
export function validateSuppression(value: unknown): Problem[] {
  const base = ['alerts', 'suppression'];
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [{ path: base, message: 'must be a mapping with alertmanager' }];
  const problems: Problem[] = [];
  for (const key of Object.keys(value)) {
    if (key !== 'alertmanager')
      problems.push({ path: [...base, key], atKey: true, message: 'is not a known key (alertmanager)' });
  }
  const am = value.alertmanager;
  const path = [...base, 'alertmanager'];
  if (!isRecord(am)) return [...problems, { path, message: 'must be a mapping with url' }];
  for (const key of Object.keys(am)) {
    if (!KEYS.includes(key))
      problems.push({
        path: [...path, key],
        atKey: true,
        message: `is not a known key (${KEYS.join(', ')})`,
      });
  }
  if (typeof am.url !== 'string' || !isHttpUrl(am.url))
    problems.push({ path: [...path, 'url'], message: 'is required: the http(s) URL of Alertmanager' });
  if (am.matchers !== undefined) {
    if (!Array.isArray(am.matchers)) {
      problems.push({
        path: [...path, 'matchers'],
        message: 'must be a list of matchers like severity!="critical"',
      });
    } else {
      am.matchers.forEach((m: unknown, i) => {
        try {
          if (typeof m !== 'string') throw new Error('must be a matcher like severity!="critical"');
          const parsed = parseMatcher(m);
          if (parsed.name === 'service' || parsed.name === 'environment')
            throw new Error(`must not name ${parsed.name}: shiplog sets it to the deploying one`);
        } catch (error) {
          problems.push({ path: [...path, 'matchers', i], message: (error as Error).message });
        }
      });
    }
  }
  for (const key of ['grace', 'lease', 'maxHold']) {
    if (am[key] === undefined) continue;
    try {
      if (key === 'grace') durationOrZero(am[key]);
      else positiveDuration(am[key]);
    } catch (error) {
      problems.push({ path: [...path, key], message: (error as Error).message });
    }
  }
  return problems;
}

/** A valid `alerts.suppression` (call {@link validateSuppression} first); undefined when absent. */
export function parseSuppression(value: unknown): SuppressionSettings | undefined {
  if (!isRecord(value) || !isRecord(value.alertmanager)) return undefined;
  const am = value.alertmanager;
  const matchers = Array.isArray(am.matchers) ? (am.matchers as string[]) : DEFAULT_SUPPRESSION.matchers;
  return {
    url: String(am.url).replace(/\/+$/, ''),
    matchers: matchers.map(parseMatcher),
    graceMs: durationOrZero(am.grace ?? DEFAULT_SUPPRESSION.grace),
    leaseMs: positiveDuration(am.lease ?? DEFAULT_SUPPRESSION.lease),
    maxHoldMs: positiveDuration(am.maxHold ?? DEFAULT_SUPPRESSION.maxHold),
  };
}

/** A duration (`10m`), where a number `0` or `0`/`0s` is allowed: `grace: 0` ends the silence with the deployment. */
export function durationOrZero(raw: unknown): number {
  return raw === 0 ? 0 : (parseDuration(raw) ?? positiveDuration(raw));
}

/** An absolute http(s) URL. */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
