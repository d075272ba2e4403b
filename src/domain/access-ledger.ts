/**
 * The access ledger (issue 5, "Access audit report"): who read and changed which catalogued
 * (personal-data) tables, counted per (server, UTC day, role, relation, client address). Built by
 * `AccessLedger` (src/detect/access-ledger.ts) from pgaudit events, persisted by
 * `AccessLedgerRepository` (src/db/access-ledger-repository.ts, table `jaga_access_ledger`,
 * migration 0006_access_ledger.sql), read by `jaga report access`.
 */

/** What identifies one ledger row. */
export interface AccessLedgerKey {
  /** configured source name (the server watched) */
  server: string;
  /** UTC day of the events, `YYYY-MM-DD` */
  day: string;
  /** PostgreSQL role (session user) */
  role: string;
  /** `schema.table`, lower-case (`qualifyRelation`), e.g. `public.customers` */
  relation: string;
  /** client address without port; `[local]` for Unix-socket sessions (as `%r` prints them) */
  clientAddr: string;
}

/**
 * Counts for one key, added together on persist. Example:
 * `{ server: 'crm', day: '2026-11-29', role: 'support_sari', relation: 'public.customers',
 *    clientAddr: '127.0.0.1', dataClasses: ['address', 'pii'], readStatements: 12, rowsRead: 5011,
 *    changeStatements: 0, rowsChanged: 0, commands: { SELECT: 11, COPY: 1 },
 *    firstSeen: '2026-11-29T17:17:18.020Z', lastSeen: '2026-11-29T17:24:59.101Z' }`
 */
export interface AccessLedgerDelta extends AccessLedgerKey {
  /** the relation's data classes from the catalog, sorted (a persisted row keeps the union) */
  dataClasses: string[];
  /** pgaudit READ entries naming the relation (one per entry: one statement per relation) */
  readStatements: number;
  /** sum of the `rows` field of those entries (COPY and FETCH report 0) */
  rowsRead: number;
  /** pgaudit WRITE and DDL entries naming the relation */
  changeStatements: number;
  /** sum of their `rows` field */
  rowsChanged: number;
  /** entries per pgaudit command tag (`SELECT`, `COPY`, `UPDATE`, `TRUNCATE TABLE`, ...) */
  commands: Record<string, number>;
  /** earliest / latest event time counted, ISO-8601 UTC */
  firstSeen: string;
  lastSeen: string;
}

/** A persisted ledger row: the totals of every delta applied to its key. Same shape as a delta. */
export type AccessLedgerRow = AccessLedgerDelta;

/** Client address recorded for sessions without one (Unix socket). */
export const LOCAL_CLIENT = '[local]';
