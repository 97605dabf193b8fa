/**
 * Reads across tiers (docs/retention.md §Reads). A hot or cold month answers from the database
 * as always. A month whose payloads were retired answers 410 `SHIPLOG_ARCHIVED` naming the
 * month and the command that brings it back, rather than an answer silently missing records:
 * - a deployment whose events left with a segment (or with the non-production purge);
 * - `/v1/state?at=` for an instant before the end of the newest retired month: the deployment
 *   that ran then may be one whose row left (each service's newest row always stays).
 * - the audit report of a month (and its evidence bundle) whose records, or the approvals and
 *   gate decisions they cite, left the database ({@link archivedReport}).
 */
import { ShiplogError } from '../errors.js';
import type { Store } from '../store/database.js';
import { monthEnd, monthOf, monthStart } from './segment-format.js';

export function archivedError(month: string, what: string, segment = true): ShiplogError {
  const how = segment
    ? `restore it with: shiplog archive restore ${month}`
    : 'it was a non-production record past retention.purgeNonProduction and is not in any archive segment';
  return new ShiplogError(
    'SHIPLOG_ARCHIVED',
    `${what} lies in ${month}, which was archived and left the database; ${how}`,
    [{ path: 'month', message: month }],
  );
}

/** The 410 for a deployment whose records left the database; undefined when they did not. */
export async function archivedDeployment(
  store: Store,
  deployment: string,
): Promise<ShiplogError | undefined> {
  const month = await store.retention.archivedMonthOf(deployment);
  if (month === undefined) return undefined;
  const segment = await store.retention.segment(month);
  return archivedError(month, `deployment "${deployment}"`, segment !== undefined);
}

/** The 410 for an instant whose state needs retired records; undefined when it is answerable. */
export async function archivedInstant(store: Store, atMs: number): Promise<ShiplogError | undefined> {
  const purged = await store.retention.purgedSegments();
  const newest = purged[purged.length - 1];
  if (!newest || atMs >= monthEnd(newest.month)) return undefined;
  const at = monthOf(atMs);
  const named = [...purged].reverse().find((s) => s.month <= at) ?? purged[0] ?? newest;
  return archivedError(named.month, `the instant ${new Date(atMs).toISOString()}`);
}

/**
 * The 410 for the audit report of [fromMs, toMs) into `environment` (`what` names it) when the
 * rows it would compute need retired payloads; undefined when the database holds them all:
 * - a month retired with its segment overlaps the report's range (its deployment rows left);
 * - for a non-production environment, a month of the non-production purge overlaps it;
 * - a deployment of the report lost records with another month (events received in the next
 *   month, retired while this one was restored);
 * - an approval or gate decision of one of the report's deployments was retired with an earlier
 *   month (the gate may be asked before the deployment's first event).
 * A report never answers with rows silently missing.
 */
export async function archivedReport(
  store: Store,
  report: { readonly fromMs: number; readonly toMs: number; readonly environment: string },
  production: boolean,
  what: string,
): Promise<ShiplogError | undefined> {
  const overlaps = (month: string) => monthStart(month) < report.toMs && monthEnd(month) > report.fromMs;
  const segments = await store.retention.segments();
  const hasSegment = (month: string) => segments.some((s) => s.month === month);
  const purged = segments.find((s) => s.purged_ms !== null && overlaps(s.month));
  if (purged) return archivedError(purged.month, what);
  if (!production) {
    const month = (await store.retention.retiredMonths()).find(overlaps);
    if (month !== undefined) return archivedError(month, what, hasSegment(month));
  }
  const month = await store.reports.archivedMonth(report);
  if (month !== undefined) return archivedError(month, `records cited by ${what}`, hasSegment(month));
  const index = await store.reports.retiredEvidence(report);
  if (index === undefined) return undefined;
  const segment = segments.find((s) => Number(s.first_idx) <= index && index < Number(s.end_idx));
  return segment
    ? archivedError(segment.month, `an approval or gate decision cited by ${what}`)
    : new ShiplogError(
        'SHIPLOG_ARCHIVED',
        `an approval or gate decision cited by ${what} (ledger entry ${index}) was retired by ` +
          'retention.purgeNonProduction and is not in any archive segment',
        [{ path: 'ledgerIndex', message: String(index) }],
      );
}
