/**
 * `GET /v1/silences` (DESIGN.md §11): the Alertmanager silences shiplog holds, or held, while
 * services deploy, one per service and environment, by service then environment. Empty when
 * `alerts.suppression` is not configured.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../context.js';
import { Cursor, ErrorResponse, Limit, page } from './shared.js';

const NStr = Type.Union([Type.String(), Type.Null()]);
const Silence = Type.Object({
  service: Type.String(),
  environment: Type.String(),
  deployment: Type.String(),
  state: Type.Union([Type.Literal('active'), Type.Literal('ended')]),
  silenceId: NStr,
  matchers: Type.Array(Type.String()),
  startsAt: NStr,
  endsAt: NStr,
  holdUntil: NStr,
  lastError: NStr,
  updatedAt: Type.String(),
});

const Query = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('ended')])),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export function registerSilenceRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/v1/silences',
    {
      config: { access: 'read' },
      schema: {
        summary: "shiplog's own Alertmanager silences for deploying services",
        tags: ['alerts'],
        querystring: Query,
        response: { 200: page(Silence), '4xx': ErrorResponse },
      },
    },
    async function listSilences(request) {
      const silences = ctx.silences;
      if (silences === null) return { items: [], nextCursor: null };
      const found = await ctx.store.silences.list({
        state: request.query.state,
        limit: request.query.limit ?? 50,
        cursor: request.query.cursor,
      });
      return { items: found.items.map((row) => silences.view(row)), nextCursor: found.nextCursor };
    },
  );
}
