/**
 * Reads across tiers (docs/retention.md §Reads). A hot or cold month answers from the database
 * as always. A month whose payloads were retired answers 410 `SHIPLOG_ARCHIVED` naming the
 * month and the command that brings it back, rather than an answer silently missing records:
 * - a deployment whose events left with a segment (or with the non-production purge);
 * - `/v1/state?at=` for an instant before the end of the newest retired month: the deployment
 *   that ran then may be one whose row left (each service's newest row always stays).
 * Other readers (the audit report) call {@link archivedInstant} for each period they cover.
 */
import { ShiplogError } from '../errors.js';
import type { Store } from '../store/database.js';
import { monthEnd, monthOf } from './segment-format.js';

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
