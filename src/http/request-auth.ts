import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';
import type { SessionStore } from './session-store.js';
import { roleAllows, type HttpRole, type TokenPrincipal, type TokenRepository } from './token-repository.js';

/** Name of the web page's session cookie (HttpOnly, SameSite=Strict, Secure under TLS). */
export const SESSION_COOKIE = 'jaga_session';

/** The JSON error body of the API: `{ error: { code, message } }`; messages never carry request data. */
export function apiError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error: { code, message } });
}

/**
 * Authenticates requests: API requests by `Authorization: Bearer jaga_…` only, page requests by the
 * session cookie only (so a cookie never authorises an API call, and the API needs no CSRF token).
 * Failures (no or wrong token, unknown session on a sign-in) count against the client address in the
 * AuthFailureLimiter; a blocked address gets 429 with `Retry-After` (seconds) before any check.
 */
export class RequestAuth {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly sessions: SessionStore,
    private readonly limiter: AuthFailureLimiter,
    private readonly now: () => Date,
  ) {}

  /**
   * The API caller, or null after sending 429 (address blocked), 401 (no or wrong token,
   * `WWW-Authenticate: Bearer`) or 403 (role below `needed`).
   * @throws StoreError from the token lookup (the server answers 500)
   */
  async bearer(request: FastifyRequest, reply: FastifyReply, needed: HttpRole): Promise<TokenPrincipal | null> {
    if (this.blocked(request, reply)) return null;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    const principal = match === null ? null : await this.tokens.authenticate(match[1] as string, this.now());
    if (principal === null) {
      this.failed(request);
      reply.header('www-authenticate', 'Bearer realm="jaga"');
      apiError(reply, 401, 'unauthorized', match === null ? 'send Authorization: Bearer <token>' : 'unknown or revoked token');
      return null;
    }
    if (!roleAllows(principal.role, needed)) {
      apiError(reply, 403, 'forbidden', `this needs the ${needed} role; the token has ${principal.role}`);
      return null;
    }
    return principal;
  }

  /**
   * The signed-in page user, or null when there is no live session (or its token was revoked).
   * @throws StoreError
   */
  async session(request: FastifyRequest): Promise<TokenPrincipal | null> {
    const id = request.cookies[SESSION_COOKIE];
    if (id === undefined || id === '') return null;
    const session = await this.sessions.find(id, this.now());
    return session === null ? null : this.tokens.principalById(session.tokenId);
  }

  /** Sends 429 with Retry-After when the address is blocked; true when it did. */
  blocked(request: FastifyRequest, reply: FastifyReply): boolean {
    const waitMs = this.limiter.retryAfterMs(request.ip, this.now().getTime());
    if (waitMs <= 0) return false;
    reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
    apiError(reply, 429, 'too_many_auth_failures', 'too many failed authentications from this address; retry later');
    return true;
  }

  /** Counts one authentication failure of the request's address. */
  failed(request: FastifyRequest): void {
    this.limiter.fail(request.ip, this.now().getTime());
  }
}
