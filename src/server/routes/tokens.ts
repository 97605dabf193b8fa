/** `POST/GET/DELETE /v1/tokens` (DESIGN.md §6): admin only; secrets are shown once. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ShiplogError } from '../../errors.js';
import { ROLES } from '../../store/tokens-repository.js';
import { callerOf } from '../access.js';
import type { AppContext } from '../context.js';
import { ErrorResponse, Name } from './shared.js';

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
    role: Type.Enum(ROLES),
    scopes: Type.Optional(
      Type.Object(
        {
          services: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1000 })),
          environments: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1000 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export function registerTokenRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { tokens } = ctx.store;

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/v1/tokens',
    {
      config: { access: 'tokens:manage' },
      schema: {
        summary: 'Create a token (the secret is shown once)',
        tags: ['tokens'],
        body: CreateBody,
        response: { '4xx': ErrorResponse },
      },
    },
    async function create(request, reply) {
      const admin = callerOf(request);
      const { name, role, scopes } = request.body;
      if (scopes && role !== 'deployer' && role !== 'approver') {
        throw new ShiplogError('SHIPLOG_INVALID_REQUEST', 'Only deployer and approver tokens take scopes', [
          { path: '/scopes', message: `is not allowed for role ${role}` },
        ]);
      }
      const { token, secret } = await tokens.create({
        name,
        role,
        scopes: scopes ?? null,
        createdBy: admin.name,
        ledger: ctx.ledger,
      });
      return reply
        .status(201)
        .send({ id: token.id, name: token.name, role: token.role, scopes: token.scopes, token: secret });
    },
  );

  app.get(
    '/v1/tokens',
    {
      config: { access: 'tokens:manage' },
      schema: {
        summary: 'List tokens, oldest first (never their secrets)',
        tags: ['tokens'],
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            cursor: Type.Optional(Type.String({ maxLength: 512 })),
          },
          { additionalProperties: false },
        ),
        response: { '4xx': ErrorResponse },
      },
    },
    async function list(request) {
      const { limit, cursor } = request.query as { limit: number; cursor?: string };
      return tokens.list({ limit, cursor });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/tokens/:id',
    {
      config: { access: 'tokens:manage' },
      schema: {
        summary: 'Revoke a token',
        tags: ['tokens'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { '4xx': ErrorResponse },
      },
    },
    async function revoke(request) {
      const admin = callerOf(request);
      const token = await tokens.revoke(request.params.id, { by: admin.name, ledger: ctx.ledger });
      if (!token) throw new ShiplogError('SHIPLOG_NOT_FOUND', `No token "${request.params.id}"`);
      ctx.auth.forget(token.id);
      return token;
    },
  );
}
