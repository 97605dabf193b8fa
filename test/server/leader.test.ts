/**
 * The leader lease: background work runs on one replica of a shared database, and another takes
 * it over when the leader stops or dies (DESIGN.md §11).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp, type App } from '../../src/server/app.js';
import { createLeader, LEASE_NAME } from '../../src/server/leader.js';
import type { Store } from '../../src/store/database.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';

describe.each(DIALECTS)('leader lease (%s)', (dialect) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function twoStores(): Promise<[Store, Store, TestDatabase]> {
    const database = await freshDatabase(dialect);
    const a = await database.open();
    const b = await database.open();
    cleanup.push(
      () => database.destroy(),
      () => a.close(),
      () => b.close(),
    );
    return [a, b, database];
  }

  it('lets one replica lead until its lease expires, then the other takes over', async () => {
    const [a, b] = await twoStores();
    let clock = 1_000_000;
    const now = () => clock;
    const first = createLeader(a.leases, { holder: 'first', ttlMs: 1000, now });
    const second = createLeader(b.leases, { holder: 'second', ttlMs: 1000, now });

    expect(await first.renew()).toBe(true);
    expect(await second.renew()).toBe(false);
    clock += 600;
    expect(await first.renew()).toBe(true); // renewal moves the expiry on
    clock += 600;
    expect(await second.renew()).toBe(false);
    // The first replica dies: it renews no more. Past its expiry the second takes over...
    clock += 1001;
    expect(first.isLeader()).toBe(false);
    expect(await second.renew()).toBe(true);
    // ...and the first, coming back, finds the lease taken.
    expect(await first.renew()).toBe(false);
    expect(await a.leases.get(LEASE_NAME)).toEqual({ holder: 'second', expiresMs: clock + 1000 });
  });

  it('gives the lease up on stop, so the next replica need not wait for it to expire', async () => {
    const [a, b] = await twoStores();
    const first = createLeader(a.leases, { holder: 'first', ttlMs: 60_000 });
    const second = createLeader(b.leases, { holder: 'second', ttlMs: 60_000 });
    expect(await first.renew()).toBe(true);
    expect(await second.renew()).toBe(false);
    await first.stop();
    expect(await second.renew()).toBe(true);
    await second.stop();
    expect(await a.leases.get(LEASE_NAME)).toBeUndefined();
  });

  it('runs background tasks on one of two servers sharing a database, and on the other once it closes', async () => {
    const [a, b] = await twoStores();
    const runs = { first: 0, second: 0 };
    const apps: Record<'first' | 'second', App> = {
      first: await buildApp({ store: a, leader: createLeader(a.leases, { holder: 'first', ttlMs: 5000 }) }),
      second: await buildApp({ store: b, leader: createLeader(b.leases, { holder: 'second', ttlMs: 5000 }) }),
    };
    for (const name of ['first', 'second'] as const) {
      apps[name].leader.every('probe', 10, async () => {
        runs[name] += 1;
      });
      await apps[name].server.listen({ port: 0, host: '127.0.0.1' });
    }
    cleanup.push(async () => {
      await apps.second.server.close();
    });

    await vi.waitFor(() => expect(runs.first + runs.second).toBeGreaterThan(5), { timeout: 5000 });
    const leading = runs.first > 0 ? 'first' : 'second';
    const other = leading === 'first' ? 'second' : 'first';
    expect(runs[other]).toBe(0);
    expect(apps[leading].leader.isLeader()).toBe(true);

    await apps[leading].server.close();
    if (leading === 'second') cleanup.pop();
    const before = runs[leading];
    await vi.waitFor(() => expect(runs[other]).toBeGreaterThan(5), { timeout: 5000 });
    expect(runs[leading]).toBe(before);
    if (leading === 'second') await apps.first.server.close();
  });
});
