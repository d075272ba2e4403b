import { StoreError } from '../domain/errors.js';

/**
 * SQLSTATEs (or classes, given as two characters) after which a retry of the same work may succeed.
 * Source of truth: PostgreSQL docs, Appendix A "PostgreSQL Error Codes".
 */
const TRANSIENT_CLASSES = new Set(['08', '53']);
const TRANSIENT_CODES = new Set([
  '40000', // transaction_rollback
  '40001', // serialization_failure
  '40003', // statement_completion_unknown
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement_timeout under load)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57P05', // idle_session_timeout
]);

/** Node socket errors of a connection that a later attempt may not meet. */
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

/** SQLSTATE classes whose server messages may quote input values (e.g. `invalid input syntax for type integer: "..."`). */
const VALUE_QUOTING_CLASSES = new Set(['22', 'P0']);

/**
 * Whether a SQLSTATE marks a failure a retry may overcome: class 08 (connection exception), class 53
 * (insufficient resources), serialization failure / deadlock (40001, 40P01, 40000, 40003), lock not
 * available (55P03), query canceled (57014), admin/crash shutdown and cannot-connect-now (57P01-57P03),
 * idle session timeout (57P05). Everything else (syntax, constraint, data, privilege...) is permanent.
 *
 * @param sqlstate five-character SQLSTATE, e.g. `40001`
 */
export function isTransientSqlstate(sqlstate: string): boolean {
  return TRANSIENT_CODES.has(sqlstate) || TRANSIENT_CLASSES.has(sqlstate.slice(0, 2));
}

interface DatabaseErrorLike {
  code: string;
  severity?: string;
  message?: string;
  table?: string;
  column?: string;
  constraint?: string;
}

/** A server error of `pg` or PGlite: a five-character SQLSTATE `code` plus a `severity` field. */
function isDatabaseError(error: unknown): error is DatabaseErrorLike {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as Record<string, unknown>;
  return typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code) && typeof candidate.severity === 'string';
}

/**
 * Converts whatever a driver threw into a StoreError (returned unchanged when it already is one).
 *
 * - Server errors: `sqlstate` set, `transient` from `isTransientSqlstate`; the message is
 *   `<context> failed: SQLSTATE <code>: <server message> (table=..., constraint=..., column=...)`.
 *   The server message is left out for classes 22 (data exception) and P0 (raised by PL/pgSQL), whose
 *   messages can quote input values; DETAIL, HINT, WHERE, the statement and its parameters are never
 *   included, and the driver error is not attached as `cause` (PGlite errors carry the parameters).
 * - Connection failures without a SQLSTATE (refused, reset, timed out, terminated): transient,
 *   `sqlstate` null, the driver error as `cause`.
 * - Anything else: permanent, `sqlstate` null, the error as `cause`.
 *
 * @param error what the driver threw
 * @param context what was being done, without data (e.g. `query`, `commit`, `migration 0001_checkpoints`)
 */
export function toStoreError(error: unknown, context: string): StoreError {
  if (error instanceof StoreError) return error;
  if (isDatabaseError(error)) {
    const sqlstate = error.code;
    const names = (['table', 'constraint', 'column'] as const)
      .filter((key) => typeof error[key] === 'string' && error[key] !== '')
      .map((key) => `${key}=${error[key]}`);
    const serverMessage = VALUE_QUOTING_CLASSES.has(sqlstate.slice(0, 2)) ? '' : `: ${String(error.message ?? '')}`;
    const where = names.length > 0 ? ` (${names.join(', ')})` : '';
    return new StoreError(`${context} failed: SQLSTATE ${sqlstate}${serverMessage}${where}`, isTransientSqlstate(sqlstate), sqlstate);
  }
  const nodeCode = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const connectionLost =
    (typeof nodeCode === 'string' && TRANSIENT_NODE_CODES.has(nodeCode)) ||
    /connection terminated|connection error|timeout exceeded when trying to connect|terminating connection/i.test(message);
  const detail = typeof nodeCode === 'string' ? `${nodeCode}: ${message}` : message;
  return new StoreError(`${context} failed: ${detail}`, connectionLost, null, { cause: error });
}
