/**
 * Runs a suite on every database dialect: SQLite always, PostgreSQL when
 * SHIPLOG_TEST_DATABASE_URL is set (CI always sets it, and then an unreachable PostgreSQL is a
 * failure, never a skip). Each opened store gets a fresh SQLite folder or a fresh database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/database.js';

export const POSTGRES_URL = process.env.SHIPLOG_TEST_DATABASE_URL;

if (process.env.CI && !POSTGRES_URL) {
  throw new Error('CI must set SHIPLOG_TEST_DATABASE_URL: the PostgreSQL suite may not be skipped');
}

export const DIALECTS: readonly ('sqlite' | 'postgres')[] = POSTGRES_URL
  ? ['sqlite', 'postgres']
  : ['sqlite'];

export interface TestDatabase {
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  open(): Promise<Store>;
  destroy(): Promise<void>;
}

let counter = 0;

/** A fresh, empty database of the dialect. */
export async function freshDatabase(dialect: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-test-'));
  if (dialect === 'sqlite') {
    return {
      dataDir,
      databaseUrl: undefined,
      open: () => openStore({ dataDir }),
      destroy: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  const name = `shiplog_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL as string);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    dataDir,
    databaseUrl,
    open: () => openStore({ dataDir, databaseUrl }),
    destroy: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
