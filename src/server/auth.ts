/**
 * Bearer-token authentication and scope checks (roles: src/server/access.ts). Tokens are looked up by hash, with a short
 * in-process cache (revocation through this process takes effect at once; through another
 * process within `ttlMs`).
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
    if (!match?.[1]) {
      throw new ShiplogError('SHIPLOG_UNAUTHORIZED', 'Send a token as "Authorization: Bearer <token>"');
    }
    const secret = match[1];
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
