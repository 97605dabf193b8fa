/**
 * Alerts (DESIGN.md §11): `GET /v1/alerts?status=` (read), `GET /v1/alerts/{id}` (read) and
 * `POST /v1/alerts/{id}/ack` (alerts:ack: admin, approver, deployer), which stops the alert's
 * escalation and is recorded in the ledger with the acknowledging token's name.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ALERT_STATUSES } from '../../alerts/alert-view.js';
import { ShiplogError } from '../../errors.js';
import { callerOf } from '../access.js';
import type { AppContext } from '../context.js';
import { Cursor, ErrorResponse, Limit } from './shared.js';

const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum(ALERT_STATUSES)),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function registerAlertRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/alerts',
    {
      config: { access: 'read' },
      schema: {
        summary: 'List alerts, newest first; ?status=firing|acknowledged|resolved',
        tags: ['alerts'],
        querystring: ListQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function listAlerts(request) {
      const q = request.query;
      return ctx.alerts.list({ status: q.status, limit: q.limit ?? 50, cursor: q.cursor });
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/alerts/:id',
    {
      config: { access: 'read' },
      schema: {
        summary: 'One alert',
        tags: ['alerts'],
        params: IdParams,
        response: { '4xx': ErrorResponse },
      },
    },
    async function getAlert(request) {
      const alert = await ctx.alerts.get(request.params.id);
      if (!alert) throw new ShiplogError('SHIPLOG_NOT_FOUND', `No alert "${request.params.id}"`);
      return { alert };
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/v1/alerts/:id/ack',
    {
      config: { access: 'alerts:ack' },
      schema: {
        summary: 'Acknowledge a firing alert: its escalation stops',
        tags: ['alerts'],
        params: IdParams,
        response: { '4xx': ErrorResponse },
      },
    },
    async function ackAlert(request) {
      const token = callerOf(request);
      return { alert: await ctx.alerts.ack(request.params.id, token.name) };
    },
  );
}
