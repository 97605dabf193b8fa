/**
 * The monthly audit report (DESIGN.md §13, docs/audit.md): every deployment of a month into one
 * environment, each row computed from the ledger entries it cites (src/reports/audit-row.ts),
 * all of them below one signed checkpoint that the report names.
 *
 * The checkpoint is taken first (cut when the tree grew since the last one); every read below
 * is bounded by its size, so an entry appended while the report is read is never cited, and
 * the report is exactly what the ledger said at that size. Rows are read and written one page
 * of deployments at a time. A month whose records retention retired is not answered with rows
 * missing: it is a 410 naming the month and `shiplog archive restore` (src/retention/tiers.ts).
 */
import type { ChangeWindow, Policy } from '../policy/index.js';
import { productionRule } from '../retention/archiver.js';
import { archivedReport } from '../retention/tiers.js';
import type { Store } from '../store/database.js';
import type { Ledger, StoredCheckpoint } from '../store/ledger-repository.js';
import type { EntryBytes } from '../store/reports-repository.js';
import { auditRowOf, firstEventMs, parseEvidence, type AuditRow } from './audit-row.js';
import type { MonthRange } from './month.js';

/** Deployments read per page. */
export const PAGE_SIZE = 1000;

export interface ReportCheckpoint {
  readonly origin: string;
  readonly size: number;
  /** Hex. */
  readonly rootHash: string;
  /** The signed note (C2SP tlog-checkpoint), as GET /v1/ledger/checkpoint serves it. */
  readonly note: string;
}

/** What the report is about and what it was built against: the first thing of every format. */
export interface AuditReportHeader {
  readonly report: 'audit';
  readonly month: string;
  readonly environment: string;
  readonly timeZone: string;
  /** The month's bounds in UTC (inclusive, exclusive). */
  readonly from: string;
  readonly to: string;
  readonly generatedAt: string;
  readonly generatedBy: string;
  readonly checkpoint: ReportCheckpoint;
  /** The environment's change windows when the report was built (outsideWindow is judged by them). */
  readonly windows: readonly ChangeWindow[];
}

/** One row and the entries it is computed from. */
export interface CitedRow {
  readonly row: AuditRow;
  readonly entries: readonly EntryBytes[];
}

export interface AuditReportDeps {
  readonly store: Store;
  readonly ledger: Ledger;
  readonly policy: Policy;
}

export interface AuditReportRequest {
  readonly range: MonthRange;
  readonly environment: string;
  readonly generatedBy: string;
  readonly now?: number;
}

export interface AuditReport {
  readonly header: AuditReportHeader;
  /** The rows, one page at a time, in order of first event time. */
  pages(): AsyncGenerator<CitedRow[]>;
}

export function checkpointView(checkpoint: StoredCheckpoint): ReportCheckpoint {
  return {
    origin: checkpoint.origin,
    size: checkpoint.size,
    rootHash: Buffer.from(checkpoint.rootHash).toString('hex'),
    note: checkpoint.note,
  };
}

/** Takes the checkpoint and returns the header and a reader of the rows below it. */
export async function openAuditReport(
  deps: AuditReportDeps,
  request: AuditReportRequest,
): Promise<AuditReport> {
  const { range, environment } = request;
  const policy = Object.hasOwn(deps.policy.environments, environment)
    ? deps.policy.environments[environment]
    : undefined;
  const production = productionRule(policy?.protected === true ? [environment] : [])(environment);
  const archived = await archivedReport(
    deps.store,
    { fromMs: range.fromMs, toMs: range.toMs, environment },
    production,
    `the audit report of ${range.month} (${environment})`,
  );
  if (archived) throw archived;
  const checkpoint = await deps.ledger.checkpoint();
  const header: AuditReportHeader = {
    report: 'audit',
    month: range.month,
    environment,
    timeZone: range.timeZone,
    from: new Date(range.fromMs).toISOString(),
    to: new Date(range.toMs).toISOString(),
    generatedAt: new Date(request.now ?? Date.now()).toISOString(),
    generatedBy: request.generatedBy,
    checkpoint: checkpointView(checkpoint),
    windows: policy?.windows ?? [],
  };
  const size = checkpoint.size;
  async function* pages(): AsyncGenerator<CitedRow[]> {
    let after: [number, string] | undefined;
    for (;;) {
      const keys = await deps.store.reports.monthDeployments({
        environment,
        fromMs: range.fromMs,
        toMs: range.toMs,
        after,
        limit: PAGE_SIZE,
      });
      const last = keys.at(-1);
      if (last === undefined) return;
      after = [last.sortMs, last.deployment];
      const evidence = await deps.store.reports.evidence(
        keys.map((k) => k.deployment),
        size,
      );
      const page: CitedRow[] = [];
      for (const { deployment } of keys) {
        const entries = evidence.get(deployment) ?? [];
        const parsed = parseEvidence(deployment, entries);
        // Below the checkpoint the deployment may have no event yet, or an earlier first one.
        if (parsed.events.length === 0) continue;
        const first = firstEventMs(parsed);
        if (first < range.fromMs || first >= range.toMs) continue;
        page.push({ row: auditRowOf(deployment, parsed, { windows: header.windows }), entries });
      }
      if (page.length > 0) yield page;
      if (keys.length < PAGE_SIZE) return;
    }
  }
  return { header, pages };
}
