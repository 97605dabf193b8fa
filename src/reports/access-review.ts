/**
 * The access review (DESIGN.md §13): who can initiate or change tracking entries. Every token,
 * never its secret or hash, with its use; every approver with the decisions they gave; and the
 * findings a reviewer acts on:
 *
 * - `never_used`: an active token no request ever authenticated with;
 * - `unused_90d`: an active token used before, but not in the last 90 days;
 * - `admin_token`: an active token of the admin role (it can do everything);
 * - `broad_scope`: an active deployer token without scopes (it may write every service and
 *   environment).
 */
import type { ReportsRepository } from '../store/reports-repository.js';
import { dayOf } from './token-usage.js';

export const REVIEW_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

export type AccessFinding = 'unused_90d' | 'never_used' | 'admin_token' | 'broad_scope';

export interface AccessReviewToken {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly scopes: { services?: string[]; environments?: string[] } | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
  readonly usesLast90Days: number;
  readonly findings: readonly AccessFinding[];
}

export interface AccessReview {
  readonly generatedAt: string;
  readonly tokens: readonly AccessReviewToken[];
  readonly approvers: readonly {
    approver: string;
    approvals: number;
    rejections: number;
    lastDecisionAt: string;
  }[];
  readonly summary: Readonly<Record<AccessFinding, number>> & { readonly activeTokens: number };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function accessReview(reports: ReportsRepository, nowMs: number): Promise<AccessReview> {
  const usage = await reports.tokenUsage(dayOf(nowMs) - (REVIEW_DAYS - 1));
  const summary = { activeTokens: 0, unused_90d: 0, never_used: 0, admin_token: 0, broad_scope: 0 };
  const tokens = usage.map((t): AccessReviewToken => {
    const scopes = t.scopes === null ? null : (JSON.parse(t.scopes) as AccessReviewToken['scopes']);
    const findings: AccessFinding[] = [];
    if (t.revokedMs === null) {
      summary.activeTokens += 1;
      if (t.lastUsedMs === null) findings.push('never_used');
      else if (t.lastUsedMs < nowMs - REVIEW_DAYS * DAY_MS) findings.push('unused_90d');
      if (t.role === 'admin') findings.push('admin_token');
      const scoped = (scopes?.services?.length ?? 0) > 0 || (scopes?.environments?.length ?? 0) > 0;
      if (t.role === 'deployer' && !scoped) findings.push('broad_scope');
    }
    for (const finding of findings) summary[finding] += 1;
    return {
      id: t.id,
      name: t.name,
      role: t.role,
      scopes,
      createdBy: t.createdBy,
      createdAt: new Date(t.createdMs).toISOString(),
      revokedAt: iso(t.revokedMs),
      lastUsedAt: iso(t.lastUsedMs),
      usesLast90Days: t.uses,
      findings,
    };
  });
  const approvers = (await reports.approverCounts()).map((a) => ({
    approver: a.approver,
    approvals: a.approvals,
    rejections: a.rejections,
    lastDecisionAt: new Date(a.lastMs).toISOString(),
  }));
  return { generatedAt: new Date(nowMs).toISOString(), tokens, approvers, summary };
}

export const ACCESS_CSV_COLUMNS = [
  'id',
  'name',
  'role',
  'services',
  'environments',
  'createdBy',
  'createdAt',
  'revokedAt',
  'lastUsedAt',
  'usesLast90Days',
  'findings',
] as const;

/** The tokens of the review as CSV cells (the approvers are in the JSON only). */
export function accessCsvCells(t: AccessReviewToken): string[] {
  return [
    t.id,
    t.name,
    t.role,
    (t.scopes?.services ?? []).join(' '),
    (t.scopes?.environments ?? []).join(' '),
    t.createdBy,
    t.createdAt,
    t.revokedAt ?? '',
    t.lastUsedAt ?? '',
    String(t.usesLast90Days),
    t.findings.join(' '),
  ];
}
