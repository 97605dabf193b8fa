/**
 * API tokens. Only a SHA-256 hash of each secret is stored (the secrets are 256-bit random, so
 * a fast hash is enough); the secret is shown once, at creation.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
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

export async function createToken(
  db: Kysely<Database> | Transaction<Database>,
  input: { name: string; role: Role; scopes?: Scopes | null; createdBy: string; secret?: string },
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
  return { token: toToken(row), secret };
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

/** Revokes a token; returns it, or undefined when there is no such token. */
export async function revokeToken(
  db: Kysely<Database> | Transaction<Database>,
  id: string,
): Promise<Token | undefined> {
  const row = await db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  if (row.revoked_ms === null) {
    row.revoked_ms = Date.now();
    await db.updateTable('tokens').set({ revoked_ms: row.revoked_ms }).where('id', '=', id).execute();
  }
  return toToken(row);
}

/** Creates the bootstrap admin token once; later starts with the same secret change nothing. */
export async function ensureBootstrapToken(db: Kysely<Database>, secret: string): Promise<void> {
  const existing = await db
    .selectFrom('tokens')
    .select('id')
    .where('hash', '=', hashSecret(secret))
    .executeTakeFirst();
  if (!existing) await createToken(db, { name: 'bootstrap', role: 'admin', createdBy: 'bootstrap', secret });
}
