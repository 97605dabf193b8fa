/**
 * Reports (DESIGN.md §13, docs/audit.md): the monthly audit report in four formats and its
 * evidence bundle, the access review and the coverage review. Auditors and admins only
 * (`reports:read`). Every pull is itself appended to the ledger (`report.pulled`: who pulled
 * which evidence, with which parameters, when), before the answer is sent.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import { canonicalJson } from '../../ledger/jcs.js';
import type { Policy } from '../../policy/index.js';
import { ACCESS_CSV_COLUMNS, accessCsvCells, accessReview } from '../../reports/access-review.js';
import { openAuditReport } from '../../reports/audit-report.js';
import { CONTENT_TYPES, writeAuditReport, type AuditFormat } from '../../reports/audit-output.js';
import { csvField } from '../../reports/audit-text.js';
import { writeBundle } from '../../reports/bundle.js';
import { coverageReview } from '../../reports/coverage-review.js';
import { MONTH_PATTERN, monthRange, type MonthRange } from '../../reports/month.js';
import type { TokenUsageRecorder } from '../../reports/token-usage.js';
import { ShiplogError } from '../../errors.js';
import type { Token } from '../../store/tokens-repository.js';
import { callerOf } from '../access.js';
import type { AppContext } from '../context.js';
import { ErrorResponse, Name } from './shared.js';

export interface ReportRouteOptions {
  readonly policy: Policy;
  /** IANA zone of report months (`reports.timeZone`). */
  readonly timeZone: string;
  readonly usage: TokenUsageRecorder;
}

const Month = Type.String({ pattern: MONTH_PATTERN, description: 'YYYY-MM' });
const AuditQuery = Type.Object(
  {
    month: Month,
    environment: Type.Optional(Name),
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('html'), Type.Literal('pdf')]),
    ),
  },
  { additionalProperties: false },
);
const BundleQuery = Type.Object(
  { month: Month, environment: Type.Optional(Name) },
  { additionalProperties: false },
);
const AccessQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])) },
  { additionalProperties: false },
);
const CoverageQuery = Type.Object(
  { days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, default: 30 })) },
  { additionalProperties: false },
);

const DEFAULT_ENVIRONMENT = 'production';

export function registerReportRoutes(
  app: FastifyInstance,
  ctx: AppContext,
  options: ReportRouteOptions,
): void {
  const deps = { store: ctx.store, ledger: ctx.ledger, policy: options.policy };

  /** Appends the `report.pulled` entry of this request. */
  async function recordPull(
    token: Token,
    report: string,
    parameters: Record<string, unknown>,
  ): Promise<void> {
    const entry = canonicalJson({
      recordType: 'report.pulled',
      report,
      parameters,
      by: token.name,
      role: token.role,
      at: new Date().toISOString(),
    });
    await ctx.store.writeTransaction((trx) => ctx.ledger.append(trx, [entry], 'report.pulled'));
  }

  function rangeOf(month: string): MonthRange {
    const range = monthRange(month, options.timeZone);
    if (range === undefined) {
      throw new ShiplogError('SHIPLOG_INVALID_REQUEST', undefined, [
        { path: 'month', message: 'must be YYYY-MM' },
      ]);
    }
    return range;
  }

  /** Streams what `write` produces; a failure half-way ends the answer early (the client sees a short body). */
  function stream(reply: FastifyReply, write: (sink: PassThrough) => Promise<unknown>): FastifyReply {
    const sink = new PassThrough();
    write(sink).catch((error: unknown) => {
      reply.log.error({ err: error }, 'report stream failed');
      sink.destroy(error as Error);
    });
    return reply.send(sink);
  }

  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/v1/reports/audit',
    {
      config: { access: 'reports:read' },
      schema: {
        summary:
          'The monthly audit report: every deployment of the month into an environment (json, csv, html or pdf)',
        tags: ['reports'],
        querystring: AuditQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function auditReport(request, reply) {
      const q = request.query;
      const format: AuditFormat = q.format ?? 'json';
      const environment = q.environment ?? DEFAULT_ENVIRONMENT;
      const range = rangeOf(q.month);
      const token = callerOf(request);
      const report = await openAuditReport(deps, { range, environment, generatedBy: token.name });
      await recordPull(token, 'audit', {
        month: q.month,
        environment,
        format,
        checkpointSize: report.header.checkpoint.size,
      });
      void reply.type(CONTENT_TYPES[format]);
      if (format === 'csv' || format === 'pdf') {
        void reply.header(
          'content-disposition',
          `attachment; filename="shiplog-audit-${environment}-${q.month}.${format}"`,
        );
      }
      return stream(reply, (sink) => writeAuditReport(report, format, sink));
    },
  );

  app.get<{ Querystring: Static<typeof BundleQuery> }>(
    '/v1/reports/audit/bundle',
    {
      config: { access: 'reports:read' },
      schema: {
        summary:
          'The evidence bundle of a monthly audit report (.tar.gz): shiplog verify --bundle checks it offline',
        tags: ['reports'],
        querystring: BundleQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function auditBundle(request, reply) {
      const q = request.query;
      const environment = q.environment ?? DEFAULT_ENVIRONMENT;
      const range = rangeOf(q.month);
      const token = callerOf(request);
      const report = await openAuditReport(deps, { range, environment, generatedBy: token.name });
      await recordPull(token, 'audit.bundle', {
        month: q.month,
        environment,
        checkpointSize: report.header.checkpoint.size,
      });
      void reply
        .type('application/gzip')
        .header(
          'content-disposition',
          `attachment; filename="shiplog-audit-${environment}-${q.month}.tar.gz"`,
        );
      return stream(reply, (sink) => writeBundle(deps, report, range, sink));
    },
  );

  app.get<{ Querystring: Static<typeof AccessQuery> }>(
    '/v1/reports/access',
    {
      config: { access: 'reports:read' },
      schema: {
        summary:
          'The access review: every token (never its secret) with its use and findings, every approver',
        tags: ['reports'],
        querystring: AccessQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function accessReport(request, reply) {
      const format = request.query.format ?? 'json';
      await options.usage.flush();
      const review = await accessReview(ctx.store.reports, Date.now());
      await recordPull(callerOf(request), 'access', { format });
      if (format === 'json') return reply.send(review);
      const lines = [
        ACCESS_CSV_COLUMNS.join(','),
        ...review.tokens.map((t) => accessCsvCells(t).map(csvField).join(',')),
      ];
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('content-disposition', 'attachment; filename="shiplog-access-review.csv"')
        .send(`${lines.join('\r\n')}\r\n`);
    },
  );

  app.get<{ Querystring: Static<typeof CoverageQuery> }>(
    '/v1/reports/coverage',
    {
      config: { access: 'reports:read' },
      schema: {
        summary:
          'The coverage review: silent services and sources, unregistered environments, missing required tags',
        tags: ['reports'],
        querystring: CoverageQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function coverageReport(request) {
      const days = request.query.days ?? 30;
      const review = await coverageReview(ctx.store.reports, options.policy, days, Date.now());
      await recordPull(callerOf(request), 'coverage', { days });
      return review;
    },
  );
}
