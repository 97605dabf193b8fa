/** Leases: one row per kind of background work, naming the replica that runs it until when. */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface LeasesRepository {
  /**
   * Takes or renews lease `name` for `holder` until `nowMs + ttlMs`, in one statement: it
   * succeeds when the lease is free, expired, or already `holder`'s. True when `holder` holds it.
   */
  acquire(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean>;
  /** Gives the lease up at once (on shutdown), so another replica need not wait for it to expire. */
  release(name: string, holder: string): Promise<void>;
  /** The current holder and expiry, or undefined when nobody ever held it. */
  get(name: string): Promise<{ holder: string; expiresMs: number } | undefined>;
}

export function createLeasesRepository(db: Kysely<Database>): LeasesRepository {
  return Object.freeze({
    async acquire(name: string, holder: string, ttlMs: number, nowMs: number) {
      const row = await db
        .insertInto('leases')
        .values({ name, holder, expires_ms: nowMs + ttlMs })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet((eb) => ({
              holder: eb.ref('excluded.holder'),
              expires_ms: eb.ref('excluded.expires_ms'),
            }))
            .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_ms', '<=', nowMs)])),
        )
        .returning('holder')
        .executeTakeFirst();
      return row?.holder === holder;
    },
    async release(name: string, holder: string) {
      await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
    },
    async get(name: string) {
      const row = await db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
      return row ? { holder: row.holder, expiresMs: Number(row.expires_ms) } : undefined;
    },
  });
}
