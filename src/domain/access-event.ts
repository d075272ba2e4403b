/**
 * The normalised event every stage after `parse` reads.
 *
 * Field names are snake_case because they are a data format: they are what `jaga parse`
 * prints (one JSON object per line) and what rules name in their selections
 * (`audit.rows`, `client_addr`, ...). Absent values are `null`, never missing.
 *
 * Sources of truth for the fields: PostgreSQL docs, "Error Reporting and Logging"
 * (runtime-config-logging: log_line_prefix escapes, csvlog columns, jsonlog keys) and the
 * pgaudit README, "Format" section (the `audit` part).
 */

/** What kind of record an event came from. */
export type EventKind =
  /** a pgaudit `AUDIT:` entry */
  | 'audit'
  /** `connection received: host=... port=...` */
  | 'connection'
  /** `connection authenticated: identity=... method=...` */
  | 'authentication'
  /** `connection authorized: user=... database=...` */
  | 'authorization'
  /** failed login: 28P01, 28000, no pg_hba.conf entry, role does not exist */
  | 'auth_failure'
  /** `disconnection: session time: ...` */
  | 'disconnection'
  /** any ERROR (or FATAL/PANIC that is not an auth failure), with its SQLSTATE and STATEMENT */
  | 'error'
  /** an application access event read from the monitored database's access-event table */
  | 'app_access'
  /** anything else the server logged (checkpoints, parameter changes, startup lines, ...) */
  | 'other';

/** Where an event was read from. `offset` is a byte offset into the file (or a table cursor). */
export interface EventSource {
  /** configured source id (for `jaga parse`: the server name) */
  id: string;
  /** file path as read, or null for table sources */
  file: string | null;
  /** FileFingerprint of the file (see `fileFingerprint`), or null for table sources */
  fingerprint: string | null;
  /** byte offset of the record's first byte in the file (or the table cursor value) */
  offset: number;
}

/**
 * The pgaudit payload of an `AUDIT:` record (pgaudit README, "Format"):
 * `AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS]`.
 */
export interface AuditFields {
  /** `SESSION` or `OBJECT` */
  audit_type: string;
  statement_id: number | null;
  substatement_id: number | null;
  /** READ, WRITE, FUNCTION, ROLE, DDL, MISC, MISC_SET */
  class: string;
  /** command tag, e.g. `SELECT`, `COPY`, `ALTER SYSTEM` */
  command: string;
  /** e.g. `TABLE`, `VIEW`, `FUNCTION`; null when pgaudit printed an empty field */
  object_type: string | null;
  /** schema-qualified name, e.g. `public.customers`; null when empty */
  object_name: string | null;
  /**
   * The statement text. With `pgaudit.log_statement_once` the first entry's statement is carried
   * to later entries of the same (session, statement_id, substatement_id); when it cannot be
   * (the first entry was not seen) this holds the placeholder `<previously logged>`.
   */
  statement: string;
  /**
   * Bind parameters: the list of values (each may itself be the placeholder
   * `<long param suppressed>`), or one of the placeholders `<none>`, `<not logged>`,
   * `<previously logged>` kept verbatim as a string; `<cut>` (jaga's) when the record was cut at the
   * size limit before the parameters (the event's `truncated` is then true).
   */
  parameter: string[] | string;
  /** rows field of `pgaudit.log_rows` (10th field), or null when the payload has 9 fields */
  rows: number | null;
}

/** SQL facts derived from a statement by the enrich stage (libpg-query). */
export interface QueryFacts {
  /** libpg-query fingerprint (16 hex chars), or null when the statement did not parse */
  fingerprint: string | null;
  /** statement with every constant replaced by `$n`; null when it did not parse */
  normalized: string | null;
  /** relations the statement touches, schema-qualified when written so (`public.customers`) */
  relations: string[];
  /** flags such as `select_star`, `has_where`, `copy_to`, `copy_program`, `server_file_function`, `parse_error` */
  flags: string[];
}

/** An application access event (sources issue: the `jaga_access_event` table). */
export interface AppAccessFields {
  actor: string | null;
  action: string | null;
  subject_table: string | null;
  subject_id: string | null;
  row_count: number | null;
  detail: Record<string, unknown> | null;
}

/** One parsed, normalised record. See the module comment for field conventions. */
export interface AccessEvent {
  /** deterministic: `${source.id}:${source.fingerprint}:${source.offset}` */
  id: string;
  /** event time, ISO-8601 UTC with milliseconds */
  time: string;
  /** configured source name (the server watched) */
  server: string;
  source: EventSource;
  kind: EventKind;
  user: string | null;
  database: string | null;
  client_addr: string | null;
  client_port: number | null;
  application_name: string | null;
  pid: number | null;
  session_id: string | null;
  session_line: number | null;
  backend_type: string | null;
  /** PostgreSQL severity: LOG, ERROR, FATAL, ... */
  severity: string | null;
  /** five-character SQLSTATE; for stderr without `%e`, inferred for auth failures, 42501 and 42601 */
  sqlstate: string | null;
  message: string | null;
  detail: string | null;
  hint: string | null;
  context: string | null;
  /** the STATEMENT of an error (csvlog `query`) */
  statement: string | null;
  /** session length of a disconnection, ms */
  session_duration_ms: number | null;
  /** true when the record was longer than the configured limit and was cut */
  truncated: boolean;
  audit: AuditFields | null;
  /** set by the enrich stage; frozen and shared by the events of one statement shape: read-only */
  query: QueryFacts | null;
  app: AppAccessFields | null;
}

/** Why a record could not become an event. Bounded set: used as a metric label. */
export type ParseFailureReason =
  | 'bad_prefix'
  | 'bad_csv'
  | 'wrong_column_count'
  | 'bad_json'
  | 'bad_timestamp'
  | 'bad_audit_payload'
  | 'oversized';

/** A record that could not be parsed. Carries no content of the record, only where it was. */
export interface ParseFailure {
  reason: ParseFailureReason;
  source: EventSource;
  /** length of the failed record in bytes */
  byteLength: number;
}
