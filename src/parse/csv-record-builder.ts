import type { ParseFailureReason } from '../domain/access-event.js';
import type { LogRecord } from './log-record.js';
import type { ConnectionFromCache } from './connection-from-cache.js';
import type { TimestampParser } from './timestamp-parser.js';

/**
 * Maps the decoded columns of one csvlog record to a `LogRecord`.
 *
 * Source of truth: PostgreSQL docs, runtime-config-logging, "Using CSV-Format Log Output".
 * Column order (0-based): 0 log_time, 1 user_name, 2 database_name, 3 process_id,
 * 4 connection_from, 5 session_id, 6 session_line_num, 7 command_tag, 8 session_start_time,
 * 9 virtual_transaction_id, 10 transaction_id, 11 error_severity, 12 sql_state_code, 13 message,
 * 14 detail, 15 hint, 16 internal_query, 17 internal_query_pos, 18 context, 19 query,
 * 20 query_pos, 21 location, 22 application_name; PostgreSQL 13 adds 23 backend_type;
 * PostgreSQL 14-17 add 24 leader_pid and 25 query_id. So a record has 23, 24 or 26 columns.
 *
 * @param fields decoded columns, empty ones null (see `splitCsvFields`)
 * @param parseTime converts `log_time` / `session_start_time` to UTC epoch ms
 * @param connections splits `connection_from` (and interns its host)
 * @returns the record, or the failure reason: `wrong_column_count` for any other column count,
 *   `bad_timestamp` when `log_time` is empty or not a PostgreSQL timestamp
 */
export function buildCsvlogRecord(
  fields: readonly (string | null)[],
  offset: number,
  byteLength: number,
  parseTime: TimestampParser,
  truncated: boolean,
  connections: ConnectionFromCache,
): LogRecord | ParseFailureReason {
  const count = fields.length;
  if (count !== 23 && count !== 24 && count !== 26) return 'wrong_column_count';
  const f = fields;
  const logTime = f[0] ?? null;
  const timeMs = logTime === null ? null : parseTime(logTime);
  if (timeMs === null) return 'bad_timestamp';
  const sessionStart = f[8] ?? null;
  connections.split(f[4] ?? null);
  return {
    offset,
    byteLength,
    timeMs,
    user: f[1] ?? null,
    database: f[2] ?? null,
    pid: toInteger(f[3] ?? null),
    host: connections.host,
    port: connections.port,
    session_id: f[5] ?? null,
    session_line: toInteger(f[6] ?? null),
    command_tag: f[7] ?? null,
    sessionStartMs: sessionStart === null ? null : parseTime(sessionStart),
    vxid: f[9] ?? null,
    xid: f[10] ?? null,
    severity: f[11] ?? null,
    sqlstate: f[12] ?? null,
    message: f[13] ?? '',
    detail: f[14] ?? null,
    hint: f[15] ?? null,
    internal_query: f[16] ?? null,
    context: f[18] ?? null,
    statement: f[19] ?? null,
    location: f[21] ?? null,
    application_name: f[22] ?? null,
    backend_type: count >= 24 ? f[23] ?? null : null,
    leader_pid: count === 26 ? toInteger(f[24] ?? null) : null,
    query_id: count === 26 ? f[25] ?? null : null,
    truncated,
  };
}

/** Decimal integer text to a number; null for empty or non-integer text. */
function toInteger(text: string | null): number | null {
  return text === null ? null : integerAt(text, 0, text.length);
}

/**
 * The decimal integer `text[start, end)` (an optional `-`, then 1 to 15 ASCII digits) as a number,
 * read without cutting a string; null for an empty range or any other text.
 */
export function integerAt(text: string, start: number, end: number): number | null {
  const negative = start < end && text.charCodeAt(start) === 0x2d;
  let i = negative ? start + 1 : start;
  if (i >= end || end - i > 15) return null;
  let value = 0;
  for (; i < end; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return null;
    value = value * 10 + d;
  }
  return negative ? -value : value;
}
