/**
 * A store aged with a fake clock through hot → archive → purge (DESIGN.md §14): after each step
 * `shiplog verify` passes (and counts the retired payloads), every segment proves on its own
 * (`shiplog archive verify`), and deployment reads and the monthly audit report (over real HTTP)
 * answer from the database or say which month to restore. Then a restore brings a month back
 * and the audit report is again the one the month had before it was archived.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeEvent, type EventInput } from '../../src/domain/event.js';
import { parseVerifierKey } from '../../src/ledger/note.js';
import { createRetention, productionRule, type Retention } from '../../src/retention/archiver.js';
import { DEFAULT_RETENTION, type RetentionConfig } from '../../src/retention/retention-config.js';
import { restoreMonth } from '../../src/retention/restore.js';
import { createFolderStorage } from '../../src/retention/segment-storage.js';
import { verifySegment } from '../../src/retention/segment-verify.js';
import { auditLedger } from '../../src/store/ledger-audit.js';
import { ADMIN, testApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { runVerify } from '../ledger/run-verify.js';

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function record(t: TestApp, receivedIso: string, input: Omit<EventInput, 'type'>, types: string[]) {
  const receivedMs = at(receivedIso);
  for (const [i, type] of types.entries()) {
    const event = normalizeEvent(
      { ...input, type: type as EventInput['type'], time: new Date(receivedMs + i * 60_000).toISOString() },
      { nowMs: receivedMs, actor: 'ci', newId: randomUUID },
    );
    await t.app.writer.write({
      events: [event],
      source: 'ci',
      receivedMs: receivedMs + i * 60_000,
      timed: [true],
      pointers: [''],
    });
  }
}

function retentionOf(
  t: TestApp,
  config: RetentionConfig,
): { retention: Retention; storage: ReturnType<typeof createFolderStorage> } {
  const storage = createFolderStorage(path.join(t.database.dataDir, 'archive'));
  const retention = createRetention({
    store: t.store,
    storage,
    config,
    checkpoint: () => t.app.ledger.cutCheckpoint(),
    verifierKey: t.app.ledger.verifierKey,
    verifiers: [parseVerifierKey(t.app.ledger.verifierKey)],
    isProduction: productionRule([]),
  });
  return { retention, storage };
}

async function ledgerHolds(t: TestApp) {
  const report = await auditLedger(t.store, { verifiers: [parseVerifierKey(t.app.ledger.verifierKey)] });
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
  const where = t.database.databaseUrl
    ? ['--database', t.database.databaseUrl]
    : ['--data', t.database.dataDir];
  const cli = await runVerify([...where, '--key', t.app.ledger.verifierKey, '--json', '--quiet']);
  expect(cli.code).toBe(0);
  expect(JSON.parse(cli.out)).toMatchObject({ ok: true, retired: report.retired });
  return report;
}

/** GET over real HTTP on the app's port, with the admin token. */
async function httpGet(base: string, url: string) {
  const response = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as AuditAnswer };
}

interface AuditAnswer {
  rows?: { deployment: string; ledgerIndex: number; evidence: number[] }[];
  error?: { code: string; message: string; details: { path: string; message: string }[] };
}

describe.each(DIALECTS)('retention tiers on %s', (dialect) => {
  it('ages a store through hot, archive and purge; every proof holds and reads say where records went', async () => {
    const t = (current = await testApp(dialect));
    const base = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    const audit = (month: string, environment = 'production', format = 'json') =>
      httpGet(base, `/v1/reports/audit?month=${month}&environment=${environment}&format=${format}`);
    const svc = { service: 'checkout', version: '1.0.0' };
    const steps = ['deployment.started', 'deployment.succeeded'];
    await record(
      t,
      '2026-01-10T10:00:00Z',
      { ...svc, deployment: 'jan-prod', environment: 'production' },
      steps,
    );
    await record(
      t,
      '2026-01-11T10:00:00Z',
      { ...svc, deployment: 'jan-stage', environment: 'staging' },
      steps,
    );
    // A record that is not an event (a token change) lands in January's range too.
    expect((await t.call('POST', '/v1/tokens', { name: 'bob', role: 'viewer' })).status).toBe(201);
    await record(
      t,
      '2026-01-20T10:00:00Z',
      { ...svc, version: '1.1.0', deployment: 'jan-prod-2', environment: 'production' },
      steps,
    );
    // The gate asked in January for a deployment that starts in February: its decision's entry
    // lies in January's range.
    const gated = await t.call('POST', '/v1/gate', {
      deployment: 'feb-gated',
      service: 'checkout',
      environment: 'production',
      version: '1.3.0',
    });
    expect(gated.status).toBe(200);
    expect(gated.json()).toMatchObject({ allow: true });
    // Started on the last minute of January, finished in February: its records span two segments.
    await record(
      t,
      '2026-01-31T23:59:00Z',
      { ...svc, version: '1.1.1', deployment: 'jan-late', environment: 'production' },
      steps,
    );
    await record(
      t,
      '2026-02-05T10:00:00Z',
      { ...svc, version: '1.2.0', deployment: 'feb-prod', environment: 'production' },
      steps,
    );
    await record(
      t,
      '2026-02-10T10:00:00Z',
      { ...svc, version: '1.3.0', deployment: 'feb-gated', environment: 'production' },
      steps,
    );
    await record(
      t,
      '2026-02-06T10:00:00Z',
      { ...svc, deployment: 'feb-stage', environment: 'staging' },
      steps,
    );
    await record(
      t,
      '2026-03-03T10:00:00Z',
      { service: 'search', version: '7', deployment: 'mar-prod', environment: 'production' },
      steps,
    );
    const config: RetentionConfig = {
      ...DEFAULT_RETENTION,
      hotMs: 30 * DAY,
      archiveMs: 366 * DAY,
      purgeNonProductionMs: 90 * DAY,
    };
    const { retention, storage } = retentionOf(t, config);
    const verifiers = [parseVerifierKey(t.app.ledger.verifierKey)];

    // Hot: nothing older than 30 days at the end of January.
    expect((await retention.runArchive(at('2026-02-20T00:00:00Z'))).archived).toEqual([]);
    const january = await audit('2026-01');
    expect(january.status).toBe(200);
    const januaryRows = january.json().rows;
    expect(januaryRows?.map((r) => r.deployment)).toEqual(['jan-prod', 'jan-prod-2', 'jan-late']);

    // Cold: January is archived (a verified segment) and still fully in the database.
    const cold = await retention.runArchive(at('2026-03-15T00:00:00Z'));
    expect(cold.failures).toEqual([]);
    expect(cold.archived.map((a) => a.month)).toEqual(['2026-01']);
    expect(cold.archived[0]).toMatchObject({ first: 0, entries: 9, deployments: 4 });
    expect(cold.purged).toEqual([]);
    expect((await ledgerHolds(t)).retired).toBe(0);
    expect((await t.call('GET', '/v1/deployments/jan-prod')).status).toBe(200);
    // The audit report of a cold month still answers from the database, unchanged.
    expect((await audit('2026-01')).json().rows).toEqual(januaryRows);

    // Non-production past 90 days: staging's January and early-February events leave the
    // database (archived or not); production stays.
    const nonProd = await retention.runArchive(at('2026-05-20T00:00:00Z'));
    expect(nonProd.archived.map((a) => a.month)).toEqual(['2026-02', '2026-03']);
    expect(nonProd.nonProduction.events).toBe(4);
    expect((await ledgerHolds(t)).retired).toBe(4);
    const stage = await t.call('GET', '/v1/deployments/jan-stage');
    expect(stage.status).toBe(410);
    expect(stage.json().error?.code).toBe('SHIPLOG_ARCHIVED');
    expect(JSON.stringify(stage.json())).toContain('shiplog archive restore 2026-01');
    expect((await t.call('GET', '/v1/deployments/jan-prod')).status).toBe(200);
    expect((await t.call('GET', '/v1/deployments/feb-prod')).status).toBe(200);
    // Staging's report of February would miss the purged events: it says so and names the
    // segment that holds them; production's report of February is whole.
    const stagingFebruary = await audit('2026-02', 'staging');
    expect(stagingFebruary.status).toBe(410);
    expect(stagingFebruary.json().error?.code).toBe('SHIPLOG_ARCHIVED');
    expect(stagingFebruary.json().error?.message).toContain('shiplog archive restore 2026-02');
    expect((await audit('2026-02')).json().rows?.map((r) => r.deployment)).toEqual(['feb-prod', 'feb-gated']);

    // Archive age: January leaves the database first. February's report cites the gate decision
    // asked in January, now retired: it says so and names January.
    const first = await retention.runArchive(at('2027-02-15T00:00:00Z'));
    expect(first.purged.map((p) => p.month)).toEqual(['2026-01']);
    const gatedFebruary = await audit('2026-02');
    expect(gatedFebruary.status).toBe(410);
    expect(gatedFebruary.json().error?.message).toContain('an approval or gate decision cited by');
    expect(gatedFebruary.json().error?.message).toContain('shiplog archive restore 2026-01');
    // Then every month older than a year leaves the database, leaf hashes kept.
    const purge = await retention.runArchive(at('2027-05-01T00:00:00Z'));
    expect(purge.failures).toEqual([]);
    expect(purge.purged.map((p) => p.month)).toEqual(['2026-02', '2026-03']);
    const segments = await t.store.retention.segments();
    const archivedEntries = segments.reduce((n, s) => n + Number(s.end_idx) - Number(s.first_idx), 0);
    const report = await ledgerHolds(t);
    expect(report.retired).toBe(archivedEntries);
    for (const segment of segments) {
      const verdict = await verifySegment(storage, segment.month, verifiers);
      expect(verdict).toMatchObject({ ok: true, month: segment.month });
    }
    // The audit report of a retired month: a 410 naming the month and the restore command, in
    // every format and for the evidence bundle, never a report with rows missing.
    for (const format of ['json', 'csv', 'pdf']) {
      const retired = await audit('2026-01', 'production', format);
      expect(retired.status).toBe(410);
      expect(retired.json().error).toMatchObject({
        code: 'SHIPLOG_ARCHIVED',
        details: [{ path: 'month', message: '2026-01' }],
      });
      expect(retired.json().error?.message).toContain('shiplog archive restore 2026-01');
    }
    const bundle = await httpGet(base, '/v1/reports/audit/bundle?month=2026-01&environment=production');
    expect(bundle.status).toBe(410);
    expect(bundle.json().error?.message).toContain('shiplog archive restore 2026-01');
    const gone = await t.call('GET', '/v1/deployments/jan-prod');
    expect(gone.status).toBe(410);
    expect(gone.json().error?.code).toBe('SHIPLOG_ARCHIVED');
    const past = await t.call('GET', '/v1/state?environment=production&at=2026-01-25T00:00:00Z');
    expect(past.status).toBe(410);
    expect(JSON.stringify(past.json())).toContain('2026-01');
    // Each service's newest deployment row stays as the baseline of later states.
    const now = await t.call('GET', '/v1/state?environment=production&at=2027-04-01T00:00:00Z');
    expect(now.status).toBe(200);
    expect((now.json().items as { deployment: string }[]).map((i) => i.deployment).sort()).toEqual([
      'feb-gated',
      'mar-prod',
    ]);

    // Restore: January comes back, proved, and the ledger still verifies.
    const restored = await restoreMonth(t.store, storage, '2026-01', verifiers, at('2027-05-02T00:00:00Z'));
    expect(restored).toMatchObject({ month: '2026-01', entries: 9, restored: 9 });
    const back = await t.call('GET', '/v1/deployments/jan-prod');
    expect(back.status).toBe(200);
    expect((back.json().events as unknown[]).length).toBe(2);
    expect((await ledgerHolds(t)).retired).toBe(archivedEntries - 9);
    // jan-late finished in February, still retired: January's report says so rather than show
    // it unfinished, and names the month to restore as well.
    const partly = await audit('2026-01');
    expect(partly.status).toBe(410);
    expect(partly.json().error?.message).toContain('shiplog archive restore 2026-02');
    const february = await restoreMonth(t.store, storage, '2026-02', verifiers, at('2027-05-02T00:00:00Z'));
    expect(february.restored).toBeGreaterThan(0);
    expect((await ledgerHolds(t)).retired).toBe(archivedEntries - 9 - february.restored);
    // The restored month's audit report is again the one it had before it was archived.
    const again = await audit('2026-01');
    expect(again.status).toBe(200);
    expect(again.json().rows).toEqual(januaryRows);
    // Restored months stay for one hot period, then leave again.
    expect((await retention.runArchive(at('2027-05-10T00:00:00Z'))).purged).toEqual([]);
    expect((await retention.runArchive(at('2027-06-10T00:00:00Z'))).purged.map((p) => p.month)).toEqual([
      '2026-01',
      '2026-02',
    ]);
    expect((await ledgerHolds(t)).retired).toBe(archivedEntries);
  });
});
