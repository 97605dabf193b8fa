/**
 * Bearer-token authentication and scope checks (roles: src/server/access.ts). Tokens are looked up by hash, with a short
 * in-process cache (revocation through this process takes effect at once; through another
 * process within `ttlMs`).
 *
 * The dashboard's browser session (DESIGN.md §12, docs/security.md) is the same token in an
 * HttpOnly, SameSite=Strict cookie: it authenticates exactly like the bearer token (same role,
 * same scopes, revoked with it). A cookie-authenticated request that changes something must
 * carry an `Origin` of this server, else 403: SameSite already keeps other sites' requests
 * from carrying the cookie, and the Origin check also covers browsers and subdomains where it
 * would not.
 */
import type { FastifyRequest } from 'fastify';
import { ShiplogError } from '../errors.js';
import type { Token, TokensRepository } from '../store/tokens-repository.js';

export interface Authenticator {
  authenticate(request: FastifyRequest): Promise<Token>;
  forget(tokenId: string): void;
}

export function createAuthenticator(
  tokens: TokensRepository,
  ttlMs = 5_000,
  /** Told of every successful authentication (token use for the access review, counted in memory). */
  onUse: (token: Token) => void = () => {},
): Authenticator {
  const cache = new Map<string, { token: Token; until: number }>();
  return {
    async authenticate(request) {
      const token = await identify(request);
      onUse(token);
      return token;
    },
    forget(tokenId) {
      for (const [secret, entry] of cache) if (entry.token.id === tokenId) cache.delete(secret);
    },
  };

  async function identify(request: FastifyRequest): Promise<Token> {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    let secret = match?.[1];
    if (header === undefined && secret === undefined) {
      secret = sessionCookie(request);
      if (secret !== undefined) requireSameOrigin(request);
    }
    if (!secret) {
      throw new ShiplogError(
        'SHIPLOG_UNAUTHORIZED',
        'Send a token as "Authorization: Bearer <token>" (or log in to the dashboard)',
      );
    }
    const hit = cache.get(secret);
    if (hit && hit.until > Date.now()) return hit.token;
    const token = await tokens.findBySecret(secret);
    if (!token) {
      cache.delete(secret);
      throw new ShiplogError('SHIPLOG_UNAUTHORIZED', 'The token is unknown or revoked');
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(secret, { token, until: Date.now() + ttlMs });
    return token;
  }
}

/** Throws 403 when a scoped token may not write this service/environment. */
export function requireScope(token: Token, service: string, environment: string, pointer: string): void {
  const scopes = token.scopes;
  if (!scopes) return;
  if (scopes.services && !scopes.services.includes(service)) {
    throw new ShiplogError('SHIPLOG_FORBIDDEN', `Token "${token.name}" may not write service "${service}"`, [
      {
        path: `${pointer}/service`,
        message: `is outside the token's services (${scopes.services.join(', ')})`,
      },
    ]);
  }
  if (scopes.environments && !scopes.environments.includes(environment)) {
    throw new ShiplogError(
      'SHIPLOG_FORBIDDEN',
      `Token "${token.name}" may not write environment "${environment}"`,
      [
        {
          path: `${pointer}/environment`,
          message: `is outside the token's environments (${scopes.environments.join(', ')})`,
        },
      ],
    );
  }
}

/** The name of the dashboard's session cookie (its value is the token). */
export const SESSION_COOKIE = 'shiplog_session';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session cookie's value, if the request carries one. */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : decodeURIComponent(value);
    }
  }
  return undefined;
}

/** This server's origin as the browser names it: the scheme and the Host the request was sent to. */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/**
 * 403 unless a request that may change something carries `Origin` of this server (safe
 * methods pass: they change nothing, and EventSource and navigations send no Origin).
 */
export function requireSameOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.origin;
  if (origin !== ownOrigin(request)) {
    throw new ShiplogError(
      'SHIPLOG_FORBIDDEN',
      origin === undefined
        ? "A request with the session cookie that changes something must carry this server's Origin"
        : `Origin ${origin} is not this server (${ownOrigin(request)}): refused for a cookie session`,
      [{ path: 'origin', message: "must be this server's origin" }],
    );
  }
}
