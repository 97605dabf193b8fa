/**
 * Post-deployment verification runs and their measurements (src/verification/verifier.ts):
 * one run per deployment and trigger (`succeeded`, `rolled_back`), its checks' progress as
 * JSON, and one row per measurement with its ledger index.
 */
import type { Kysely } from 'kysely';
import type { WriteTransaction } from './database.js';
import type { Database, VerificationMeasurementsTable, VerificationRunsTable } from './schema.js';

export type VerificationRunRow = VerificationRunsTable;
export type MeasurementRow = VerificationMeasurementsTable;

/** The deployment rolled back, to find the version that runs again. */
export interface RollbackTarget {
  readonly deployment: string;
  readonly service: string;
  readonly environment: string;
  readonly region: string;
  readonly beforeMs: number;
}

export interface VerificationsRepository {
  /** Inserts `run` unless the deployment already has one for its trigger; true when inserted. */
  create(run: VerificationRunRow, trx?: WriteTransaction): Promise<boolean>;
  /** Running runs with a measurement due by `nowMs`, soonest first. */
  due(nowMs: number, limit: number): Promise<VerificationRunRow[]>;
  find(id: string): Promise<VerificationRunRow | undefined>;
  /** The deployment's runs, newest first (read in `trx` when given). */
  ofDeployment(deployment: string, trx?: WriteTransaction): Promise<VerificationRunRow[]>;
  measurements(runId: string): Promise<MeasurementRow[]>;
  /** Writes a run's new progress and the measurements that made it. */
  update(
    run: VerificationRunRow,
    measurements: readonly MeasurementRow[],
    trx: WriteTransaction,
  ): Promise<void>;
  /**
   * The version that runs again after `deployment` is rolled back: that of the newest other
   * deployment of the service, environment and region that succeeded before it finished and is
   * not itself rolled back.
   */
  previousVersion(d: RollbackTarget): Promise<string | null>;
}

export function createVerificationsRepository(db: Kysely<Database>): VerificationsRepository {
  return Object.freeze({
    async create(run: VerificationRunRow, trx?: WriteTransaction) {
      const result = await (trx ?? db)
        .insertInto('verification_runs')
        .values(run)
        .onConflict((oc) => oc.columns(['deployment', 'trigger']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async due(nowMs: number, limit: number) {
      return db
        .selectFrom('verification_runs')
        .selectAll()
        .where('status', '=', 'running')
        .where('next_ms', '<=', nowMs)
        .orderBy('next_ms')
        .limit(limit)
        .execute();
    },

    async find(id: string) {
      return db.selectFrom('verification_runs').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async ofDeployment(deployment: string, trx?: WriteTransaction) {
      return (
        (trx ?? db)
          .selectFrom('verification_runs')
          .selectAll()
          .where('deployment', '=', deployment)
          .orderBy('started_ms', 'desc')
          // A rollback's run and the release's it cancels may start in one millisecond.
          .orderBy('trigger', 'asc')
          .execute()
      );
    },

    async measurements(runId: string) {
      return db
        .selectFrom('verification_measurements')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('check_name')
        .orderBy('seq')
        .execute();
    },

    async update(run: VerificationRunRow, measurements: readonly MeasurementRow[], trx: WriteTransaction) {
      await trx
        .updateTable('verification_runs')
        .set({
          status: run.status,
          checks: run.checks,
          next_ms: run.next_ms,
          finished_ms: run.finished_ms,
          updated_ms: run.updated_ms,
        })
        .where('id', '=', run.id)
        .execute();
      if (measurements.length > 0)
        await trx
          .insertInto('verification_measurements')
          .values([...measurements])
          .execute();
    },

    async previousVersion(d: RollbackTarget) {
      const row = await db
        .selectFrom('deployments')
        .select('version')
        .where('service', '=', d.service)
        .where('environment', '=', d.environment)
        .where('region', '=', d.region)
        .where('deployment', '!=', d.deployment)
        .where('status', '=', 'succeeded')
        .where('finished_ms', '<=', d.beforeMs)
        .orderBy('finished_ms', 'desc')
        .orderBy('deployment', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row?.version ?? null;
    },
  });
}
