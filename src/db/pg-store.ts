import pg from 'pg';
import { StoreError } from '../domain/errors.js';
import type { Logger } from '../observe/logger.js';
import { GuardedTransaction, statementLabel } from './guarded-transaction.js';
import type { Store, StoreTransaction } from './store.js';
import { toStoreError } from './to-store-error.js';

/** Oldest PostgreSQL major version the SQL of jaga's migrations and repositories runs on. */
export const MIN_SERVER_VERSION_NUM = 130000;

const INT8_OID = 20;
const DATE_OID = 1082;

/** Options of `PgStore.open`. */
export interface PgStoreOptions {
  /** libpq-style connection URL, e.g. `postgres://jaga:secret@db.internal:5432/jaga?sslmode=require` */
  url: string;
  /** where pool-level connection errors are reported */
  logger?: Logger;
  /** pool size; default 10 */
  maxConnections?: number;
  /** how long to wait for a connection; default 10000 ms */
  connectTimeoutMs?: number;
}

/**
 * Decodes int8 like PGlite does, so both drivers return the same values: a `number` when the value is a
 * safe integer, else a `bigint`.
 */
function parseInt8(text: string): number | bigint {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}

/** Decodes `date` as UTC midnight (as PGlite does), never in the process's local time zone. */
function parseDate(text: string): Date | string {
  const parsed = new Date(`${text}T00:00:00Z`);
  return Number.isNaN(parsed.getTime()) ? text : parsed;
}

/** Per-pool type parsers (the process-global `pg.types` stay untouched for other users of `pg`). */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary' && oid === INT8_OID) return parseInt8;
    if (format !== 'binary' && oid === DATE_OID) return parseDate;
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * The store on a PostgreSQL server (13 or later) through a `pg` connection pool. Several jaga agents may
 * share one database.
 */
export class PgStore implements Store {
  readonly driver = 'pg' as const;
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  /**
   * Connects and checks the server version.
   * @throws StoreError: transient when the server cannot be reached (refused, timeout, shutting down);
   *   permanent for bad credentials, an unknown database, or a server older than PostgreSQL 13.
   */
  static async open(options: PgStoreOptions): Promise<PgStore> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      types: typeParsers,
      application_name: 'jaga',
    });
    // An idle client losing its connection emits 'error' on the pool; unhandled it would end the process.
    pool.on('error', (error) => {
      const mapped = toStoreError(error, 'idle connection');
      options.logger?.warn('store_connection_lost', { event: 'store_connection_lost', driver: 'pg', sqlstate: mapped.sqlstate, transient: mapped.transient });
    });
    const store = new PgStore(pool);
    try {
      const [row] = (await pool.query<{ server_version_num: string }>('SHOW server_version_num')).rows;
      const version = Number(row?.server_version_num);
      if (!(version >= MIN_SERVER_VERSION_NUM)) {
        throw new StoreError(`PostgreSQL server_version_num ${String(row?.server_version_num)} is too old: jaga needs PostgreSQL 13 or later`, false);
      }
    } catch (error) {
      await pool.end().catch((endError: unknown) => {
        options.logger?.debug('store_close_failed', { event: 'store_close_failed', driver: 'pg', error: String(endError) });
      });
      throw toStoreError(error, 'connect');
    }
    return store;
  }

  /** @throws StoreError */
  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    this.assertOpen();
    try {
      const result = await this.pool.query(sql, params as unknown[] | undefined);
      return rowsOf(result) as T[];
    } catch (error) {
      throw toStoreError(error, statementLabel(sql));
    }
  }

  /** @throws StoreError for BEGIN/COMMIT failures and failed statements; other errors of `fn` as thrown. */
  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toStoreError(error, 'connect');
    }
    // A checked-out client has no 'error' listener of the pool: without this one, a connection lost
    // between statements (server restart, pg_terminate_backend) would be an unhandled 'error' event.
    let connectionError: Error | undefined;
    const onConnectionError = (error: Error): void => {
      connectionError ??= error;
    };
    client.on('error', onConnectionError);
    const tx = new GuardedTransaction({
      // After a connection error, report that error (e.g. 57P01 admin_shutdown) rather than pg's generic
      // "Client has encountered a connection error and is not queryable".
      query: async (sql, params) => {
        if (connectionError) throw connectionError;
        return rowsOf(await client.query(sql, params as unknown[] | undefined).catch((error: unknown) => Promise.reject(connectionError ?? error)));
      },
      exec: async (sql) => {
        if (connectionError) throw connectionError;
        await client.query(sql).catch((error: unknown) => Promise.reject(connectionError ?? error));
      },
    });
    let broken: Error | undefined;
    try {
      await runControl(client, 'BEGIN');
      const result = await fn(tx);
      await tx.assertCommittable();
      tx.finish();
      const commit = await runControl(client, 'COMMIT');
      if (commit.command === 'ROLLBACK') {
        throw new StoreError('commit refused: the transaction was aborted and has been rolled back', false, '25P02');
      }
      return result;
    } catch (error) {
      tx.finish();
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable: destroy it instead of returning it to the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.removeListener('error', onConnectionError);
      client.release(broken ?? connectionError);
    }
  }

  /** Ends the pool (waits for checked-out clients to be released). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('store is closed', false);
  }
}

async function runControl(client: pg.PoolClient, statement: 'BEGIN' | 'COMMIT'): Promise<pg.QueryResult> {
  try {
    return await client.query(statement);
  } catch (error) {
    throw toStoreError(error, statement.toLowerCase());
  }
}

/** Rows of a result; for a multi-statement script (an array of results) those of the last statement. */
function rowsOf(result: pg.QueryResult | pg.QueryResult[]): unknown[] {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return last?.rows ?? [];
}
