import type { SqlQueryable } from '../domain/sql-queryable.js';
/**
 * The store contract: the one way every part of jaga reads and writes its own state (checkpoints,
 * incidents, outbox, baselines). Two drivers implement it with the same SQL: `PgStore` (PostgreSQL
 * 13+ through `pg`) and `PgliteStore` (embedded PGlite in a local data folder).
 *
 * Result rows are plain objects keyed by column name. Both drivers decode the common types alike:
 * `int8`/`bigint` as a `number` when it is a safe integer, else a `bigint`; `timestamptz` as a UTC
 * `Date`; `date` as a `Date` at UTC midnight; `json`/`jsonb` parsed; `numeric` as a string.
 *
 * Every failure surfaces as a `StoreError` (src/domain/errors.ts): `transient` from the SQLSTATE class
 * (see `isTransientSqlstate`), `sqlstate` when the server gave one. Messages never carry parameter
 * values or row data.
 */

/** Which driver a store runs on. */
export type StoreDriver = 'pg' | 'pglite';

/** Something that runs one parameterised statement: a store or an open transaction. */
/** What SQL runs on (the shared contract in src/domain/sql-queryable.ts). */
export type StoreQueryable = SqlQueryable;

/**
 * An open transaction, handed to the callback of `Store.transaction`. Valid only until that callback
 * settles; a use after that throws a permanent StoreError.
 */
export interface StoreTransaction extends StoreQueryable {
  /**
   * Runs a script of one or more statements without parameters (migrations).
   * @throws StoreError on any failure.
   */
  exec(sql: string): Promise<void>;
}

/** A connection to jaga's store. */
export interface Store extends StoreQueryable {
  readonly driver: StoreDriver;
  /**
   * Runs `fn` inside one transaction (BEGIN ... COMMIT, READ COMMITTED). When `fn` throws or rejects,
   * the transaction is rolled back and the error is rethrown (database errors as StoreError).
   * A transient StoreError from COMMIT itself (connection lost) leaves the outcome unknown: work run
   * inside a transaction must be idempotent when retried (DESIGN.md: replay is idempotent).
   * @returns what `fn` resolved to, after the commit succeeded.
   */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Closes connections (and for PGlite releases the data folder's lock). Idempotent. */
  close(): Promise<void>;
}
