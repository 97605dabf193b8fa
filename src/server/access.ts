/**
 * Authorization as data. Every route declares in its `config` the action it performs
 * (`config: { access: 'read' }`) or that it is `'public'` (health checks, the API docs, and
 * the webhooks, which check the tool's own signature); {@link ROLE_MATRIX} says which roles may
 * perform each action; one `onRequest` hook, {@link registerAccessGuard}, enforces both. So the
 * whole matrix is read from this file and docs/security.md, and a route that forgets to declare
 * stops start-up instead of being open.
 *
 * The hook runs before the body is read: a request with a missing or bad token is answered 401
 * without its body being buffered or parsed. It also applies the rate limit (DESIGN.md §5):
 * identify the caller, count the request against that token (or, when there is none, the
 * client address), then refuse: so guessing tokens is limited per address too. Routes with
 * `config.rateLimit: false` (`/healthz`, `/readyz`) are never limited.
 */
import rateLimitPlugin, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { RateLimit } from '../config.js';
import { ShiplogError, isShiplogError } from '../errors.js';
import type { Role, Token } from '../store/tokens-repository.js';
import type { Authenticator } from './auth.js';

/** What a route does, as far as authorization is concerned. */
export type Action =
  | 'read'
  | 'audit'
  | 'events:write'
  | 'gate:ask'
  | 'admission:review'
  | 'approve'
  | 'tokens:manage'
  | 'webhooks:inspect'
  | 'incidents:write'
  | 'catalog:write'
  | 'reports:read'
  | 'alerts:ack';

/** A route's declaration: an action, or `'public'` (no bearer token; the route checks what it needs). */
export type Access = Action | 'public';

/** The role matrix: the roles that may perform each action (docs/security.md). */
export const ROLE_MATRIX: Readonly<Record<Action, readonly Role[]>> = Object.freeze({
  read: ['admin', 'approver', 'deployer', 'viewer', 'auditor'],
  audit: ['admin', 'approver', 'deployer', 'viewer', 'auditor'],
  'events:write': ['admin', 'deployer'],
  'gate:ask': ['admin', 'deployer'],
  'admission:review': ['admin', 'deployer', 'viewer'],
  approve: ['admin', 'approver'],
  'tokens:manage': ['admin'],
  'webhooks:inspect': ['admin'],
  'incidents:write': ['admin', 'deployer'],
  'catalog:write': ['admin'],
  'reports:read': ['admin', 'auditor'],
  'alerts:ack': ['admin', 'approver', 'deployer'],
});

/** How a refusal names the action: "The viewer role may not <...>". */
const DESCRIPTIONS: Readonly<Record<Action, string>> = {
  read: 'read',
  audit: 'read the ledger',
  'events:write': 'record deployment events',
  'gate:ask': 'ask the gate',
  'admission:review': 'review admissions',
  approve: 'approve or reject deployments',
  'tokens:manage': 'manage tokens',
  'webhooks:inspect': 'read webhook deliveries or dead letters',
  'incidents:write': 'record incidents',
  'catalog:write': 'change the service catalog',
  'reports:read': 'pull audit reports',
  'alerts:ack': 'acknowledge alerts',
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (src/server/access.ts); every route declares it. */
    access?: Access;
  }
  interface FastifyRequest {
    /** The token that authenticated the request; null on public routes. */
    caller: Token | null;
  }
}

/** The token of an authenticated request; only for routes that declare an action. */
export function callerOf(request: FastifyRequest): Token {
  if (request.caller === null) {
    throw new Error(`${request.method} ${request.url}: no caller (the route declares no action)`);
  }
  return request.caller;
}

/** Throws 403 when the token's role may not perform `action`. */
export function requireRole(token: Token, action: Action): void {
  if (!ROLE_MATRIX[action].includes(token.role)) {
    throw new ShiplogError('SHIPLOG_FORBIDDEN', `The ${token.role} role may not ${DESCRIPTIONS[action]}`);
  }
}

/** A registered route and what it declared, for the start-up check and the tests. */
export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly access: Access | undefined;
  readonly rateLimited: boolean;
}

export interface AccessGuardOptions {
  readonly auth: Authenticator;
  /** `null`: not limited. */
  readonly rateLimit: RateLimit | null;
}

/**
 * Registers the guard on `server`, before any route: afterwards, every route must declare its
 * access, or `ready()` fails naming it. Returns the routes as they were declared.
 */
export async function registerAccessGuard(
  server: FastifyInstance,
  options: AccessGuardOptions,
): Promise<readonly DeclaredRoute[]> {
  server.decorateRequest('caller', null);
  const registered: RouteOptions[] = [];
  const declared: DeclaredRoute[] = [];
  server.addHook('onRoute', function collectRoute(route) {
    registered.push(route);
  });
  server.addHook('onReady', async function checkDeclarations() {
    // Read at ready time: a scope's own onRoute hook (the docs UI) may declare after this one ran.
    for (const route of registered) {
      for (const method of [route.method].flat()) {
        declared.push({
          method,
          url: route.url,
          access: route.config?.access,
          rateLimited: route.config?.rateLimit !== false,
        });
      }
    }
    const undeclared = declared.filter((route) => route.access === undefined);
    if (undeclared.length > 0) {
      const names = undeclared.map((r) => `${r.method} ${r.url}`).join(', ');
      throw new Error(`routes without an access declaration (config.access): ${names}`);
    }
  });

  const limit = options.rateLimit === null ? undefined : await rateLimiter(server, options.rateLimit);
  server.addHook('onRequest', async function guard(request, reply) {
    const { access, rateLimit } = request.routeOptions.config;
    if (access === undefined && !request.is404) {
      throw new Error(`${request.method} ${request.url}: the route declares no access`);
    }
    let refused: ShiplogError | undefined;
    if (access !== undefined && access !== 'public') {
      try {
        request.caller = await options.auth.authenticate(request);
      } catch (error) {
        if (!isShiplogError(error)) throw error;
        refused = error;
      }
    }
    if (limit !== undefined && rateLimit !== false) await limit.call(server, request, reply);
    if (refused !== undefined) throw refused;
    if (request.caller !== null && access !== undefined && access !== 'public') {
      requireRole(request.caller, access);
    }
  });
  return declared;
}

/** The per-token (else per-address) limiter of @fastify/rate-limit, answering SHIPLOG_RATE_LIMITED. */
async function rateLimiter(server: FastifyInstance, limit: RateLimit) {
  await server.register(rateLimitPlugin, {
    global: false,
    max: limit.requests,
    timeWindow: limit.perMs,
    keyGenerator: (request) =>
      request.caller === null ? `address:${normalizeIP(request.ip)}` : `token:${request.caller.id}`,
    errorResponseBuilder: (_request, context) =>
      new ShiplogError(
        'SHIPLOG_RATE_LIMITED',
        `More than ${context.max} requests in ${window(limit.perMs)} for this token (or address): retry in ${context.after}`,
      ),
  });
  return server.rateLimit();
}

function window(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
