import type { SqlQueryable } from '../domain/sql-queryable.js';

/**
 * One admin action. Example: `{ at: 2026-01-01T00:00:00.000Z, actor: 'responder:alice',
 * action: 'token_create', target: 'token:bob', detail: { role: 'responder' } }`. Never secrets.
 */
export interface AdminAuditEntry {
  at: Date;
  /** `responder:<token name>` or `cli` */
  actor: string;
  /** `token_create`, `token_revoke`, `link_key_rotate`, `silence_create`, `silence_expire` */
  action: string;
  /** what it acted on, e.g. `token:bob`, `silence:3`, `link_key:k1a2b…` */
  target: string;
  detail: Record<string, string | number | boolean | null>;
}

/** The admin audit log (table `jaga_admin_audit`, migration 0005_http_auth): append-only. */
export class AdminAuditLog {
  constructor(private readonly store: SqlQueryable) {}

  /** Appends one entry. @throws StoreError */
  async record(entry: AdminAuditEntry, on: SqlQueryable = this.store): Promise<void> {
    await on.query('INSERT INTO jaga_admin_audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)', [
      entry.at,
      entry.actor,
      entry.action,
      entry.target,
      JSON.stringify(entry.detail),
    ]);
  }

  /** The newest `limit` entries (1..1000), newest first. @throws StoreError */
  async list(limit = 100): Promise<AdminAuditEntry[]> {
    const rows = await this.store.query<AdminAuditEntry>(
      'SELECT at, actor, action, target, detail FROM jaga_admin_audit ORDER BY at DESC, id DESC LIMIT $1',
      [Math.min(Math.max(Math.trunc(limit), 1), 1000)],
    );
    return rows.map((row) => ({ at: row.at, actor: row.actor, action: row.action, target: row.target, detail: row.detail }));
  }
}
