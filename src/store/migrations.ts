/**
 * Versioned schema migrations, applied in order at start-up (Kysely's migrator keeps the
 * applied list in `kysely_migration`). Never edit a released migration: add a new one.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { ShiplogError } from '../errors.js';
import type { Dialect } from './database.js';

type AnyDb = Kysely<unknown>;

function migrations(dialect: Dialect): Record<string, Migration> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    '001-core': {
      async up(db: AnyDb) {
        let events = db.schema.createTable('events');
        events =
          dialect === 'postgres'
            ? events.addColumn('seq', 'bigserial', (c) => c.primaryKey())
            : events.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
        await events
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('time_ms', bigint, (c) => c.notNull())
          .addColumn('received_ms', bigint, (c) => c.notNull())
          .addColumn('hlc', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('ledger_index', bigint)
          .execute();
        await db.schema
          .createIndex('events_by_deployment')
          .on('events')
          .columns(['deployment', 'seq'])
          .execute();

        await db.schema
          .createTable('deployments')
          .addColumn('deployment', 'text', (c) => c.primaryKey())
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('environment', 'text', (c) => c.notNull())
          .addColumn('region', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('instance', 'text')
          .addColumn('cohort', 'text')
          .addColumn('traffic', 'real')
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('version', 'text')
          .addColumn('commit_sha', 'text')
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('ticket', 'text')
          .addColumn('build_id', 'text')
          .addColumn('build_url', 'text')
          .addColumn('build_provider', 'text')
          .addColumn('labels', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('head_type', 'text', (c) => c.notNull())
          .addColumn('head_ms', bigint, (c) => c.notNull())
          .addColumn('head_hlc', 'text', (c) => c.notNull())
          .addColumn('terminal_type', 'text')
          .addColumn('terminal_ms', bigint)
          .addColumn('terminal_hlc', 'text')
          .addColumn('desc_type', 'text', (c) => c.notNull())
          .addColumn('desc_ms', bigint, (c) => c.notNull())
          .addColumn('desc_hlc', 'text', (c) => c.notNull())
          .addColumn('requested_ms', bigint)
          .addColumn('started_ms', bigint)
          .addColumn('finished_ms', bigint)
          .addColumn('rolled_back_ms', bigint)
          .addColumn('duration_ms', bigint)
          .addColumn('approved', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('sort_ms', bigint, (c) => c.notNull())
          .addColumn('updated_ms', bigint, (c) => c.notNull())
          .execute();
        for (const [name, columns] of [
          ['deployments_newest', ['sort_ms', 'deployment']],
          ['deployments_by_service', ['service', 'sort_ms']],
          ['deployments_by_environment', ['environment', 'sort_ms']],
          ['deployments_by_status', ['status', 'sort_ms']],
          ['deployments_current', ['service', 'environment', 'region', 'status', 'finished_ms']],
          ['deployments_at', ['environment', 'finished_ms']],
        ] as const) {
          await db.schema
            .createIndex(name)
            .on('deployments')
            .columns([...columns])
            .execute();
        }

        await db.schema
          .createTable('environments')
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('environment', 'text', (c) => c.notNull())
          .addColumn('region', 'text', (c) => c.notNull())
          .addColumn('current_deployment', 'text')
          .addColumn('current_version', 'text')
          .addColumn('current_since_ms', bigint)
          .addColumn('current_actor', 'text')
          .addColumn('progress_deployment', 'text')
          .addColumn('progress_version', 'text')
          .addColumn('progress_since_ms', bigint)
          .addColumn('progress_actor', 'text')
          .addColumn('progress_count', 'integer', (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('environments_pk', ['service', 'environment', 'region'])
          .execute();

        await db.schema
          .createTable('tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull().unique())
          .addColumn('scopes', 'text')
          .addColumn('created_ms', bigint, (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('revoked_ms', bigint)
          .execute();

        await db.schema
          .createTable('sources')
          .addColumn('source', 'text', (c) => c.primaryKey())
          .addColumn('events', bigint, (c) => c.notNull())
          .addColumn('skew_count', bigint, (c) => c.notNull())
          .addColumn('skew_sum_ms', bigint, (c) => c.notNull())
          .addColumn('skew_min_ms', bigint)
          .addColumn('skew_max_ms', bigint)
          .addColumn('skew_last_ms', bigint)
          .addColumn('last_seen_ms', bigint, (c) => c.notNull())
          .execute();
      },
    },
  };
}

export async function migrateToLatest<T>(db: Kysely<T>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const migrator = new Migrator({ db: db as unknown as AnyDb, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new ShiplogError(
      'SHIPLOG_CONFIG',
      `database migration ${failed} failed: ${String((error as Error).message ?? error)}`,
    );
  }
}

/** Drops every shiplog table (tests only). */
export async function dropAll<T>(db: Kysely<T>): Promise<void> {
  for (const table of [
    'events',
    'deployments',
    'environments',
    'tokens',
    'sources',
    'kysely_migration',
    'kysely_migration_lock',
  ]) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
