/** What the routes need, as one bundle. */
import type { Alerts } from '../alerts/engine.js';
import type { Incidents } from '../correlate/incidents.js';
import type { DoraMetrics } from '../metrics/dora.js';
import type { Authenticator } from './auth.js';
import type { Leader } from './leader.js';
import type { Silences } from '../alerts/silences.js';
import type { Verifier } from '../verification/verifier.js';
import type { Metrics } from './metrics.js';
import type { Store } from '../store/database.js';
import type { EventWriter } from '../store/event-writer.js';
import type { Ledger } from '../store/ledger-repository.js';

export interface AppContext {
  readonly store: Store;
  readonly writer: EventWriter;
  readonly ledger: Ledger;
  readonly auth: Authenticator;
  readonly metrics: Metrics;
  /** Incidents and their suspects (DESIGN.md §9). */
  readonly incidents: Incidents;
  /** DORA metrics (DESIGN.md §10). */
  readonly dora: DoraMetrics;
  /** Runs background work on one replica only (src/server/leader.ts). */
  readonly leader: Leader;
  /** Alertmanager silences while services deploy; null without `alerts.suppression`. */
  readonly silences: Silences | null;
  /** Post-deployment and post-rollback verification (DESIGN.md §11). */
  readonly verifier: Verifier;
  /** Alert rules, records, routing and notifications (DESIGN.md §11). */
  readonly alerts: Alerts;
}
