import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/domain/errors.js';
import { statementLabel } from '../../src/db/guarded-transaction.js';
import { isTransientSqlstate, toStoreError } from '../../src/db/to-store-error.js';

/** The shape pg's DatabaseError and PGlite's error share. */
function serverError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR', ...extra });
}

describe('isTransientSqlstate', () => {
  it.each([
    ['08006', true], // connection_failure
    ['08P01', true], // protocol_violation (class 08)
    ['40001', true], // serialization_failure
    ['40P01', true], // deadlock_detected
    ['53300', true], // too_many_connections
    ['53100', true], // disk_full
    ['57P01', true], // admin_shutdown
    ['57P03', true], // cannot_connect_now
    ['55P03', true], // lock_not_available
    ['40002', false], // transaction_integrity_constraint_violation
    ['42601', false], // syntax_error
    ['23505', false], // unique_violation
    ['22P02', false], // invalid_text_representation
    ['42501', false], // insufficient_privilege
    ['28P01', false], // invalid_password
    ['XX000', false], // internal_error
  ])('%s is transient: %s', (sqlstate, transient) => {
    expect(isTransientSqlstate(sqlstate)).toBe(transient);
  });
});

describe('toStoreError', () => {
  it('returns a StoreError unchanged', () => {
    const original = new StoreError('already mapped', true, '40001');
    expect(toStoreError(original, 'query')).toBe(original);
  });

  it('names SQLSTATE, server message and schema objects, never detail, hint or parameters, and attaches no cause', () => {
    const error = toStoreError(
      serverError('23505', 'duplicate key value violates unique constraint "jaga_incident_fingerprint_key"', {
        detail: 'Key (fingerprint)=(secret-value) already exists.',
        hint: 'secret hint',
        table: 'jaga_incident',
        constraint: 'jaga_incident_fingerprint_key',
        params: ['secret-value'],
      }),
      'INSERT',
    );
    expect({ message: error.message, transient: error.transient, sqlstate: error.sqlstate, cause: error.cause, code: error.code }).toEqual({
      message: 'INSERT failed: SQLSTATE 23505: duplicate key value violates unique constraint "jaga_incident_fingerprint_key" (table=jaga_incident, constraint=jaga_incident_fingerprint_key)',
      transient: false,
      sqlstate: '23505',
      cause: undefined,
      code: 'E_STORE',
    });
  });

  it('drops the server message of data exceptions (class 22) and PL/pgSQL raises (class P0), which may quote values', () => {
    expect(toStoreError(serverError('22001', 'value too long for type character varying(4): "secret"'), 'UPDATE').message).toBe('UPDATE failed: SQLSTATE 22001');
    expect(toStoreError(serverError('P0001', 'row secret rejected'), 'SELECT').message).toBe('SELECT failed: SQLSTATE P0001');
  });

  it('treats socket errors without SQLSTATE as transient and keeps them as cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    const error = toStoreError(refused, 'connect');
    expect([error.message, error.transient, error.sqlstate, error.cause]).toEqual(['connect failed: ECONNREFUSED: connect ECONNREFUSED 10.0.0.5:5432', true, null, refused]);
    expect(toStoreError(new Error('Connection terminated unexpectedly'), 'SELECT').transient).toBe(true);
    expect(toStoreError(new Error('timeout exceeded when trying to connect'), 'connect').transient).toBe(true);
  });

  it('does not mistake a five-letter node error code without severity (EPIPE) for a SQLSTATE', () => {
    const error = toStoreError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 'INSERT');
    expect([error.sqlstate, error.transient, error.message]).toEqual([null, true, 'INSERT failed: EPIPE: write EPIPE']);
  });

  it('treats anything else as permanent', () => {
    const error = toStoreError(new TypeError('PGlite is closed'), 'SELECT');
    expect([error.transient, error.sqlstate, error.message]).toEqual([false, null, 'SELECT failed: PGlite is closed']);
  });
});

describe('statementLabel', () => {
  it.each([
    ['  insert into t values ($1)', 'INSERT'],
    ['-- comment\nWITH x AS (SELECT 1) SELECT * FROM x', 'WITH'],
    ['', 'statement'],
  ])('labels %j as %s', (sql, label) => {
    expect(statementLabel(sql)).toBe(label);
  });
});
