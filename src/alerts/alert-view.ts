/** An alert as the API, the CLI, the ledger and the receivers show it. */
import type { AlertsTable } from '../store/schema.js';
import type { AlertSeverity } from './alerts-config.js';
import type { AlertMessage } from './receivers.js';

export const ALERT_STATUSES = ['firing', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export interface AlertView extends AlertMessage {
  readonly deployment: string | null;
  readonly service: string | null;
  readonly environment: string | null;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
  /** Notifications wait until then: the service was deploying (suppression). */
  readonly heldUntil: string | null;
  readonly updatedAt: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toAlertView(row: AlertsTable): AlertView {
  return {
    id: row.id,
    status: row.status as AlertStatus,
    rule: row.rule,
    kind: row.kind,
    severity: row.severity as AlertSeverity,
    summary: row.summary,
    labels: JSON.parse(row.labels) as Record<string, string>,
    deployment: row.deployment,
    service: row.service,
    environment: row.environment,
    startsAt: new Date(row.starts_ms).toISOString(),
    acknowledgedAt: iso(row.acked_ms),
    acknowledgedBy: row.acked_by,
    resolvedAt: iso(row.resolved_ms),
    heldUntil: iso(row.held_until_ms),
    updatedAt: new Date(row.updated_ms).toISOString(),
  };
}
