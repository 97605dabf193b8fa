/**
 * The coverage review (DESIGN.md §13): where tracking has gaps, so instrumentation can be
 * fixed. Over the last `days` days:
 *
 * - `services`: catalog services with no deployment in the period (or never);
 * - `sources`: event sources (tokens, webhooks) not heard from in the period;
 * - `unregisteredEnvironments`: environments seen only through the admission webhook or CI/CD
 *   webhooks: not configured under `environments:` of shiplog.yaml and never written to by a
 *   token through the API or the CLI;
 * - `missingTags`: deployments of the period into a configured environment that lack a field
 *   its policy requires (`requireTicket`, `require.fields`, or `require.byKind.<kind>.fields`
 *   for the deployment's kind, which replaces the environment's list).
 */
import type { EnvironmentPolicy, Policy } from '../policy/index.js';
import type { ReportsRepository, TaggedDeployment } from '../store/reports-repository.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Findings of missing tags listed in full; beyond, only counted. */
export const MAX_MISSING_TAGS = 1000;

export interface CoverageReview {
  readonly days: number;
  readonly since: string;
  readonly services: readonly { service: string; team: string | null; lastDeploymentAt: string | null }[];
  readonly sources: readonly { source: string; lastSeenAt: string; events: number }[];
  readonly unregisteredEnvironments: readonly {
    environment: string;
    seenBy: readonly string[];
    lastSeenAt: string;
  }[];
  readonly missingTags: {
    readonly total: number;
    readonly truncated: boolean;
    readonly items: readonly {
      deployment: string;
      service: string;
      environment: string;
      actor: string;
      missing: readonly string[];
    }[];
  };
}

/** The fields the policy requires of a deployment of `kind`. */
export function requiredFields(policy: EnvironmentPolicy, kind: string): string[] {
  const byKind = policy.require?.byKind as Record<string, { fields?: string[] } | undefined> | undefined;
  const fields = [...(byKind?.[kind]?.fields ?? policy.require?.fields ?? [])];
  if (policy.requireTicket !== undefined && !fields.includes('ticket')) fields.unshift('ticket');
  return fields;
}

/** The required fields `deployment` lacks. */
export function missingFields(deployment: TaggedDeployment, fields: readonly string[]): string[] {
  let labels: Record<string, unknown> = {};
  try {
    labels = deployment.labels ? (JSON.parse(deployment.labels) as Record<string, unknown>) : {};
  } catch {
    labels = {};
  }
  const present = (value: unknown) => typeof value === 'string' && value.trim() !== '';
  return fields.filter((field) => {
    if (field === 'ticket') return !present(deployment.ticket);
    if (field === 'commit') return !present(deployment.commit);
    if (field === 'justification') return !present(labels.justification);
    return !present(labels[field.slice('labels.'.length)]);
  });
}

export async function coverageReview(
  reports: ReportsRepository,
  policy: Policy,
  days: number,
  nowMs: number,
): Promise<CoverageReview> {
  const sinceMs = nowMs - days * DAY_MS;
  const iso = (ms: number) => new Date(ms).toISOString();
  const services = (await reports.catalogLastDeployments())
    .filter((s) => s.lastMs === null || s.lastMs < sinceMs)
    .map((s) => ({
      service: s.service,
      team: s.team,
      lastDeploymentAt: s.lastMs === null ? null : iso(s.lastMs),
    }));
  const sources = (await reports.sourcesLastSeen())
    .filter((s) => s.lastMs < sinceMs)
    .map((s) => ({ source: s.source, lastSeenAt: iso(s.lastMs), events: s.events }));

  const sightings = new Map<string, { seenBy: Set<string>; lastMs: number; byToken: boolean }>();
  for (const s of await reports.environmentSightings()) {
    const entry = sightings.get(s.environment) ?? { seenBy: new Set<string>(), lastMs: 0, byToken: false };
    entry.seenBy.add(s.seenBy);
    entry.lastMs = Math.max(entry.lastMs, s.lastMs);
    if (s.seenBy !== 'admission' && !s.seenBy.startsWith('webhook:')) entry.byToken = true;
    sightings.set(s.environment, entry);
  }
  const unregisteredEnvironments = [...sightings]
    .filter(([name, s]) => !s.byToken && !Object.hasOwn(policy.environments, name))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([environment, s]) => ({ environment, seenBy: [...s.seenBy].sort(), lastSeenAt: iso(s.lastMs) }));

  const items: CoverageReview['missingTags']['items'][number][] = [];
  let total = 0;
  for (const [environment, envPolicy] of Object.entries(policy.environments)) {
    const needsAny = envPolicy.requireTicket !== undefined || envPolicy.require !== undefined;
    if (!needsAny) continue;
    let after: [number, string] | undefined;
    for (;;) {
      const page = await reports.deploymentsSince({ environment, sinceMs, after, limit: 1000 });
      for (const d of page) {
        const missing = missingFields(d, requiredFields(envPolicy, d.kind));
        if (missing.length === 0) continue;
        total += 1;
        if (items.length < MAX_MISSING_TAGS) {
          items.push({ deployment: d.deployment, service: d.service, environment, actor: d.actor, missing });
        }
      }
      const last = page.at(-1);
      if (last === undefined || page.length < 1000) break;
      after = [last.sortMs, last.deployment];
    }
  }
  return {
    days,
    since: iso(sinceMs),
    services,
    sources,
    unregisteredEnvironments,
    missingTags: { total, truncated: total > items.length, items },
  };
}
