/**
 * The dashboard's browser session (DESIGN.md §12, docs/security.md): `POST /v1/session` with a
 * token sets it as an HttpOnly, SameSite=Strict cookie, which then authenticates exactly like
 * the bearer token (src/server/auth.ts); `DELETE /v1/session` clears it; `GET /v1/session` says
 * who the caller is, so the dashboard shows only what the role may do.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { ShiplogError } from '../../errors.js';
import { callerOf } from '../access.js';
import { SESSION_COOKIE, requireSameOrigin, sessionCookie } from '../auth.js';
import type { AppContext } from '../context.js';
import { ErrorResponse } from './shared.js';

/** How long the browser keeps the session (the token's revocation ends it at once). */
const SESSION_SECONDS = 12 * 60 * 60;

const LoginBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);

const Identity = Type.Object({
  name: Type.String(),
  role: Type.String(),
  scopes: Type.Union([
    Type.Object({
      services: Type.Optional(Type.Array(Type.String())),
      environments: Type.Optional(Type.Array(Type.String())),
    }),
    Type.Null(),
  ]),
});

function cookie(request: FastifyRequest, value: string, maxAge: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

function clear(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('set-cookie', cookie(request, '', 0));
}

export function registerSessionRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post<{ Body: Static<typeof LoginBody> }>(
    '/v1/session',
    {
      // Public: the body carries the token. Rate limited per client address like any guess.
      config: { access: 'public' },
      schema: {
        summary: 'Log in to the dashboard: the token becomes an HttpOnly, SameSite=Strict session cookie',
        tags: ['session'],
        security: [],
        body: LoginBody,
        response: { 200: Identity, '4xx': ErrorResponse },
      },
    },
    async function login(request, reply) {
      // A login from another site's page is refused too (login CSRF).
      if (request.headers.origin !== undefined) requireSameOrigin(request);
      const token = await ctx.store.tokens.findBySecret(request.body.token);
      if (!token) throw new ShiplogError('SHIPLOG_UNAUTHORIZED', 'The token is unknown or revoked');
      void reply.header('set-cookie', cookie(request, request.body.token, SESSION_SECONDS));
      void reply.header('cache-control', 'no-store');
      return { name: token.name, role: token.role, scopes: token.scopes };
    },
  );

  app.get(
    '/v1/session',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Who the caller is (name, role, scopes): for the dashboard',
        tags: ['session'],
        response: { 200: Identity, '4xx': ErrorResponse },
      },
    },
    async function whoami(request) {
      const token = callerOf(request);
      return { name: token.name, role: token.role, scopes: token.scopes };
    },
  );

  app.delete(
    '/v1/session',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Log out of the dashboard: clears the session cookie',
        tags: ['session'],
        security: [],
        response: { '4xx': ErrorResponse },
      },
    },
    async function logout(request, reply) {
      if (sessionCookie(request) !== undefined) requireSameOrigin(request);
      clear(request, reply);
      return reply.status(204).send();
    },
  );
}
