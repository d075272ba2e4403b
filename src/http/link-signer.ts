import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlQueryable } from '../domain/sql-queryable.js';

/** The actions a one-click link can carry. */
export type LinkAction = 'ack' | 'resolve';

/** What a signed link says, after its signature checked out. */
export interface LinkClaims {
  /** id of the key that signed it (`jaga_http_link_key.id`) */
  keyId: string;
  incidentId: number;
  action: LinkAction;
  /** the notification the link was sent in (32 hex chars from the notify stage, or any [A-Za-z0-9_-]{1,64}) */
  notificationId: string;
  expiresAt: Date;
  /** 22 base64url chars (16 random bytes): the link works once */
  nonce: string;
}

/** Why a link does not act: `malformed`/`bad_signature`/`unknown_key` → 404 page, `expired`/`used` → 410 page. */
export type LinkRejection = 'malformed' | 'bad_signature' | 'unknown_key' | 'expired' | 'used';

/** `verify`'s answer. */
export type LinkVerdict = { ok: true; claims: LinkClaims } | { ok: false; reason: LinkRejection };

/** A link signing key without its secret. */
export interface LinkKeyInfo {
  id: string;
  createdAt: Date;
  retiredAt: Date | null;
}

/** Options of `LinkSigner.open`. */
export interface LinkSignerOptions {
  /** the endpoint's public base URL without trailing slash, e.g. `https://jaga.example.com:7887` */
  publicUrl: string;
  /** how long a link stays valid, ms (config `http.link_ttl`, default 7d) */
  linkTtlMs: number;
  /** clock for `actionUrl` (default `() => new Date()`) */
  now?: () => Date;
}

interface KeyRow {
  id: string;
  secret: string;
  created_at: Date;
  retired_at: Date | null;
}

const NOTIFICATION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Signs and verifies one-click action links (implements the notify stage's `NotificationLinks` port:
 * `incidentUrl(id)`, `actionUrl(id, action, notificationId)`).
 *
 * Link format (source of truth: this class): `<public_url>/ui/links/<payload>.<signature>` where
 * payload is base64url of `v1|<key id>|<incident id>|<action>|<notification id>|<expiry, unix s>|<nonce>`
 * and signature is base64url HMAC-SHA256 of the payload (the base64url text) under that key's secret.
 *
 * Keys live in `jaga_http_link_key` (migration 0005_http_auth): the newest unretired key signs;
 * `rotate` adds a key and retires the others, which keep verifying for one link TTL after retirement
 * (every link they signed has expired by then). Keys are cached in memory; a link naming a key this
 * process has not seen (rotated by another agent) reloads them once. Used nonces are kept in
 * `jaga_http_used_link` until their link expires.
 */
export class LinkSigner {
  private keys: KeyRow[] = [];
  private readonly now: () => Date;
  private publicUrl: string;

  private constructor(
    private readonly store: SqlQueryable,
    private readonly options: LinkSignerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.publicUrl = options.publicUrl;
  }

  /**
   * Changes the base of the links signed from now on (e.g. the bound address of a server told to
   * listen on port 0). @param publicUrl e.g. `http://127.0.0.1:41873`; a trailing slash is dropped
   */
  usePublicUrl(publicUrl: string): void {
    this.publicUrl = publicUrl.replace(/\/+$/, '');
  }

  /**
   * Loads the keys, creating the first one when the store has none.
   * @throws StoreError
   */
  static async open(store: SqlQueryable, options: LinkSignerOptions): Promise<LinkSigner> {
    const signer = new LinkSigner(store, options);
    await signer.reload();
    if (signer.currentKey() === undefined) {
      await signer.addKey(signer.now());
      await signer.reload();
    }
    return signer;
  }

  /** The incident's page: `<public_url>/ui/incidents/<id>`. */
  incidentUrl(incidentId: number): string {
    return `${this.publicUrl}/ui/incidents/${incidentId}`;
  }

  /**
   * A signed link that opens a confirm page for `action` on the incident, valid for the link TTL.
   * @throws RangeError for a notification id outside [A-Za-z0-9_-]{1,64} or a non-positive incident id
   */
  actionUrl(incidentId: number, action: LinkAction, notificationId: string): string {
    return `${this.publicUrl}/ui/links/${this.sign(incidentId, action, notificationId, this.now())}`;
  }

  /** The link token (the part after `/ui/links/`) signed now with the current key. @throws RangeError as `actionUrl` */
  sign(incidentId: number, action: LinkAction, notificationId: string, now: Date): string {
    if (!Number.isSafeInteger(incidentId) || incidentId < 1) throw new RangeError(`incident id must be a positive integer: ${incidentId}`);
    if (!NOTIFICATION_ID.test(notificationId)) throw new RangeError('notification id must be 1-64 of [A-Za-z0-9_-]');
    const key = this.currentKey();
    if (key === undefined) throw new Error('LinkSigner has no key: use LinkSigner.open');
    const expiresSec = Math.floor((now.getTime() + this.options.linkTtlMs) / 1000);
    const nonce = randomBytes(16).toString('base64url');
    const payload = Buffer.from(['v1', key.id, String(incidentId), action, notificationId, String(expiresSec), nonce].join('|'), 'utf8').toString('base64url');
    return `${payload}.${mac(key.secret, payload)}`;
  }

  /**
   * Checks a link token: shape, signature (under a key still verifying at `now`), expiry, and whether
   * its nonce was used. Never throws for bad input.
   * @throws StoreError only from the store
   */
  async verify(token: string, now: Date): Promise<LinkVerdict> {
    const parts = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (parts === null) return { ok: false, reason: 'malformed' };
    const payload = parts[1] as string;
    const fields = Buffer.from(payload, 'base64url').toString('utf8').split('|');
    if (fields.length !== 7 || fields[0] !== 'v1') return { ok: false, reason: 'malformed' };
    const [, keyId, idText, action, notificationId, expiresText, nonce] = fields as [string, string, string, string, string, string, string];
    if (!/^[1-9]\d{0,15}$/.test(idText) || (action !== 'ack' && action !== 'resolve') || !NOTIFICATION_ID.test(notificationId)) return { ok: false, reason: 'malformed' };
    if (!/^\d{1,12}$/.test(expiresText) || !/^[A-Za-z0-9_-]{22}$/.test(nonce)) return { ok: false, reason: 'malformed' };
    let key = this.keys.find((k) => k.id === keyId);
    if (key === undefined) {
      await this.reload();
      key = this.keys.find((k) => k.id === keyId);
    }
    if (key === undefined || !this.verifies(key, now)) return { ok: false, reason: 'unknown_key' };
    const expected = Buffer.from(mac(key.secret, payload), 'utf8');
    if (!timingSafeEqual(expected, Buffer.from(parts[2] as string, 'utf8'))) return { ok: false, reason: 'bad_signature' };
    const expiresAt = new Date(Number(expiresText) * 1000);
    if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
    const used = await this.store.query('SELECT 1 FROM jaga_http_used_link WHERE nonce = $1', [nonce]);
    if (used.length > 0) return { ok: false, reason: 'used' };
    return { ok: true, claims: { keyId, incidentId: Number(idText), action, notificationId, expiresAt, nonce } };
  }

  /**
   * Records that the link acted. @returns false when its nonce was recorded before (a second use).
   * @throws StoreError
   */
  async markUsed(claims: LinkClaims, now: Date, on: SqlQueryable = this.store): Promise<boolean> {
    const rows = await on.query(
      'INSERT INTO jaga_http_used_link (nonce, used_at, expires_at) VALUES ($1, $2, $3) ON CONFLICT (nonce) DO NOTHING RETURNING nonce',
      [claims.nonce, now, claims.expiresAt],
    );
    return rows.length === 1;
  }

  /**
   * Adds a new signing key and retires the others (they keep verifying for one link TTL).
   * @returns the new key's id and the ids retired now
   * @throws StoreError
   */
  async rotate(now: Date): Promise<{ keyId: string; retired: string[] }> {
    const retired = await this.store.query<{ id: string }>('UPDATE jaga_http_link_key SET retired_at = $1 WHERE retired_at IS NULL RETURNING id', [now]);
    const keyId = await this.addKey(now);
    await this.reload();
    return { keyId, retired: retired.map((row) => row.id).sort() };
  }

  /**
   * Deletes keys retired more than one link TTL before `now` and used nonces whose links expired.
   * @returns how many keys and nonces were deleted
   * @throws StoreError
   */
  async purge(now: Date): Promise<{ keys: number; nonces: number }> {
    const cutoff = new Date(now.getTime() - this.options.linkTtlMs);
    const keys = await this.store.query('DELETE FROM jaga_http_link_key WHERE retired_at IS NOT NULL AND retired_at < $1 RETURNING id', [cutoff]);
    const nonces = await this.store.query('DELETE FROM jaga_http_used_link WHERE expires_at < $1 RETURNING nonce', [now]);
    await this.reload();
    return { keys: keys.length, nonces: nonces.length };
  }

  /** The keys in memory, oldest first, without secrets. */
  keyInfo(): LinkKeyInfo[] {
    return this.keys.map((k) => ({ id: k.id, createdAt: k.created_at, retiredAt: k.retired_at }));
  }

  /** Re-reads the keys from the store. @throws StoreError */
  async reload(): Promise<void> {
    this.keys = await this.store.query<KeyRow>('SELECT id, secret, created_at, retired_at FROM jaga_http_link_key ORDER BY created_at, id');
  }

  private currentKey(): KeyRow | undefined {
    const live = this.keys.filter((k) => k.retired_at === null);
    return live[live.length - 1];
  }

  private verifies(key: KeyRow, now: Date): boolean {
    return key.retired_at === null || key.retired_at.getTime() + this.options.linkTtlMs > now.getTime();
  }

  private async addKey(now: Date): Promise<string> {
    const id = `k${randomBytes(6).toString('hex')}`;
    await this.store.query('INSERT INTO jaga_http_link_key (id, secret, created_at) VALUES ($1, $2, $3)', [id, randomBytes(32).toString('base64url'), now]);
    return id;
  }
}

function mac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('base64url');
}
