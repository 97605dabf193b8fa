/**
 * The gate (DESIGN.md §8): `POST /v1/gate` answers allow or deny with every reason and records
 * the decision (`?at=` asks a what-if, not recorded); `GET /v1/gate/decisions` lists them.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { KINDS } from '../../domain/event.js';
import { ShiplogError } from '../../errors.js';
import type { GovernanceDeps } from '../../governance/deps.js';
import { askGate } from '../../governance/gate-service.js';
import { callerOf } from '../access.js';
import { requireScope } from '../auth.js';
import type { AppContext } from '../context.js';
import { Cursor, ErrorResponse, Limit, Name, Time } from './shared.js';

const GateBody = Type.Object(
  {
    deployment: Type.String({ minLength: 1, maxLength: 256 }),
    service: Name,
    environment: Name,
    version: Type.String({ minLength: 1, maxLength: 256 }),
    ticket: Type.Optional(Type.String({ maxLength: 256 })),
    kind: Type.Optional(Type.Enum(KINDS)),
    override: Type.Optional(
      Type.Object({ justification: Type.String({ maxLength: 4000 }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

const GateQuery = Type.Object({ at: Type.Optional(Time) }, { additionalProperties: false });

const Reason = Type.Object({ code: Type.String(), message: Type.String() });
const GateAnswer = Type.Object({
  allow: Type.Boolean(),
  reasons: Type.Array(Reason),
  decisionId: Type.Union([Type.String(), Type.Null()]),
  enforced: Type.Boolean(),
  overridden: Type.Boolean(),
  evaluatedAt: Type.String(),
  simulated: Type.Optional(Type.Boolean()),
  ledgerIndex: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
});

const DecisionsQuery = Type.Object(
  {
    deployment: Type.Optional(Type.String({ maxLength: 256 })),
    environment: Type.Optional(Name),
    allow: Type.Optional(Type.Boolean()),
    overridden: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export function registerGateRoutes(app: FastifyInstance, ctx: AppContext, gov: GovernanceDeps): void {
  app.post<{ Body: Static<typeof GateBody>; Querystring: Static<typeof GateQuery> }>(
    '/v1/gate',
    {
      config: { access: 'gate:ask' },
      schema: {
        summary: 'May this deployment go ahead now? Every reason at once; recorded unless ?at= (what-if)',
        tags: ['governance'],
        body: GateBody,
        querystring: GateQuery,
        response: { 200: GateAnswer, '4xx': ErrorResponse },
      },
    },
    async function gate(request) {
      const token = callerOf(request);
      const body = request.body;
      requireScope(token, body.service, body.environment, '');
      const atMs = request.query.at === undefined ? undefined : Date.parse(request.query.at);
      if (atMs !== undefined && Number.isNaN(atMs)) {
        throw new ShiplogError('SHIPLOG_INVALID_REQUEST', undefined, [
          { path: 'at', message: 'is not an RFC 3339 time' },
        ]);
      }
      const answer = await askGate(gov, { ...body, atMs, token });
      if (answer.decisionId !== null)
        void ctx.alerts.evaluate({
          kind: 'gate',
          deployment: body.deployment,
          service: body.service,
          environment: body.environment,
          allow: answer.allow,
        });
      return answer;
    },
  );

  app.get<{ Querystring: Static<typeof DecisionsQuery> }>(
    '/v1/gate/decisions',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Recorded gate decisions, newest first; overrides are flagged',
        tags: ['governance'],
        querystring: DecisionsQuery,
        response: { '4xx': ErrorResponse },
      },
    },
    async function decisions(request) {
      return gov.store.gateDecisions.list({ ...request.query, limit: request.query.limit ?? 50 });
    },
  );
}
