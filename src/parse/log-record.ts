/**
 * One server log record as read from any destination (stderr, csvlog, jsonlog), before it is
 * classified into an `AccessEvent`. Field meanings follow the csvlog columns (PostgreSQL docs,
 * runtime-config-logging, "Using CSV-Format Log Output"); a format that lacks a field gives null.
 */
export interface LogRecord {
  /** byte offset of the record's first byte in its file */
  offset: number;
  /** bytes the record spans in the file, including its final newline */
  byteLength: number;
  /** event time already converted to UTC, epoch ms; null when the format carries no time */
  timeMs: number | null;
  user: string | null;
  database: string | null;
  pid: number | null;
  /** client host (address or name) without the port */
  host: string | null;
  port: number | null;
  session_id: string | null;
  session_line: number | null;
  command_tag: string | null;
  /** session start, epoch ms UTC */
  sessionStartMs: number | null;
  vxid: string | null;
  xid: string | null;
  /** LOG, ERROR, FATAL, ... */
  severity: string | null;
  sqlstate: string | null;
  message: string;
  detail: string | null;
  hint: string | null;
  internal_query: string | null;
  context: string | null;
  /** csvlog `query` / stderr `STATEMENT:` line */
  statement: string | null;
  location: string | null;
  application_name: string | null;
  backend_type: string | null;
  leader_pid: number | null;
  query_id: string | null;
  /** true when the record exceeded the size limit and was cut */
  truncated: boolean;
}

/** A LogRecord with every field null/empty, for framers to fill in. */
export function emptyLogRecord(offset: number, byteLength: number): LogRecord {
  return {
    offset,
    byteLength,
    timeMs: null,
    user: null,
    database: null,
    pid: null,
    host: null,
    port: null,
    session_id: null,
    session_line: null,
    command_tag: null,
    sessionStartMs: null,
    vxid: null,
    xid: null,
    severity: null,
    sqlstate: null,
    message: '',
    detail: null,
    hint: null,
    internal_query: null,
    context: null,
    statement: null,
    location: null,
    application_name: null,
    backend_type: null,
    leader_pid: null,
    query_id: null,
    truncated: false,
  };
}
