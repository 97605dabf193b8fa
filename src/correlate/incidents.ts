/**
 * Incidents as records and their suspects (DESIGN.md §9). Writes: one write transaction reads
 * the stored incidents, plans each change with the pure `mergeIncident`, and stores the changed
 * ones, each with a change row and a ledger entry, so a batch from one webhook delivery commits
 * whole or not at all. Reads: suspects are ranked at read time by the pure `rankSuspects` over
 * the candidate deployments read from indexed spans; a deployment's incidents are the incidents
 * whose suspects include it, by the same function, so both pages always agree.
 */
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_CORRELATION,
  candidateSpan,
  dependencyClosure,
  rankSuspects,
  type CorrelationSettings,
  type Suspect,
  type SuspectReason,
} from '../domain/correlation.js';
import { mergeIncident, type Incident, type IncidentReport } from '../domain/incident.js';
import { canonicalJson } from '../ledger/jcs.js';
import { CDEVENT_INCIDENT_TYPES, incidentOfCdevent } from '../ingest/cdevents-incident.js';
import type { MappingRules } from '../ingest/mapping.js';
import type { Store } from '../store/database.js';
import type { LedgerAppender } from '../store/event-writer.js';
import { toIncidentFacts, toIncidentView, type IncidentView } from '../store/incidents-repository.js';

/** One service of `services:` in shiplog.yaml. */
export interface ServiceConfig {
  readonly team?: string | undefined;
  readonly dependsOn?: readonly string[] | undefined;
  readonly repository?: string | undefined;
}

export interface IncidentDeps {
  readonly store: Store;
  readonly ledger?: LedgerAppender | undefined;
  readonly correlation?: CorrelationSettings | undefined;
  /** `services:` of shiplog.yaml; the catalog imported over the API adds to it. */
  readonly services?: Readonly<Record<string, ServiceConfig>> | undefined;
  readonly now?: (() => number) | undefined;
}

export interface RecordedIncident {
  readonly incident: IncidentView;
  readonly status: 'created' | 'updated' | 'unchanged';
  readonly ledgerIndex: number | null;
}

export interface DeploymentIncident {
  readonly key: string;
  readonly title: string;
  readonly severity: string | null;
  readonly status: string;
  readonly reason: SuspectReason;
  readonly withinWindow: boolean;
}

export interface Incidents {
  /**
   * Records every report in one transaction (a report for an unknown key creates it). With
   * `recordIds` (one per report: the stored webhook record it comes from), a report whose
   * record was already turned into an incident is skipped, so each record counts once.
   */
  record(
    reports: readonly IncidentReport[],
    actor: string,
    recordIds?: readonly string[],
    /** Throws (a 403) when the reporter may not change the stored incident; inside the transaction. */
    authorize?: (stored: Incident | undefined) => void,
  ): Promise<RecordedIncident[]>;
  get(key: string): Promise<Incident | undefined>;
  suspects(incident: Incident): Promise<Suspect[]>;
  ofDeployment(deployment: string): Promise<DeploymentIncident[]>;
  /** Direct dependencies of each service: the config's `services:` and the imported catalog. */
  dependencies(): Promise<Map<string, string[]>>;
  /**
   * Turns stored CDEvents incident records that are not incidents yet into incidents (the
   * migration of records kept before incidents existed); returns how many records it read.
   */
  migrateRecords(rules?: MappingRules): Promise<number>;
  readonly settings: CorrelationSettings;
}

export function createIncidents(deps: IncidentDeps): Incidents {
  const settings = deps.correlation ?? DEFAULT_CORRELATION;
  const now = deps.now ?? Date.now;
  const { store } = deps;

  async function dependencies(): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    for (const [name, config] of Object.entries(deps.services ?? {}))
      map.set(name, [...(config.dependsOn ?? [])]);
    for (const row of await store.incidents.catalog()) {
      const listed = JSON.parse(row.depends_on) as string[];
      map.set(row.name, [...new Set([...(map.get(row.name) ?? []), ...listed])]);
    }
    return map;
  }

  async function closureOf(service: string | null): Promise<Set<string>> {
    if (service === null) return new Set();
    const map = await dependencies();
    return dependencyClosure(service, (s) => map.get(s) ?? [], settings.dependencyDepth);
  }

  const api: Incidents = {
    settings,
    dependencies,
    get: (key) => store.incidents.find(key),

    async record(reports, actor, recordIds, authorize) {
      return store.writeTransaction(async function recordIncidents(trx) {
        const stored = await store.incidents.findMany(
          reports.map((r) => r.key),
          trx,
        );
        const linked = await store.incidents.linkedRecords(recordIds ?? [], trx);
        const nowMs = now();
        const results: RecordedIncident[] = [];
        for (const [i, report] of reports.entries()) {
          const recordId = recordIds?.[i];
          if (recordId !== undefined) {
            if (linked.has(recordId)) continue;
            linked.add(recordId);
            await store.incidents.linkRecord(recordId, report.key, nowMs, trx);
          }
          authorize?.(stored.get(report.key));
          const plan = mergeIncident(stored.get(report.key), report, nowMs);
          stored.set(report.key, plan.incident);
          if (plan.outcome === 'unchanged') {
            results.push({ incident: toIncidentView(plan.incident), status: 'unchanged', ledgerIndex: null });
            continue;
          }
          const view = toIncidentView(plan.incident);
          const ledgerIndex = deps.ledger
            ? await deps.ledger.append(
                trx,
                [
                  canonicalJson({
                    recordType: 'incident',
                    change: plan.outcome,
                    changed: [...plan.changed],
                    reportedBy: actor,
                    ...view,
                  }),
                ],
                'incident',
              )
            : null;
          const created = plan.outcome === 'created' && !results.some((r) => r.incident.key === report.key);
          await store.incidents.save(
            plan.incident,
            created,
            {
              id: `inc_${randomBytes(9).toString('base64url')}`,
              incident_key: report.key,
              at_ms: nowMs,
              actor,
              outcome: plan.outcome,
              status: plan.incident.status,
              severity: plan.incident.severity,
              changed: JSON.stringify(plan.changed),
              ledger_index: ledgerIndex,
            },
            trx,
          );
          results.push({ incident: view, status: plan.outcome, ledgerIndex });
        }
        return results;
      });
    },

    async migrateRecords(rules) {
      let read = 0;
      for (;;) {
        const rows = await store.incidents.unlinkedRecords(CDEVENT_INCIDENT_TYPES, 500);
        if (rows.length === 0) return read;
        read += rows.length;
        const reports: IncidentReport[] = [];
        const ids: string[] = [];
        const skipped: string[] = [];
        for (const row of rows) {
          let data: unknown;
          try {
            data = JSON.parse(row.data) as unknown;
          } catch {
            data = undefined;
          }
          const report = incidentOfCdevent(row.record_type, data, row.time_ms, rules);
          if (report) {
            reports.push(report);
            ids.push(row.id);
          } else skipped.push(row.id);
        }
        await api.record(reports, 'migration:cdevents-records', ids);
        if (skipped.length > 0) {
          // Records that give no incident (no subject id) are marked so they are not read again.
          await store.writeTransaction(async (trx) => {
            for (const id of skipped) await store.incidents.linkRecord(id, '', now(), trx);
          });
        }
      }
    },

    async suspects(incident) {
      const related = await closureOf(incident.service);
      const span = candidateSpan(incident.startedMs, settings);
      const facts = toIncidentFacts(incident);
      const mentioned = [incident.title, ...Object.values(incident.labels ?? {})]
        .join(' ')
        .split(/[\s,;()[\]{}"'`<>|]+/)
        .filter((w) => w !== '' && w.length <= 256);
      const candidates = await store.incidents.candidateDeployments({
        services: incident.service === null ? [...related] : [incident.service, ...related],
        environment: incident.environment,
        ticket: incident.ticket,
        mentioned,
        causedBy: incident.causedBy,
        fromMs: span.fromMs,
        toMs: span.toMs,
      });
      return rankSuspects(facts, candidates, related, settings);
    },

    async ofDeployment(deployment) {
      const candidate = await store.incidents.candidateOf(deployment);
      if (!candidate) return [];
      const span = candidateSpan(0, settings);
      const incidents = await store.incidents.candidateIncidents(deployment, candidate.firstMs, -span.fromMs);
      if (incidents.length === 0) return [];
      const map = await dependencies();
      const found: (DeploymentIncident & { startedMs: number })[] = [];
      for (const incident of incidents) {
        const related =
          incident.service === null
            ? new Set<string>()
            : dependencyClosure(incident.service, (s) => map.get(s) ?? [], settings.dependencyDepth);
        const [suspect] = rankSuspects(toIncidentFacts(incident), [candidate], related, settings);
        if (suspect) {
          found.push({
            key: incident.key,
            title: incident.title,
            severity: incident.severity,
            status: incident.status,
            reason: suspect.reason,
            withinWindow: suspect.withinWindow,
            startedMs: incident.startedMs,
          });
        }
      }
      return found
        .sort((a, b) => a.startedMs - b.startedMs || (a.key < b.key ? -1 : 1))
        .map(({ startedMs: _startedMs, ...rest }) => rest);
    },
  };
  return api;
}
