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
 * The credential is checked first: a valid one is always let through, whatever the address did before.
 * Failures (no or wrong token, wrong sign-in token, forged link) count against the client address in
 * the AuthFailureLimiter; a failure from an address already over the limit gets 429 with `Retry-After`
 * (seconds) instead of 401/404, and counts too.
 */
export class RequestAuth {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly sessions: SessionStore,
    private readonly limiter: AuthFailureLimiter,
    private readonly now: () => Date,
  ) {}

  /**
   * The API caller, or null after sending 429 (a failure from an address over the limit), 401 (no or wrong token,
   * `WWW-Authenticate: Bearer`) or 403 (role below `needed`).
   * @throws StoreError from the token lookup (the server answers 500)
   */
  async bearer(request: FastifyRequest, reply: FastifyReply, needed: HttpRole): Promise<TokenPrincipal | null> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    const principal = match === null ? null : await this.tokens.authenticate(match[1] as string, this.now());
    if (principal === null) {
      if (this.refuseFailure(request, reply)) return null;
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

  /**
   * Counts one failed authentication of the request's address (call it after the credential was
   * checked and refused). When the address was already over the limit, sends 429 with `Retry-After`
   * (seconds) and returns true: the caller sends nothing more. Otherwise returns false and the caller
   * sends its own refusal (401, 404).
   */
  refuseFailure(request: FastifyRequest, reply: FastifyReply): boolean {
    const nowMs = this.now().getTime();
    const overLimit = this.limiter.retryAfterMs(request.ip, nowMs) > 0;
    this.limiter.fail(request.ip, nowMs);
    if (!overLimit) return false;
    reply.header('retry-after', String(Math.ceil(this.limiter.retryAfterMs(request.ip, nowMs) / 1000)));
    apiError(reply, 429, 'too_many_auth_failures', 'too many failed authentications from this address; retry later');
    return true;
  }
}
