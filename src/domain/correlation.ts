/**
 * Which deployments may have caused an incident (DESIGN.md §9). Pure: the caller reads the
 * incident, the candidate deployments and the service dependencies; this ranks them.
 *
 * The answer is a function of the stored facts only, computed at read time, so the incident
 * page and the deployment page can never disagree: a deployment lists an incident exactly when
 * the incident lists the deployment, with the same reason and window flag.
 *
 * Ranking: the strongest reason first (`explicit` > `ticket` > `same_service` > `dependency`),
 * then deployments in the incident's region before other regions, then the closest in time,
 * then the deployment key (so equal candidates keep a stable order).
 */

export const SUSPECT_REASONS = ['explicit', 'ticket', 'same_service', 'dependency'] as const;
export type SuspectReason = (typeof SUSPECT_REASONS)[number];

export interface CorrelationSettings {
  /** `correlation.windowMinutes` (default 15). */
  readonly windowMinutes: number;
  /** `correlation.lookbackHours` (default 24). */
  readonly lookbackHours: number;
  /** `correlation.dependencyDepth` (default 1). */
  readonly dependencyDepth: number;
}

export const DEFAULT_CORRELATION: CorrelationSettings = Object.freeze({
  windowMinutes: 15,
  lookbackHours: 24,
  dependencyDepth: 1,
});

/** What correlation needs of an incident. */
export interface IncidentFacts {
  readonly key: string;
  readonly title: string;
  readonly service: string | null;
  readonly environment: string | null;
  readonly region: string | null;
  readonly startedMs: number;
  readonly ticket: string | null;
  readonly causedBy: string | null;
  readonly labels: Readonly<Record<string, string>> | null;
}

/** What correlation needs of a deployment. */
export interface CandidateDeployment {
  readonly deployment: string;
  readonly service: string;
  readonly environment: string;
  /** '' or null when it names none. */
  readonly region: string | null;
  readonly version: string | null;
  readonly ticket: string | null;
  /** The earliest event time (`sort_ms`). */
  readonly firstMs: number;
  readonly startedMs: number | null;
  readonly finishedMs: number | null;
}

export interface Suspect {
  readonly deployment: string;
  readonly service: string;
  readonly environment: string;
  readonly region: string | null;
  readonly version: string | null;
  readonly finishedAt: string | null;
  /** Incident start minus the deployment's finish (0 when it was still running at the start). */
  readonly deltaMs: number;
  readonly reason: SuspectReason;
  readonly withinWindow: boolean;
}

/** The span of deployment first-event times that can hold suspects: SQL reads exactly this. */
export function candidateSpan(
  startedMs: number,
  settings: CorrelationSettings,
): { readonly fromMs: number; readonly toMs: number } {
  // A deployment that finished within the lookback began at most one more lookback earlier.
  return { fromMs: startedMs - 2 * lookbackMs(settings), toMs: startedMs };
}

const lookbackMs = (settings: CorrelationSettings) => settings.lookbackHours * 3_600_000;

/**
 * The services whose deployments count as `dependency` suspects: what `service` depends on, up
 * to `depth` hops (`dependsOn` maps a service to its direct dependencies).
 */
export function dependencyClosure(
  service: string,
  dependsOn: (service: string) => readonly string[],
  depth: number,
): Set<string> {
  const found = new Set<string>();
  let frontier = [service];
  for (let hop = 0; hop < depth && frontier.length > 0; hop += 1) {
    const next: string[] = [];
    for (const s of frontier) {
      for (const d of dependsOn(s)) {
        if (d !== service && !found.has(d)) {
          found.add(d);
          next.push(d);
        }
      }
    }
    frontier = next;
  }
  return found;
}

/** The characters that end a word: white space and ,;()[]{}"'`<>| (DORA reads tens of thousands of titles). */
const SEPARATOR = new Uint8Array(128);
for (const c of ' \t\n\v\f\r,;()[]{}"\'`<>|') SEPARATOR[c.charCodeAt(0)] = 1;

function addWords(text: string, found: Set<string>): void {
  let start = -1;
  for (let i = 0; i <= text.length; i += 1) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    const separates = c < 128 ? SEPARATOR[c] === 1 : /\s/.test(text.charAt(i));
    if (!separates) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      found.add(text.slice(start, i));
      start = -1;
    }
  }
}

/** The words of an incident's title and labels that can name a deployment key or version. */
export function mentionedWords(incident: IncidentFacts): Set<string> {
  const found = new Set<string>();
  addWords(incident.title, found);
  // Labels are stored as strings (ingest checks them); a value that is not one names nothing.
  if (incident.labels !== null)
    for (const value of Object.values(incident.labels) as unknown[])
      if (typeof value === 'string') addWords(value, found);
  return found;
}

/** Why `d` is a suspect of the incident, if it is one (ignoring time). */
function reasonOf(
  incident: IncidentFacts,
  d: CandidateDeployment,
  dependencies: ReadonlySet<string>,
  mentioned: ReadonlySet<string>,
): SuspectReason | undefined {
  if (incident.causedBy !== null && d.deployment === incident.causedBy) return 'explicit';
  if (incident.ticket !== null && d.ticket !== null && d.ticket === incident.ticket) return 'ticket';
  if (mentioned.has(d.deployment)) return 'ticket';
  const sameEnvironment = incident.environment === null || d.environment === incident.environment;
  if (!sameEnvironment) return undefined;
  const related = d.service === incident.service || dependencies.has(d.service);
  // A version is short and common ("1.2.0"): it names a deployment only of a related service.
  if (related && d.version !== null && mentioned.has(d.version)) return 'ticket';
  if (d.service === incident.service) return 'same_service';
  if (dependencies.has(d.service)) return 'dependency';
  return undefined;
}

/**
 * Ranks `candidates` as suspects of `incident`. A deployment counts when it began before the
 * incident start and either finished within the lookback before it or was still running at
 * it, and began within twice the lookback (see {@link candidateSpan}); the incident's
 * `causedBy` counts whenever it is among the candidates. `mentioned` is the incident's
 * {@link mentionedWords}, for a caller that has them already.
 */
export function rankSuspects(
  incident: IncidentFacts,
  candidates: readonly CandidateDeployment[],
  dependencies: ReadonlySet<string>,
  settings: CorrelationSettings = DEFAULT_CORRELATION,
  mentioned: ReadonlySet<string> = mentionedWords(incident),
): Suspect[] {
  const start = incident.startedMs;
  const span = candidateSpan(start, settings);
  const windowMs = settings.windowMinutes * 60_000;
  const best = new Map<string, { suspect: Suspect; sameRegion: boolean }>();
  for (const d of candidates) {
    const reason = reasonOf(incident, d, dependencies, mentioned);
    if (reason === undefined) continue;
    const begun = d.startedMs ?? d.finishedMs;
    const runningAtStart = d.finishedMs === null || d.finishedMs > start;
    const inTime =
      begun !== null &&
      begun <= start &&
      d.firstMs >= span.fromMs &&
      d.firstMs <= span.toMs &&
      (runningAtStart || (d.finishedMs !== null && d.finishedMs >= start - lookbackMs(settings)));
    if (!inTime && reason !== 'explicit') continue;
    let deltaMs: number;
    if (d.finishedMs !== null && d.finishedMs <= start) deltaMs = start - d.finishedMs;
    else if (inTime)
      deltaMs = 0; // still running at the start
    else deltaMs = start - (d.finishedMs ?? begun ?? start); // an explicit cause outside the span

    const suspect: Suspect = {
      deployment: d.deployment,
      service: d.service,
      environment: d.environment,
      region: d.region === '' ? null : d.region,
      version: d.version,
      finishedAt: d.finishedMs === null ? null : new Date(d.finishedMs).toISOString(),
      deltaMs,
      reason,
      withinWindow: inTime && deltaMs <= windowMs,
    };
    const sameRegion = incident.region !== null && suspect.region === incident.region;
    const previous = best.get(d.deployment);
    if (!previous || compare({ suspect, sameRegion }, previous) < 0)
      best.set(d.deployment, { suspect, sameRegion });
  }
  return [...best.values()].sort(compare).map((entry) => entry.suspect);
}

function compare(
  a: { suspect: Suspect; sameRegion: boolean },
  b: { suspect: Suspect; sameRegion: boolean },
): number {
  const byReason = SUSPECT_REASONS.indexOf(a.suspect.reason) - SUSPECT_REASONS.indexOf(b.suspect.reason);
  if (byReason !== 0) return byReason;
  if (a.sameRegion !== b.sameRegion) return a.sameRegion ? -1 : 1;
  const byDelta = Math.abs(a.suspect.deltaMs) - Math.abs(b.suspect.deltaMs);
  if (byDelta !== 0) return byDelta;
  return a.suspect.deployment < b.suspect.deployment
    ? -1
    : a.suspect.deployment > b.suspect.deployment
      ? 1
      : 0;
}
