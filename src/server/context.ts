/** What the routes need, as one bundle. */
import type { Incidents } from '../correlate/incidents.js';
import type { Authenticator } from './auth.js';
import type { Leader } from './leader.js';
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
  /** Runs background work on one replica only (src/server/leader.ts). */
  readonly leader: Leader;
}
