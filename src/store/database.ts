/**
 * Opens the database: embedded SQLite (better-sqlite3, WAL, fsync on commit) under the data
 * folder by default, or PostgreSQL when a URL is given. Both behind one Kysely instance, which
 * stays inside src/store: the rest of shiplog reads and writes through the repositories on the
 * store (one per aggregate, created once per store), never through a query builder. ESLint
 * enforces it (eslint.config.js: no `kysely` import, no `.db`, no query builder call outside
 * src/store).
 */
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  SqliteDialect,
  sql,
  type SqliteDatabase,
  type SqliteStatement,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { createAlertsRepository, type AlertsRepository } from './alerts-repository.js';
import { createApprovalsRepository, type ApprovalsRepository } from './approvals-repository.js';
import { createDeadLettersRepository, type DeadLettersRepository } from './dead-letters-repository.js';
import { createIncidentsRepository, type IncidentsRepository } from './incidents-repository.js';
import { postgresEachRow, sqliteEachRow, type EachRow } from './array-rows.js';
import { createDoraRepository, type DoraRepository } from './dora-repository.js';
import { createDeploymentsRepository, type DeploymentsRepository } from './deployments-repository.js';
import { createEnvironmentsRepository, type EnvironmentsRepository } from './environments-repository.js';
import { createGateDecisionsRepository, type GateDecisionsRepository } from './gate-decisions-repository.js';
import { createLedgerFeed, type LedgerFeed } from './ledger-feed.js';
import { migrateToLatest } from './migrations.js';
import { createOutboundSinksRepository, type OutboundSinksRepository } from './outbound-sinks-repository.js';
import { createReportsRepository, type ReportsRepository } from './reports-repository.js';
import { createRetentionRepository, type RetentionRepository } from './retention-repository.js';
import type { Database } from './schema.js';
import { createSilencesRepository, type SilencesRepository } from './silences-repository.js';
import { createVerificationsRepository, type VerificationsRepository } from './verifications-repository.js';
import { createSourcesRepository, type SourcesRepository } from './sources-repository.js';
import { createLeasesRepository, type LeasesRepository } from './leases-repository.js';
import { createTokensRepository, type TokensRepository } from './tokens-repository.js';
import { createDeliveriesRepository, type DeliveriesRepository } from './webhook-deliveries-repository.js';
import {
  createWebhookRecordsRepository,
  type WebhookRecordsRepository,
} from './webhook-records-repository.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * A write transaction, to hand to repository functions (and the ledger's `append`) so several
 * writes commit together. Outside src/store it is only passed along, never queried.
 */
export type WriteTransaction = Transaction<Database>;

/** The repositories, one per aggregate. */
export interface Repositories {
  readonly deployments: DeploymentsRepository;
  readonly environments: EnvironmentsRepository;
  readonly sources: SourcesRepository;
  readonly tokens: TokensRepository;
  readonly approvals: ApprovalsRepository;
  readonly gateDecisions: GateDecisionsRepository;
  readonly webhookDeliveries: DeliveriesRepository;
  readonly webhookRecords: WebhookRecordsRepository;
  readonly outboundSinks: OutboundSinksRepository;
  readonly deadLetters: DeadLettersRepository;
  readonly incidents: IncidentsRepository;
  /** Reads of the audit, access and coverage reports; batched token use. */
  readonly reports: ReportsRepository;
  /** Alertmanager silences held while services deploy. */
  readonly silences: SilencesRepository;
  /** Post-deployment verification runs and measurements. */
  readonly verifications: VerificationsRepository;
  /** The reads behind DORA metrics (DESIGN.md §10). */
  readonly dora: DoraRepository;
  readonly leases: LeasesRepository;
  readonly alerts: AlertsRepository;
  /** The ledger as a change feed, for the live stream (src/store/ledger-feed.ts). */
  readonly ledgerFeed: LedgerFeed;
  /** Archive segments and the retirement of payloads (src/retention). */
  readonly retention: RetentionRepository;
}

export interface Store extends Repositories {
  /** The query builder: for code inside src/store only (lint-enforced). */
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Where the data lives, for messages (never includes a password). */
  readonly location: string;
  /**
   * Runs `fn` in one write transaction. Writers are serialized by the database (an advisory
   * lock on PostgreSQL, the single write lock on SQLite), so several processes may share one
   * PostgreSQL and still append to one ledger in order.
   */
  writeTransaction<T>(fn: (trx: WriteTransaction) => Promise<T>): Promise<T>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  /** Apply pending migrations (default true). */
  readonly migrate?: boolean;
  /** Told when PostgreSQL drops an idle pooled connection (a restart, an admin's terminate). */
  readonly onConnectionError?: (error: Error) => void;
}

const WRITER_LOCK = 7350_0001;

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const store = options.databaseUrl
    ? openPostgres(options.databaseUrl, options.onConnectionError)
    : openSqlite(options.dataDir);
  if (options.migrate !== false) {
    try {
      await migrateToLatest(store.db, store.dialect);
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

function openSqlite(dataDir: string): Store {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'shiplog.db');
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before we acknowledge it, also across a power loss.
  database.pragma('synchronous = FULL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(database) }) });
  return withRepositories({
    db,
    dialect: 'sqlite',
    location: file,
    writeTransaction: (fn) => db.transaction().execute(fn),
    eachRow: sqliteEachRow(database),
  });
}

/** The store over `handle`, with its repositories created once. */
function withRepositories(
  {
    eachRow,
    ...handle
  }: Pick<Store, 'db' | 'dialect' | 'location' | 'writeTransaction'> & {
    readonly eachRow: EachRow;
  },
  postgresUrl?: string,
): Store {
  const { db } = handle;
  return {
    ...handle,
    deployments: createDeploymentsRepository(db),
    environments: createEnvironmentsRepository(db),
    sources: createSourcesRepository(db),
    tokens: createTokensRepository(db, handle.writeTransaction),
    approvals: createApprovalsRepository(db),
    gateDecisions: createGateDecisionsRepository(db),
    webhookDeliveries: createDeliveriesRepository(db),
    webhookRecords: createWebhookRecordsRepository(db),
    outboundSinks: createOutboundSinksRepository(db),
    deadLetters: createDeadLettersRepository(db),
    incidents: createIncidentsRepository(db),
    reports: createReportsRepository(db),
    silences: createSilencesRepository(db),
    verifications: createVerificationsRepository(db),
    dora: createDoraRepository(db, handle.dialect, eachRow),
    leases: createLeasesRepository(db),
    alerts: createAlertsRepository(db),
    ledgerFeed: createLedgerFeed(db, postgresUrl),
    retention: createRetentionRepository(
      db,
      handle.dialect,
      handle.writeTransaction,
      handle.dialect === 'sqlite' ? handle.location : undefined,
    ),
    ping: async () => {
      await sql`select 1`.execute(db);
      return true;
    },
    close: () => db.destroy(),
  };
}

/**
 * Kysely prepares every query anew; preparing costs as much as running a small statement.
 * Write paths use a few statement shapes over and over, so keep the prepared statements.
 */
function cachingStatements(database: SQLite.Database, max = 256): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(text: string): SqliteStatement {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text); // re-insert: the map's order is the recency order
      } else {
        statement = database.prepare(text);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

function openPostgres(url: string, onConnectionError: (error: Error) => void = () => {}): Store {
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      // int8 (20) and numeric (1700) hold epoch milliseconds and counters: all below 2^53.
      if (oid === 20 || oid === 1700) return (value: string) => Number(value);
      return pg.types.getTypeParser(oid, format);
    },
  } as pg.CustomTypesConfig;
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  // An idle client the server terminated is dropped from the pool and the next query opens a
  // new one; without a listener the 'error' event would be thrown and end the process.
  pool.on('error', onConnectionError);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const parsed = new URL(url);
  parsed.password = '';
  return withRepositories(
    {
      db,
      dialect: 'postgres',
      location: parsed.toString(),
      writeTransaction: (fn) =>
        db.transaction().execute(async (trx) => {
          await sql`select pg_advisory_xact_lock(${WRITER_LOCK})`.execute(trx);
          return fn(trx);
        }),
      eachRow: postgresEachRow(pool),
    },
    url,
  );
}
