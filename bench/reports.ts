/**
 * Audit report benchmark (DESIGN.md §13): a month of BENCH_REPORT_DEPLOYMENTS production
 * deployments (default 100k: two events each, every other one approved and gated, so about
 * 300k cited ledger entries) reported in each format, against the bare SQL read of the same
 * rows with better-sqlite3 (the deployments of the month, their events' bodies and the ledger
 * bytes of their approvals and gate decisions). Both measured in the same run. The issue's
 * target is absolute: each format within 10 s on the machine that runs it; the ratio says what
 * the report costs above reading its rows.
 *
 * The ledger entries are appended through the real ledger (so checkpoint and proofs are real);
 * the table rows are then written straight into SQLite with the indexes the ledger gave.
 */
import { Writable } from 'node:stream';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { canonicalJson } from '../src/ledger/jcs.js';
import { generateSigner } from '../src/ledger/note.js';
import { openAuditReport } from '../src/reports/audit-report.js';
import { writeAuditReport, type AuditFormat } from '../src/reports/audit-output.js';
import { monthRange } from '../src/reports/month.js';
import { openStore } from '../src/store/database.js';
import { createLedger } from '../src/store/ledger-repository.js';
import { report, tempDir } from './lib.js';

const DEPLOYMENTS = Number(process.env.BENCH_REPORT_DEPLOYMENTS ?? 100_000);
const T0 = Date.parse('2026-11-01T00:00:00Z');
const SPAN_MS = 29 * 24 * 3_600_000;
const TARGET_MS = 10_000;
/** `BENCH_REPORT_FORMATS=pdf,csv` measures only those. */
const FORMATS = (process.env.BENCH_REPORT_FORMATS ?? 'json,csv,html,pdf').split(',') as AuditFormat[];

interface Seeded {
  events: [id: string, deployment: string, type: string, timeMs: number, body: string, index: number][];
  approvals: [id: string, deployment: string, version: string, timeMs: number, index: number][];
  gates: [id: string, deployment: string, version: string, timeMs: number, index: number][];
}

function records(n: number) {
  const deployment = `bench-${n}`;
  const version = `1.${n % 1000}.0`;
  const service = `svc-${n % 200}`;
  const start = T0 + Math.floor((n / DEPLOYMENTS) * SPAN_MS);
  const iso = (ms: number) => new Date(ms).toISOString();
  const event = (type: string, ms: number, extra: Record<string, unknown>) => ({
    recordType: 'event',
    id: `${deployment}-${type}`,
    type,
    time: iso(ms),
    receivedAt: iso(ms),
    hlc: `${ms.toString(16)}-0000`,
    source: 'bench',
    deployment,
    service,
    environment: 'production',
    actor: `dev-${n % 40}`,
    kind: 'release',
    ...extra,
  });
  const gated = n % 2 === 0;
  return {
    deployment,
    version,
    service,
    start,
    started: event('deployment.started', start, {
      version,
      ticket: `OPS-${n % 5000}`,
      labels: { justification: `change ${n}, "quoted"` },
    }),
    succeeded: event('deployment.succeeded', start + 300_000, {}),
    approval: gated
      ? {
          recordType: 'approval',
          id: `apr-${n}`,
          deployment,
          service,
          environment: 'production',
          version,
          approver: `approver-${n % 7}`,
          approverRole: 'approver',
          decision: 'approve',
          comment: 'ok',
          createdAt: iso(start - 60_000),
          expiresAt: null,
        }
      : undefined,
    gate: gated
      ? {
          recordType: 'gate_decision',
          decisionId: `gate-${n}`,
          deployment,
          service,
          environment: 'production',
          version,
          kind: 'release',
          ticket: `OPS-${n % 5000}`,
          askedBy: 'ci',
          allow: true,
          enforced: true,
          overridden: false,
          override: null,
          reasons: [],
          decidedAt: iso(start - 30_000),
        }
      : undefined,
  };
}

async function seed(dataDir: string): Promise<void> {
  const store = await openStore({ dataDir });
  const signer = generateSigner('bench.local/ledger').signer;
  const ledger = createLedger(store, { signer, origin: 'bench.local/ledger' });
  const seeded: Seeded = { events: [], approvals: [], gates: [] };
  const BATCH = 2000;
  for (let from = 0; from < DEPLOYMENTS; from += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, DEPLOYMENTS - from) }, (_, i) => records(from + i));
    await store.writeTransaction(async (trx) => {
      const eventBodies = batch.flatMap((r) => [canonicalJson(r.started), canonicalJson(r.succeeded)]);
      const first = await ledger.append(trx, eventBodies, 'event', true);
      batch.forEach((r, i) => {
        seeded.events.push([
          r.started.id,
          r.deployment,
          r.started.type,
          r.start,
          eventBodies[2 * i] as string,
          first + 2 * i,
        ]);
        seeded.events.push([
          r.succeeded.id,
          r.deployment,
          r.succeeded.type,
          r.start + 300_000,
          eventBodies[2 * i + 1] as string,
          first + 2 * i + 1,
        ]);
      });
      const gated = batch.filter((r) => r.approval && r.gate);
      const others = gated.flatMap((r) => [canonicalJson(r.approval), canonicalJson(r.gate)]);
      const next = await ledger.append(trx, others);
      gated.forEach((r, i) => {
        seeded.approvals.push([
          `apr-${r.deployment}`,
          r.deployment,
          r.version,
          r.start - 60_000,
          next + 2 * i,
        ]);
        seeded.gates.push([
          `gate-${r.deployment}`,
          r.deployment,
          r.version,
          r.start - 30_000,
          next + 2 * i + 1,
        ]);
      });
    });
  }
  await store.close();

  const db = new SQLite(path.join(dataDir, 'shiplog.db'));
  db.pragma('synchronous = OFF');
  const deployment =
    db.prepare(`insert into deployments (deployment, service, environment, region, kind, version,
    actor, ticket, labels, status, head_type, head_ms, head_hlc, terminal_type, terminal_ms, terminal_hlc, desc_type, desc_ms,
    desc_hlc, started_ms, finished_ms, duration_ms, approved, sort_ms, updated_ms, event_count)
    values (?, ?, 'production', '', 'release', ?, ?, ?, ?, 'succeeded', 'deployment.succeeded', ?, '0', 'deployment.succeeded',
    ?, '0', 'deployment.started', ?, '0', ?, ?, 300000, 1, ?, ?, 2)`);
  const event =
    db.prepare(`insert into events (id, scope, deployment, type, time_ms, received_ms, hlc, source, body, ledger_index)
    values (?, 'bench', ?, ?, ?, ?, '0', 'bench', ?, ?)`);
  const approval =
    db.prepare(`insert into approvals (id, deployment, service, environment, version, approver, approver_role,
    decision, comment, created_ms, expires_ms, ledger_index) values (?, ?, 'svc', 'production', ?, 'approver', 'approver', 'approve', 'ok', ?, null, ?)`);
  const gate =
    db.prepare(`insert into gate_decisions (id, deployment, service, environment, version, ticket, asked_by, allow,
    enforced, overridden, override_by, override_justification, reasons, created_ms, kind, ledger_index)
    values (?, ?, 'svc', 'production', ?, null, 'ci', 1, 1, 0, null, null, '[]', ?, 'release', ?)`);
  db.transaction(() => {
    for (let n = 0; n < DEPLOYMENTS; n += 1) {
      const r = records(n);
      const finish = r.start + 300_000;
      deployment.run(
        r.deployment,
        r.service,
        r.version,
        r.started.actor,
        `OPS-${n % 5000}`,
        JSON.stringify({ justification: `change ${n}, "quoted"` }),
        finish,
        finish,
        r.start,
        r.start,
        finish,
        r.start,
        finish,
      );
    }
    for (const e of seeded.events) event.run(e[0], e[1], e[2], e[3], e[3], e[4], e[5]);
    for (const a of seeded.approvals) approval.run(...a);
    for (const g of seeded.gates) gate.run(...g);
  })();
  db.close();
}

/** Reads the same rows as the report with bare better-sqlite3; answers the number of rows read. */
function bareRead(file: string, fromMs: number, toMs: number): number {
  const db = new SQLite(file, { readonly: true });
  let rows = 0;
  const month = `from deployments d where d.environment = 'production' and d.sort_ms >= ? and d.sort_ms < ?`;
  for (const row of db
    .prepare(`select d.deployment, d.sort_ms ${month} order by d.sort_ms, d.deployment`)
    .iterate(fromMs, toMs)) {
    if (row) rows += 1;
  }
  for (const query of [
    `select e.deployment, e.ledger_index, e.body from events e where e.deployment in (select d.deployment ${month})`,
    `select a.deployment, l.idx, l.data from approvals a join ledger_entries l on l.idx = a.ledger_index where a.deployment in (select d.deployment ${month})`,
    `select g.deployment, l.idx, l.data from gate_decisions g join ledger_entries l on l.idx = g.ledger_index where g.deployment in (select d.deployment ${month})`,
  ]) {
    for (const row of db.prepare(query).iterate(fromMs, toMs)) if (row) rows += 1;
  }
  db.close();
  return rows;
}

export async function benchReports(): Promise<boolean> {
  const dataDir = tempDir('reports');
  process.stderr.write(`seeding a month of ${DEPLOYMENTS} production deployments...\n`);
  await seed(dataDir);
  const range = monthRange('2026-11', 'UTC');
  if (!range) throw new Error('bad month');
  const file = path.join(dataDir, 'shiplog.db');

  const bareStart = performance.now();
  const rowsRead = bareRead(file, range.fromMs, range.toMs);
  const bareMs = performance.now() - bareStart;

  const store = await openStore({ dataDir });
  const ledger = createLedger(store, {
    signer: generateSigner('bench.local/ledger').signer,
    origin: 'bench.local/ledger',
  });
  let ok = true;
  for (const format of FORMATS) {
    let bytes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback();
      },
    });
    const started = performance.now();
    const opened = await openAuditReport(
      { store, ledger, policy: { environments: {} } },
      { range, environment: 'production', generatedBy: 'bench' },
    );
    const summary = await writeAuditReport(opened, format, sink);
    const ms = performance.now() - started;
    const pass = ms <= TARGET_MS && summary.deployments === DEPLOYMENTS;
    ok &&= pass;
    report(
      `audit report, ${format}, a month of ${DEPLOYMENTS} production deployments`,
      `${(ms / 1000).toFixed(2)} s for ${summary.deployments} rows, ${(bytes / 1e6).toFixed(1)} MB (absolute target <= 10 s: ${ms <= TARGET_MS ? 'met' : 'MISSED'})`,
      `${(bareMs / 1000).toFixed(2)} s bare SQL (better-sqlite3) reading the same ${rowsRead} rows`,
      ms / bareMs,
      'report within 10 s',
      pass,
    );
  }
  await store.close();
  return ok;
}
