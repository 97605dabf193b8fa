/**
 * `correlation:` and `services:` of shiplog.yaml (DESIGN.md §9).
 *
 * ```yaml
 * correlation:
 *   windowMinutes: 15      # suspects that finished this close before the start are flagged
 *   lookbackHours: 24      # how far back suspects are looked for
 *   dependencyDepth: 1     # hops of dependsOn that count as `dependency`
 * services:
 *   checkout-api: {team: payments, dependsOn: [payments-db, auth-api], repository: octo-org/checkout-api}
 * ```
 */
import { DEFAULT_CORRELATION, type CorrelationSettings } from '../domain/correlation.js';
import { NAME_PATTERN } from '../domain/event.js';
import type { ServiceConfig } from './incidents.js';

type Problem = { path: (string | number)[]; message: string; atKey?: boolean };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const NAME = new RegExp(NAME_PATTERN);

const LIMITS: Record<keyof CorrelationSettings, readonly [number, number]> = {
  windowMinutes: [1, 1440],
  lookbackHours: [1, 720],
  dependencyDepth: [0, 10],
};

export function validateCorrelation(value: unknown): Problem[] {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [{ path: ['correlation'], message: 'must be a mapping' }];
  const problems: Problem[] = [];
  for (const [key, v] of Object.entries(value)) {
    const limits = Object.hasOwn(LIMITS, key) ? LIMITS[key as keyof CorrelationSettings] : undefined;
    if (!limits) {
      problems.push({
        path: ['correlation', key],
        atKey: true,
        message: `is not a known key (${Object.keys(LIMITS).join(', ')})`,
      });
    } else if (typeof v !== 'number' || !Number.isInteger(v) || v < limits[0] || v > limits[1]) {
      problems.push({
        path: ['correlation', key],
        message: `must be a whole number from ${String(limits[0])} to ${String(limits[1])}`,
      });
    }
  }
  return problems;
}

export function parseCorrelation(value: unknown): CorrelationSettings {
  return { ...DEFAULT_CORRELATION, ...(isRecord(value) ? (value as Partial<CorrelationSettings>) : {}) };
}

/** `owner` is Backstage's word for the team, accepted as its alias. */
const SERVICE_KEYS = ['team', 'owner', 'dependsOn', 'repository'];

export function validateServices(value: unknown): Problem[] {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [{ path: ['services'], message: 'must map service names to their settings' }];
  const problems: Problem[] = [];
  for (const [name, service] of Object.entries(value)) {
    const path = ['services', name];
    if (!NAME.test(name)) {
      problems.push({
        path,
        atKey: true,
        message: 'must be a service name (1-63 characters of a-z 0-9 . _ -)',
      });
    }
    if (service === null) continue;
    if (!isRecord(service)) {
      problems.push({ path, message: 'must be a mapping (team, dependsOn, repository)' });
      continue;
    }
    for (const [key, v] of Object.entries(service)) {
      if (!SERVICE_KEYS.includes(key)) {
        problems.push({
          path: [...path, key],
          atKey: true,
          message: `is not a known key (${SERVICE_KEYS.join(', ')})`,
        });
      } else if (key === 'dependsOn') {
        if (!Array.isArray(v))
          problems.push({ path: [...path, key], message: 'must be a list of service names' });
        else
          v.forEach((d, i) => {
            if (typeof d !== 'string' || !NAME.test(d))
              problems.push({ path: [...path, key, i], message: 'must be a service name' });
          });
      } else if (typeof v !== 'string' || v.trim() === '') {
        problems.push({ path: [...path, key], message: 'must be a non-empty string' });
      }
    }
  }
  return problems;
}

export function parseServices(value: unknown): Record<string, ServiceConfig> {
  if (!isRecord(value)) return {};
  const services: Record<string, ServiceConfig> = {};
  for (const [name, service] of Object.entries(value)) {
    const s = isRecord(service) ? service : {};
    services[name] = {
      ...(typeof s.team === 'string'
        ? { team: s.team }
        : typeof s.owner === 'string'
          ? { team: s.owner }
          : {}),
      ...(typeof s.repository === 'string' ? { repository: s.repository } : {}),
      dependsOn: Array.isArray(s.dependsOn)
        ? s.dependsOn.filter((d): d is string => typeof d === 'string')
        : [],
    };
  }
  return services;
}
