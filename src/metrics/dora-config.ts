/**
 * `dora:` of shiplog.yaml (DESIGN.md §10).
 *
 * ```yaml
 * dora:
 *   minSeverity: sev2   # incidents this severe or worse make the changes they name failed
 * ```
 */
import { INCIDENT_SEVERITIES, type IncidentSeverity } from '../domain/incident.js';

type Problem = { path: (string | number)[]; message: string; atKey?: boolean };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

export interface DoraConfig {
  readonly minSeverity: IncidentSeverity;
}

export const DEFAULT_DORA_CONFIG: DoraConfig = Object.freeze({ minSeverity: 'sev2' });

export function validateDora(value: unknown): Problem[] {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [{ path: ['dora'], message: 'must be a mapping' }];
  const problems: Problem[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'minSeverity') {
      problems.push({ path: ['dora', key], atKey: true, message: 'is not a known key (minSeverity)' });
    } else if (typeof v !== 'string' || !(INCIDENT_SEVERITIES as readonly string[]).includes(v)) {
      problems.push({ path: ['dora', key], message: `must be one of ${INCIDENT_SEVERITIES.join(', ')}` });
    }
  }
  return problems;
}

export function parseDora(value: unknown): DoraConfig {
  const minSeverity = isRecord(value) ? value.minSeverity : undefined;
  return {
    minSeverity: (INCIDENT_SEVERITIES as readonly unknown[]).includes(minSeverity)
      ? (minSeverity as IncidentSeverity)
      : DEFAULT_DORA_CONFIG.minSeverity,
  };
}
