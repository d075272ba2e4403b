import { createHash, randomBytes } from 'node:crypto';
import { JagaError } from '../domain/errors.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';

/** Roles in increasing power: a viewer reads, a responder also acts, an admin also manages tokens and keys. */
export const HTTP_ROLES = ['viewer', 'responder', 'admin'] as const;
export type HttpRole = (typeof HTTP_ROLES)[number];

/** A token name: 1-64 of letters, digits, `_ . @ -` (the migration's CHECK). */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;

/** Whether `role` may do what `needed` may (viewer < responder < admin). */
export function roleAllows(role: HttpRole, needed: HttpRole): boolean {
  return HTTP_ROLES.indexOf(role) >= HTTP_ROLES.indexOf(needed);
}

/** A stored token without its secret. */
export interface TokenRecord {
  id: number;
  name: string;
  role: HttpRole;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Who a valid token belongs to. */
export interface TokenPrincipal {
  tokenId: number;
  name: string;
  role: HttpRole;
}

/** `last_used_at` is written at most this often per token (ms), so reads do not write on every request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

interface TokenRow {
  id: number | bigint;
  name: string;
  role: HttpRole;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** SHA-256 hex of a token, as stored in `jaga_http_token.token_hash`. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Bearer tokens of the HTTP API (table `jaga_http_token`, migration 0005_http_auth). A token is
 * `jaga_` + 43 base64url chars (32 random bytes); only its SHA-256 is stored, so it is shown once,
 * when created. Revoking keeps the row (for the audit) and frees the name.
 */
export class TokenRepository {
  private readonly cache = new Map<string, { principal: Promise<TokenPrincipal | null>; atMs: number }>();
  private readonly cacheMs: number;

  /**
   * @param options.cacheMs how long `authenticate` reuses a positive answer for one token (concurrent
   *   lookups of one token share one query), wall-clock ms (default 5000; 0 disables). `revoke` on this repository drops the cache at once; a revoke by
   *   another process (`jaga token revoke`, another agent) takes effect within `cacheMs`.
   */
  constructor(
    private readonly store: SqlQueryable,
    options: { cacheMs?: number } = {},
  ) {
    this.cacheMs = options.cacheMs ?? 5000;
  }

  /**
   * Creates a token.
   * @returns the plain token (shown once) and its record
   * @throws RangeError for a name outside TOKEN_NAME_PATTERN or an unknown role
   * @throws TokenNameTakenError when a live token has this name
   * @throws StoreError
   */
  async create(name: string, role: HttpRole, now: Date, on: SqlQueryable = this.store): Promise<{ token: string; record: TokenRecord }> {
    if (!TOKEN_NAME_PATTERN.test(name)) throw new RangeError(`token name must be 1-64 of letters, digits, _ . @ -: ${JSON.stringify(name)}`);
    if (!HTTP_ROLES.includes(role)) throw new RangeError(`token role must be viewer, responder or admin: ${JSON.stringify(role)}`);
    const token = `jaga_${randomBytes(32).toString('base64url')}`;
    const rows = await on.query<TokenRow>(
      `INSERT INTO jaga_http_token (name, role, token_hash, created_at) SELECT $1, $2, $3, $4
       WHERE NOT EXISTS (SELECT 1 FROM jaga_http_token WHERE name = $1 AND revoked_at IS NULL)
       ON CONFLICT DO NOTHING
       RETURNING id, name, role, created_at, last_used_at, revoked_at`,
      [name, role, hashToken(token), now],
    );
    const row = rows[0];
    if (row === undefined) throw new TokenNameTakenError(name);
    return { token, record: decode(row) };
  }

  /** Every token, live first then revoked, each by name. @throws StoreError */
  async list(on: SqlQueryable = this.store): Promise<TokenRecord[]> {
    const rows = await on.query<TokenRow>(
      'SELECT id, name, role, created_at, last_used_at, revoked_at FROM jaga_http_token ORDER BY revoked_at IS NOT NULL, name, id',
    );
    return rows.map(decode);
  }

  /**
   * Revokes the live token of this name.
   * @returns the revoked record, or null when no live token has this name
   * @throws StoreError
   */
  async revoke(name: string, now: Date, on: SqlQueryable = this.store): Promise<TokenRecord | null> {
    this.cache.clear();
    const rows = await on.query<TokenRow>(
      `UPDATE jaga_http_token SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL
       RETURNING id, name, role, created_at, last_used_at, revoked_at`,
      [name, now],
    );
    return rows[0] === undefined ? null : decode(rows[0]);
  }

  /**
   * The principal of a live token, or null for an unknown, malformed or revoked one. Records the use
   * in `last_used_at` when the stored value is older than LAST_USED_RESOLUTION_MS (answers served from
   * the cache do not record it).
   * @throws StoreError
   */
  async authenticate(token: string, now: Date): Promise<TokenPrincipal | null> {
    if (!/^jaga_[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const hash = hashToken(token);
    const cached = this.cache.get(hash);
    if (cached !== undefined && Date.now() - cached.atMs < this.cacheMs) {
      const principal = await cached.principal;
      return principal === null ? null : { ...principal };
    }
    const lookup = this.lookup(hash, now);
    if (this.cacheMs > 0) {
      if (this.cache.size >= 1000) this.cache.clear();
      const entry = { principal: lookup, atMs: Date.now() };
      this.cache.set(hash, entry);
      // only live tokens stay cached (a failed or negative lookup is asked again next time)
      lookup.then(
        (principal) => {
          if (principal === null && this.cache.get(hash) === entry) this.cache.delete(hash);
        },
        () => {
          if (this.cache.get(hash) === entry) this.cache.delete(hash);
        },
      );
    }
    const principal = await lookup;
    return principal === null ? null : { ...principal };
  }

  private async lookup(hash: string, now: Date): Promise<TokenPrincipal | null> {
    const [row] = await this.store.query<TokenRow>(
      'SELECT id, name, role, created_at, last_used_at, revoked_at FROM jaga_http_token WHERE token_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    if (row === undefined) return null;
    await this.touch(row, now);
    return { tokenId: Number(row.id), name: row.name, role: row.role };
  }

  /** The principal of a live token by id (sessions hold the id), or null when revoked or unknown. @throws StoreError */
  async principalById(tokenId: number): Promise<TokenPrincipal | null> {
    const [row] = await this.store.query<TokenRow>(
      'SELECT id, name, role, created_at, last_used_at, revoked_at FROM jaga_http_token WHERE id = $1 AND revoked_at IS NULL',
      [tokenId],
    );
    return row === undefined ? null : { tokenId: Number(row.id), name: row.name, role: row.role };
  }

  private async touch(row: TokenRow, now: Date): Promise<void> {
    if (row.last_used_at !== null && now.getTime() - row.last_used_at.getTime() < LAST_USED_RESOLUTION_MS) return;
    await this.store.query('UPDATE jaga_http_token SET last_used_at = $2 WHERE id = $1', [row.id, now]);
  }
}

/** A live token already has the name asked for (code `token_name_taken`). */
export class TokenNameTakenError extends JagaError {
  constructor(readonly tokenName: string) {
    super('token_name_taken', `a live token is already named ${tokenName}: revoke it first or choose another name`);
  }
}

function decode(row: TokenRow): TokenRecord {
  return {
    id: Number(row.id),
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
