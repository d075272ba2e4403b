import type { ParseFailureReason } from '../domain/access-event.js';
import type { LogRecord } from './log-record.js';
import type { TimestampParser } from './timestamp-parser.js';

/**
 * Maps one parsed jsonlog object to a `LogRecord`.
 *
 * Source of truth: PostgreSQL docs, runtime-config-logging, "Using JSON-Format Log Output" (keys
 * timestamp, user, dbname, pid, remote_host, remote_port, session_id, line_num, ps, session_start,
 * vxid, txid, error_severity, state_code, message, detail, hint, internal_query,
 * internal_position, context, statement, cursor_position, func_name, file_name, file_line_num,
 * application_name, backend_type, leader_pid, query_id) and src/backend/utils/error/jsonlog.c,
 * which leaves out every key whose value is empty or zero-like:
 * - an absent key gives null (an empty string counts as absent, like an empty csvlog column);
 * - an absent `state_code` gives `00000`: jsonlog writes it only when the SQLSTATE is not
 *   successful_completion, where csvlog and stderr `%e` print `00000`;
 * - `location` is `func_name, file_name:file_line_num` (or `file_name:file_line_num`), as csvlog
 *   writes it; null without `file_name`;
 * - `txid` and `query_id` become decimal strings; a `query_id` beyond 2^53 is read from the line's
 *   text so no digit is lost.
 *
 * @param line the line's text, for exact big integers
 * @param eventFieldsOnly leave null the fields events are not built from (`FramerOptions.eventFieldsOnly`)
 * @returns the record, or `bad_timestamp` when `timestamp` is absent or not a PostgreSQL timestamp
 */
export function buildJsonlogRecord(
  o: Record<string, unknown>,
  line: string,
  offset: number,
  byteLength: number,
  parseTime: TimestampParser,
  truncated: boolean,
  eventFieldsOnly = false,
): LogRecord | ParseFailureReason {
  const timestamp = text(o.timestamp);
  const timeMs = timestamp === null ? null : parseTime(timestamp);
  if (timeMs === null) return 'bad_timestamp';
  const full = !eventFieldsOnly;
  const sessionStart = full ? text(o.session_start) : null;
  return {
    offset,
    byteLength,
    timeMs,
    user: text(o.user),
    database: text(o.dbname),
    pid: integer(o.pid),
    host: text(o.remote_host),
    port: integer(o.remote_port),
    session_id: text(o.session_id),
    session_line: integer(o.line_num),
    command_tag: full ? text(o.ps) : null,
    sessionStartMs: sessionStart === null ? null : parseTime(sessionStart),
    vxid: full ? text(o.vxid) : null,
    xid: full ? text(o.txid) : null,
    severity: text(o.error_severity),
    sqlstate: text(o.state_code) ?? '00000',
    message: text(o.message) ?? '',
    detail: text(o.detail),
    hint: text(o.hint),
    internal_query: full ? text(o.internal_query) : null,
    context: text(o.context),
    statement: text(o.statement),
    location: full ? location(o) : null,
    application_name: text(o.application_name),
    backend_type: text(o.backend_type),
    leader_pid: full ? integer(o.leader_pid) : null,
    query_id: full ? bigIntegerText(o.query_id, line) : null,
    truncated,
  };
}

/** A string or number value as text; null when absent, empty or of another type. */
function text(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** An integer value (or its decimal text); null otherwise. */
function integer(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^-?\d{1,15}$/.test(value)) return Number(value);
  return null;
}

/** `query_id` (int64) as exact decimal text. */
function bigIntegerText(value: unknown, line: string): string | null {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    // A raw `"query_id":` can only be the key: a quote inside a JSON string is escaped.
    const raw = /"query_id":\s*(-?\d+)/.exec(line);
    if (raw) return raw[1] ?? null;
  }
  return text(value);
}

function location(o: Record<string, unknown>): string | null {
  const file = text(o.file_name);
  if (file === null) return null;
  const func = text(o.func_name);
  const line = text(o.file_line_num);
  const place = line === null ? file : `${file}:${line}`;
  return func === null ? place : `${func}, ${place}`;
}
