/**
 * The Alertmanager silences shiplog holds while services deploy (src/alerts/silences.ts), one
 * row per service and environment, and the deployment facts their renewal depends on: which
 * deployments of the service still run there, and when the last one finished.
 */
import type { Kysely } from 'kysely';
import { keysetPage, type Page } from './cursor.js';
import type { WriteTransaction } from './database.js';
import type { AlertSilencesTable, Database } from './schema.js';

export type SilenceRow = AlertSilencesTable;

/** What the deployments of one service in one environment say about its silence. */
export interface DeployingState {
  /** The newest deployment still in progress (started after `sinceMs`), if any. */
  readonly running: string | null;
  /** The newest deployment of the service there, and when it reached its final state. */
  readonly latest: string | null;
  readonly lastFinishedMs: number | null;
}

export interface SilencesRepository {
  find(service: string, environment: string): Promise<SilenceRow | undefined>;
  /** Rows shiplog still keeps at Alertmanager. */
  active(): Promise<SilenceRow[]>;
  /** Every row, by service then environment; `state` narrows. */
  list(f: {
    state?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<SilenceRow>>;
  save(row: SilenceRow, trx?: WriteTransaction): Promise<void>;
  /** In-progress deployments started after `sinceMs`, and the last final state. */
  deploying(service: string, environment: string, sinceMs: number): Promise<DeployingState>;
}

const COLUMNS = Object.keys({
  service: 0,
  environment: 0,
  deployment: 0,
  state: 0,
  silence_id: 0,
  starts_ms: 0,
  ends_ms: 0,
  hold_until_ms: 0,
  last_error: 0,
  created_ms: 0,
  updated_ms: 0,
} satisfies Record<keyof SilenceRow, 0>) as (keyof SilenceRow)[];

export function createSilencesRepository(db: Kysely<Database>): SilencesRepository {
  return Object.freeze({
    async find(service: string, environment: string) {
      return db
        .selectFrom('alert_silences')
        .selectAll()
        .where('service', '=', service)
        .where('environment', '=', environment)
        .executeTakeFirst();
    },

    async active() {
      return db
        .selectFrom('alert_silences')
        .selectAll()
        .where('state', '=', 'active')
        .orderBy('service')
        .orderBy('environment')
        .execute();
    },

    async list(f: { state?: string | undefined; limit: number; cursor?: string | undefined }) {
      let q = db.selectFrom('alert_silences').selectAll();
      if (f.state) q = q.where('state', '=', f.state);
      return keysetPage(
        q,
        { columns: ['service', 'environment'], shape: ['s', 's'], direction: 'asc' },
        { limit: f.limit, cursor: f.cursor || undefined },
        (row) => row,
        (last) => [last.service, last.environment],
      );
    },

    async save(row: SilenceRow, trx?: WriteTransaction) {
      await (trx ?? db)
        .insertInto('alert_silences')
        .values(row)
        .onConflict((oc) =>
          oc
            .columns(['service', 'environment'])
            .doUpdateSet(
              Object.fromEntries(
                COLUMNS.filter((c) => c !== 'service' && c !== 'environment').map((c) => [c, row[c]]),
              ),
            ),
        )
        .execute();
    },

    async deploying(service: string, environment: string, sinceMs: number) {
      const running = await db
        .selectFrom('deployments')
        .select('deployment')
        .where('service', '=', service)
        .where('environment', '=', environment)
        .where('status', '=', 'in_progress')
        .where('started_ms', '>', sinceMs)
        .orderBy('started_ms', 'desc')
        .limit(1)
        .executeTakeFirst();
      const latest = await db
        .selectFrom('deployments')
        .select(['deployment', 'finished_ms'])
        .where('service', '=', service)
        .where('environment', '=', environment)
        .where('finished_ms', 'is not', null)
        .orderBy('finished_ms', 'desc')
        .limit(1)
        .executeTakeFirst();
      return {
        running: running?.deployment ?? null,
        latest: latest?.deployment ?? null,
        lastFinishedMs: latest?.finished_ms ?? null,
      };
    },
  });
}
