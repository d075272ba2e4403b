/**
 * One row of the monitored database's `jaga_access_event` table, as the app access source reads it.
 *
 * Source of truth for the columns: src/sources/sql/jaga-access-event.sql (the SQL jaga ships for the
 * monitored database). Every value arrives as text (or null) exactly as PostgreSQL printed it, so the
 * row carries no client-side interpretation: turning it into an `AccessEvent` (and rejecting rows
 * that do not fit) is the parse stage's job (`appAccessRowToEvent` in src/parse/app-access-parser.ts).
 * Field names are snake_case because this is a data format.
 *
 * Example: `{ id: '42', txid: '7381', time: '2024-05-01T08:15:02.120Z', actor: 'alice@example.com',
 * action: 'export', subject_table: 'public.customers', subject_id: null, row_count: '250',
 * client_addr: '10.1.2.3', application_name: 'crm-web', detail: '{"reason": "audit"}' }`
 */
export interface AppAccessRow {
  /** `id` (bigserial) in decimal */
  id: string;
  /** `txid` (xid8: the inserting transaction's 64-bit id) in decimal */
  txid: string;
  /** `time` as ISO-8601 UTC with milliseconds (`YYYY-MM-DDTHH:MM:SS.mmmZ`); null when not finite */
  time: string | null;
  actor: string | null;
  action: string | null;
  subject_table: string | null;
  subject_id: string | null;
  /** `row_count` (bigint) in decimal, or null */
  row_count: string | null;
  /** `host(client_addr)`: the address without a netmask, e.g. `10.1.2.3` or `2001:db8::1` */
  client_addr: string | null;
  application_name: string | null;
  /** `detail` (jsonb) as JSON text, or null; the table does not force it to be an object */
  detail: string | null;
}

/** The channel the shipped trigger NOTIFYs (payload: the new row's id, decimal). */
export const APP_ACCESS_CHANNEL = 'jaga_access_event';

/**
 * Reads the next page of committed rows after a cursor, in cursor order.
 * Parameters: `$1` cursor txid (xid8, decimal text), `$2` cursor id (bigint, decimal text), `$3` page
 * size (rows). Columns are qualified on purpose: a bare `ORDER BY id` would sort by the text output
 * column `id` (`'100' < '99'`), not the bigint. The snapshot horizon is computed once per statement (an InitPlan), and the statement's
 * own snapshot is the one `pg_current_snapshot()` describes, so every row below the horizon that
 * committed is visible to this very statement. See `AppAccessSource` for why this order is commit-safe.
 */
export const APP_ACCESS_PAGE_QUERY = `
SELECT e.id::text AS id,
       e.txid::text AS txid,
       to_char(e.time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS time,
       e.actor,
       e.action,
       e.subject_table,
       e.subject_id,
       e.row_count::text AS row_count,
       host(e.client_addr) AS client_addr,
       e.application_name,
       e.detail::text AS detail
  FROM jaga_access_event e
 WHERE (e.txid, e.id) > ($1::xid8, $2::bigint)
   AND e.txid < (SELECT pg_snapshot_xmin(pg_current_snapshot()))
 ORDER BY e.txid, e.id
 LIMIT $3`;
