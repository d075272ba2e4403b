import { createHash, randomBytes } from 'node:crypto';
import type { SqlQueryable } from '../domain/sql-queryable.js';

/** A web session as the page sees it. */
export interface HttpSession {
  tokenId: number;
  expiresAt: Date;
}

/**
 * Server-side web page sessions (table `jaga_http_session`, migration 0005_http_auth). The cookie
 * holds a random id (32 bytes, base64url); the store keeps only its SHA-256 hex, the token it was
 * signed in with, and an absolute expiry (`session_ttl`, default 12h; no sliding renewal). A revoked
 * token ends its sessions at the next request (the page checks the token on every request).
 */
export class SessionStore {
  constructor(
    private readonly store: SqlQueryable,
    /** session lifetime, ms */
    private readonly sessionTtlMs: number,
  ) {}

  /** Starts a session. @returns the cookie value and its expiry. @throws StoreError */
  async create(tokenId: number, now: Date): Promise<{ id: string; expiresAt: Date }> {
    const id = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.sessionTtlMs);
    await this.store.query('INSERT INTO jaga_http_session (id_hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [hashId(id), tokenId, now, expiresAt]);
    return { id, expiresAt };
  }

  /** The live session of a cookie value, or null (unknown, malformed or expired). @throws StoreError */
  async find(id: string, now: Date): Promise<HttpSession | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const [row] = await this.store.query<{ token_id: number | bigint; expires_at: Date }>(
      'SELECT token_id, expires_at FROM jaga_http_session WHERE id_hash = $1 AND expires_at > $2',
      [hashId(id), now],
    );
    return row === undefined ? null : { tokenId: Number(row.token_id), expiresAt: row.expires_at };
  }

  /** Ends a session (sign out); unknown ids are ignored. @throws StoreError */
  async delete(id: string): Promise<void> {
    await this.store.query('DELETE FROM jaga_http_session WHERE id_hash = $1', [hashId(id)]);
  }

  /** Deletes expired sessions. @returns how many. @throws StoreError */
  async purge(now: Date): Promise<number> {
    return (await this.store.query('DELETE FROM jaga_http_session WHERE expires_at <= $1 RETURNING id_hash', [now])).length;
  }
}

function hashId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}
