/**
 * API tokens. Only a SHA-256 hash of each secret is stored (the secrets are 256-bit random, so
 * a fast hash is enough); the secret is shown once, at creation.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Store } from './database.js';
import { canonicalJson } from '../ledger/jcs.js';
import type { LedgerAppender } from './event-writer.js';
import type { Database, TokensTable } from './schema.js';

export const ROLES = ['admin', 'approver', 'deployer', 'viewer', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface Scopes {
  readonly services?: readonly string[];
  readonly environments?: readonly string[];
}

export interface Token {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly scopes: Scopes | null;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function toToken(row: TokensTable): Token {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    scopes: row.scopes ? (JSON.parse(row.scopes) as Scopes) : null,
    createdAt: new Date(row.created_ms).toISOString(),
    createdBy: row.created_by,
    revokedAt: row.revoked_ms === null ? null : new Date(row.revoked_ms).toISOString(),
  };
}

/** The ledger entry of a token change: never the secret or its hash. */
export interface TokenRecord {
  readonly recordType: 'token.created' | 'token.revoked';
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly scopes: Scopes | null;
  readonly by: string;
  readonly at: string;
}

function tokenRecord(type: TokenRecord['recordType'], token: Token, by: string, atMs: number): string {
  const record: TokenRecord = {
    recordType: type,
    id: token.id,
    name: token.name,
    role: token.role,
    scopes: token.scopes,
    by,
    at: new Date(atMs).toISOString(),
  };
  return canonicalJson(record);
}

/**
 * Creates a token. With `ledger`, `db` must be a write transaction (store.writeTransaction):
 * the token and its `token.created` ledger entry commit together.
 */
export async function createToken(
  db: Kysely<Database> | Transaction<Database>,
  input: {
    name: string;
    role: Role;
    scopes?: Scopes | null;
    createdBy: string;
    secret?: string;
    ledger?: LedgerAppender | undefined;
  },
): Promise<{ token: Token; secret: string }> {
  const secret = input.secret ?? `shiplog_${randomBytes(32).toString('base64url')}`;
  const row: TokensTable = {
    id: `tok_${randomBytes(9).toString('base64url')}`,
    name: input.name,
    role: input.role,
    hash: hashSecret(secret),
    scopes: input.scopes ? JSON.stringify(input.scopes) : null,
    created_ms: Date.now(),
    created_by: input.createdBy,
    revoked_ms: null,
  };
  await db.insertInto('tokens').values(row).execute();
  const token = toToken(row);
  if (input.ledger) {
    await input.ledger.append(db as Transaction<Database>, [
      tokenRecord('token.created', token, input.createdBy, row.created_ms),
    ]);
  }
  return { token, secret };
}

/** The active token with this secret, if any. */
export async function findTokenBySecret(db: Kysely<Database>, secret: string): Promise<Token | undefined> {
  const row = await db
    .selectFrom('tokens')
    .selectAll()
    .where('hash', '=', hashSecret(secret))
    .executeTakeFirst();
  return row && row.revoked_ms === null ? toToken(row) : undefined;
}

export async function listTokens(db: Kysely<Database>): Promise<Token[]> {
  const rows = await db.selectFrom('tokens').selectAll().orderBy('created_ms').orderBy('id').execute();
  return rows.map(toToken);
}

/**
 * Revokes a token; returns it, or undefined when there is no such token. With `ledger`, `db`
 * must be a write transaction: the first revocation appends a `token.revoked` entry with it.
 */
export async function revokeToken(
  db: Kysely<Database> | Transaction<Database>,
  id: string,
  options: { by?: string; ledger?: LedgerAppender | undefined } = {},
): Promise<Token | undefined> {
  const row = await db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  if (row.revoked_ms === null) {
    const revokedMs = Date.now();
    row.revoked_ms = revokedMs;
    await db.updateTable('tokens').set({ revoked_ms: revokedMs }).where('id', '=', id).execute();
    if (options.ledger) {
      await options.ledger.append(db as Transaction<Database>, [
        tokenRecord('token.revoked', toToken(row), options.by ?? 'unknown', revokedMs),
      ]);
    }
  }
  return toToken(row);
}

/**
 * Creates the bootstrap admin token once; later starts with the same secret change nothing.
 * Given the store's ledger, it is created in a write transaction with its ledger entry (and
 * replicas starting together create it once).
 */
export async function ensureBootstrapToken(
  db: Kysely<Database>,
  secret: string,
  recorded?: { store: Store; ledger: LedgerAppender },
): Promise<void> {
  const ensure = async (on: Kysely<Database> | Transaction<Database>, ledger?: LedgerAppender) => {
    const existing = await on
      .selectFrom('tokens')
      .select('id')
      .where('hash', '=', hashSecret(secret))
      .executeTakeFirst();
    if (!existing) {
      await createToken(on, { name: 'bootstrap', role: 'admin', createdBy: 'bootstrap', secret, ledger });
    }
  };
  if (recorded) await recorded.store.writeTransaction((trx) => ensure(trx, recorded.ledger));
  else await ensure(db);
}
