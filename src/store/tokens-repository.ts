/**
 * API tokens. Only a SHA-256 hash of each secret is stored (the secrets are 256-bit random, so
 * a fast hash is enough); the secret is shown once, at creation.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../ledger/jcs.js';
import { keysetPage, type Page, type PageRequest } from './cursor.js';
import type { WriteTransaction } from './database.js';
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

function hashSecret(secret: string): string {
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

export interface NewToken {
  readonly name: string;
  readonly role: Role;
  readonly scopes?: Scopes | null;
  readonly createdBy: string;
  /** The secret to use; default a fresh 256-bit random one. */
  readonly secret?: string;
  /** When given, the `token.created` entry is appended in the same write transaction. */
  readonly ledger?: LedgerAppender | undefined;
}

export interface TokensRepository {
  /**
   * Creates a token. With a ledger, the token and its `token.created` ledger entry commit
   * together: in `trx` when given, else in a write transaction of its own.
   */
  create(input: NewToken, trx?: WriteTransaction): Promise<{ token: Token; secret: string }>;
  /** The active token with this secret, if any. */
  findBySecret(secret: string): Promise<Token | undefined>;
  /** One page of tokens, oldest first (keyset on created_ms, id). */
  list(request: PageRequest): Promise<Page<Token>>;
  /**
   * Revokes a token; returns it, or undefined when there is no such token. With a ledger, the
   * first revocation appends a `token.revoked` entry in the same write transaction.
   */
  revoke(
    id: string,
    options?: { by?: string; ledger?: LedgerAppender | undefined },
    trx?: WriteTransaction,
  ): Promise<Token | undefined>;
  /**
   * Creates the bootstrap admin token once; later starts with the same secret change nothing.
   * Given the ledger, it is created in a write transaction with its ledger entry (and replicas
   * starting together create it once).
   */
  ensureBootstrap(secret: string, ledger?: LedgerAppender): Promise<void>;
}

export function createTokensRepository(
  db: Kysely<Database>,
  writeTransaction: <T>(fn: (trx: WriteTransaction) => Promise<T>) => Promise<T>,
): TokensRepository {
  /** Runs `fn` in `trx`, or in a new write transaction when a ledger entry must commit with it. */
  function inTransaction<T>(
    trx: WriteTransaction | undefined,
    ledger: LedgerAppender | undefined,
    fn: (on: Kysely<Database>, trx: WriteTransaction | undefined) => Promise<T>,
  ): Promise<T> {
    if (trx) return fn(trx, trx);
    if (ledger) return writeTransaction((t) => fn(t, t));
    return fn(db, undefined);
  }

  async function create(input: NewToken, trx?: WriteTransaction): Promise<{ token: Token; secret: string }> {
    return inTransaction(trx, input.ledger, async function createToken(on, inTrx) {
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
      await on.insertInto('tokens').values(row).execute();
      const token = toToken(row);
      if (input.ledger && inTrx) {
        await input.ledger.append(inTrx, [
          tokenRecord('token.created', token, input.createdBy, row.created_ms),
        ]);
      }
      return { token, secret };
    });
  }

  return Object.freeze({
    create,

    async findBySecret(secret: string) {
      const row = await db
        .selectFrom('tokens')
        .selectAll()
        .where('hash', '=', hashSecret(secret))
        .executeTakeFirst();
      return row && row.revoked_ms === null ? toToken(row) : undefined;
    },

    async list(request: PageRequest) {
      return keysetPage(
        db.selectFrom('tokens').selectAll(),
        { columns: ['created_ms', 'id'], shape: ['n', 's'], direction: 'asc' },
        request,
        toToken,
        (last) => [Number(last.created_ms), last.id],
      );
    },

    async revoke(
      id: string,
      options: { by?: string; ledger?: LedgerAppender | undefined } = {},
      trx?: WriteTransaction,
    ) {
      return inTransaction(trx, options.ledger, async function revokeToken(on, inTrx) {
        const row = await on.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
        if (!row) return undefined;
        if (row.revoked_ms === null) {
          const revokedMs = Date.now();
          row.revoked_ms = revokedMs;
          await on.updateTable('tokens').set({ revoked_ms: revokedMs }).where('id', '=', id).execute();
          if (options.ledger && inTrx) {
            await options.ledger.append(inTrx, [
              tokenRecord('token.revoked', toToken(row), options.by ?? 'unknown', revokedMs),
            ]);
          }
        }
        return toToken(row);
      });
    },

    async ensureBootstrap(secret: string, ledger?: LedgerAppender) {
      await inTransaction(undefined, ledger, async function ensureBootstrapToken(on, inTrx) {
        const existing = await on
          .selectFrom('tokens')
          .select('id')
          .where('hash', '=', hashSecret(secret))
          .executeTakeFirst();
        if (!existing) {
          await create({ name: 'bootstrap', role: 'admin', createdBy: 'bootstrap', secret, ledger }, inTrx);
        }
      });
    },
  });
}
