import { StoreError } from '../domain/errors.js';
import type { StoreTransaction } from './store.js';
import { toStoreError } from './to-store-error.js';

/** What a driver offers inside an open transaction, before error mapping. */
export interface RawTransaction {
  query(sql: string, params?: readonly unknown[]): Promise<unknown[]>;
  exec(sql: string): Promise<void>;
}

/** SQLSTATE in_failed_sql_transaction: "current transaction is aborted, commands ignored until end of transaction block". */
const IN_FAILED_SQL_TRANSACTION = '25P02';

/**
 * The `StoreTransaction` both drivers hand out: maps driver errors to StoreError (context = the
 * statement's first keyword, e.g. `INSERT`), refuses use after the transaction ended, and remembers
 * whether a statement failed so a callback that swallowed the error cannot "commit" an aborted
 * transaction (PostgreSQL answers COMMIT of an aborted transaction with a silent ROLLBACK).
 */
export class GuardedTransaction implements StoreTransaction {
  private finished = false;
  private statementFailed = false;

  constructor(private readonly raw: RawTransaction) {}

  /** @throws StoreError (mapped driver error, or permanent when the transaction has ended). */
  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    this.assertOpen();
    try {
      return (await this.raw.query(sql, params)) as T[];
    } catch (error) {
      this.statementFailed = true;
      throw toStoreError(error, statementLabel(sql));
    }
  }

  /** @throws StoreError (mapped driver error, or permanent when the transaction has ended). */
  async exec(sql: string): Promise<void> {
    this.assertOpen();
    try {
      await this.raw.exec(sql);
    } catch (error) {
      this.statementFailed = true;
      throw toStoreError(error, 'script');
    }
  }

  /**
   * Called after the callback resolved, before COMMIT: when a statement failed, probes the transaction
   * and throws when it is aborted (a callback may legitimately recover through a savepoint).
   * @throws StoreError (permanent, sqlstate 25P02) when the transaction can only roll back.
   */
  async assertCommittable(): Promise<void> {
    if (!this.statementFailed) return;
    try {
      await this.raw.query('SELECT 1');
    } catch (error) {
      const mapped = toStoreError(error, 'commit');
      if (mapped.sqlstate === IN_FAILED_SQL_TRANSACTION) {
        throw new StoreError('commit refused: a statement of this transaction failed and the callback went on; the transaction was rolled back', false, IN_FAILED_SQL_TRANSACTION);
      }
      throw mapped;
    }
  }

  /** Marks the transaction ended: later calls throw. */
  finish(): void {
    this.finished = true;
  }

  private assertOpen(): void {
    if (this.finished) throw new StoreError('transaction already finished: a StoreTransaction is valid only inside its callback', false);
  }
}

/** The first SQL keyword of a statement (`INSERT`, `SELECT`, `WITH`...): names an operation without any of its data. */
export function statementLabel(sql: string): string {
  const keyword = /^\s*(?:--[^\n]*\n\s*)*([A-Za-z]+)/.exec(sql)?.[1];
  return keyword ? keyword.toUpperCase() : 'statement';
}
