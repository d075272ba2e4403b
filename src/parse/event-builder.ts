import type { AccessEvent, AuditFields, EventKind, EventSource, ParseFailure } from '../domain/access-event.js';
import { createAuditColumnInterners, parseAuditPayloadAt } from './audit-payload.js';
import { createIsoTimeFormatter } from './iso-time-formatter.js';
import type { LogRecord } from './log-record.js';
import { classifyMessage } from './message-classifier.js';
import { type CarriedStatement, type StatementMemory, StatementOnceTracker } from './statement-once-tracker.js';

/** Options of `createEventBuilder`. */
export interface EventBuilderOptions {
  /** configured source name (the server watched); copied to `event.server` */
  server: string;
  /** sessions whose `log_statement_once` statements are remembered (default 10,000; least recently used forgotten) */
  maxTrackedSessions?: number;
  /** substatements remembered per session (default 64) */
  maxTrackedSubstatements?: number;
  /**
   * the `log_statement_once` memory to use instead of a new `StatementOnceTracker` of the two bounds
   * above (e.g. one that also logs what it was asked); called the same way: `recall` for an entry
   * printed `<previously logged>`, `remember` for any other audit entry, `forget` on a disconnection
   */
  statementMemory?: StatementMemory;
}

/** Where the record was read from, as the source knows it (the record gives the offset). */
export interface RecordOrigin {
  /** configured source id */
  id: string;
  /** file path as read, or null */
  file: string | null;
  /** FileFingerprint of the file, or null */
  fingerprint: string | null;
}

/** Turns framed log records of one source into events, in file order (it keeps per-session state). */
export interface EventBuilder {
  /**
   * Builds the event of one record, or a `ParseFailure` (`bad_timestamp` for a record without a
   * time, `bad_audit_payload` for an `AUDIT:` record whose payload does not parse, `oversized` when
   * that record was also cut at the size limit). Never throws.
   */
  build(record: LogRecord, origin: RecordOrigin): AccessEvent | ParseFailure;
  /**
   * Uses `statementMemory` as the `log_statement_once` memory from now on (the one used so far is
   * left as it is): the builder then builds exactly what a new builder of the same `server` and
   * that `statementMemory` would. Its other state (interned audit columns, formatted times, the
   * id prefix of the last origin) only shares strings.
   */
  restart(statementMemory: StatementMemory): void;
}

const PREVIOUSLY_LOGGED = '<previously logged>';
const AUDIT_PREFIX = 'AUDIT: ';

/**
 * `audit` with the statement of `carried`, and its parameter too when `audit.parameter` is
 * `<previously logged>`: what the builder gives a `log_statement_once` entry whose first entry it
 * remembers. A new object, keys in the order of the builder's events; `audit` is left as it is.
 */
export function withCarriedStatement(audit: AuditFields, carried: CarriedStatement): AuditFields {
  return {
    audit_type: audit.audit_type,
    statement_id: audit.statement_id,
    substatement_id: audit.substatement_id,
    class: audit.class,
    command: audit.command,
    object_type: audit.object_type,
    object_name: audit.object_name,
    statement: carried.statement,
    parameter: audit.parameter === PREVIOUSLY_LOGGED ? carried.parameter : audit.parameter,
    rows: audit.rows,
  };
}

/** `%a`/`%u`/`%d` print `[unknown]` before authentication; csv/json leave the value empty. Both mean null. */
function known(value: string | null): string | null {
  return value === null || value === '' || value === '[unknown]' ? null : value;
}

/**
 * Creates the builder that turns one `LogRecord` into one `AccessEvent` (src/domain/access-event.ts).
 *
 * - `id` is `${origin.id}:${origin.fingerprint}:${record.offset}`; `time` is the ISO-8601 UTC form
 *   of `record.timeMs`; `query` and `app` are null (the enrich stage and app sources fill them).
 * - `kind`, `sqlstate` and the message facts come from `classifyMessage`; the record's own
 *   user / database / host / port / application_name win, and the message's fill them when the
 *   record lacks them (auth failures, connection, authorization and disconnection lines of a
 *   stderr prefix without `%u %d %r %a`). `[unknown]` and empty values are null.
 * - `audit` is the parsed pgaudit payload. With `pgaudit.log_statement_once`, an entry whose
 *   statement (and parameter) is `<previously logged>` gets those of the first entry of the same
 *   (session, statement_id, substatement_id), where session is `session_id`, or `pid` when the
 *   format has no session id; when that first entry was not seen the placeholder stays. A
 *   session is forgotten at its disconnection; the memory is bounded by the options (or is
 *   `options.statementMemory` when given). Its short columns (audit type, class, command, object
 *   type and name) are interned per builder (`createAuditColumnInterners`: at most 1,024 values per column).
 */
export function createEventBuilder(options: EventBuilderOptions): EventBuilder {
  let memory = options.statementMemory ?? new StatementOnceTracker(options.maxTrackedSessions, options.maxTrackedSubstatements);
  const server = options.server;
  const formatTime = createIsoTimeFormatter();
  const auditColumns = createAuditColumnInterners();
  // `${id}:${fingerprint}:` of the last origin seen (records of one file share it)
  let hasPrefix = false;
  let originId: string | null = null;
  let originFingerprint: string | null = null;
  let idPrefix = '';

  /** The record's session for the statement memory: `session_id` (a string) or `pid` (a number), or null. */
  const sessionKey = (record: LogRecord): string | number | null =>
    record.session_id !== null && record.session_id !== '' ? record.session_id : record.pid;

  /** Applies (and feeds) the log_statement_once memory. */
  const carryStatement = (audit: AuditFields, session: string | number | null): AuditFields => {
    if (session === null || audit.statement_id === null || audit.substatement_id === null) return audit;
    if (audit.statement === PREVIOUSLY_LOGGED) {
      const carried = memory.recall(session, audit.statement_id, audit.substatement_id);
      return carried === null ? audit : withCarriedStatement(audit, carried);
    }
    memory.remember(session, audit.statement_id, audit.substatement_id, { statement: audit.statement, parameter: audit.parameter });
    return audit;
  };

  return {
    restart(statementMemory) {
      memory = statementMemory;
    },
    build(record, origin) {
      const source: EventSource = { id: origin.id, file: origin.file, fingerprint: origin.fingerprint, offset: record.offset };
      const timeMs = record.timeMs;
      const time = timeMs === null ? null : formatTime(timeMs);
      if (time === null) return { reason: 'bad_timestamp', source, byteLength: record.byteLength };

      const message = record.message;
      let kind: EventKind;
      let audit: AuditFields | null = null;
      let sqlstate: string | null;
      let user: string | null = known(record.user);
      let database: string | null = known(record.database);
      let host: string | null = known(record.host);
      let port: number | null = record.port;
      let applicationName: string | null = known(record.application_name);
      let sessionDurationMs: number | null = null;
      if (message.startsWith(AUDIT_PREFIX)) {
        // What classifyMessage gives an audit record, without its allocation: no message facts.
        kind = 'audit';
        const state = record.sqlstate;
        sqlstate = state === null || state === '' || state === '00000' ? null : state;
        const parsed = parseAuditPayloadAt(message, AUDIT_PREFIX.length, auditColumns, record.truncated);
        if (parsed === null) return { reason: record.truncated ? 'oversized' : 'bad_audit_payload', source, byteLength: record.byteLength };
        audit = carryStatement(parsed, sessionKey(record));
      } else {
        const facts = classifyMessage(record);
        kind = facts.kind;
        sqlstate = facts.sqlstate;
        user ??= facts.user;
        database ??= facts.database;
        host ??= facts.host;
        port ??= facts.port;
        applicationName ??= known(facts.applicationName);
        sessionDurationMs = facts.sessionDurationMs;
        if (kind === 'disconnection') {
          const session = sessionKey(record);
          if (session !== null) memory.forget(session);
        }
      }

      if (!hasPrefix || origin.id !== originId || origin.fingerprint !== originFingerprint) {
        hasPrefix = true;
        originId = origin.id;
        originFingerprint = origin.fingerprint;
        idPrefix = `${origin.id}:${origin.fingerprint}:`;
      }
      return {
        id: idPrefix + record.offset,
        time,
        server,
        source,
        kind,
        user,
        database,
        client_addr: host,
        client_port: port,
        application_name: applicationName,
        pid: record.pid,
        session_id: known(record.session_id),
        session_line: record.session_line,
        backend_type: known(record.backend_type),
        severity: record.severity,
        sqlstate,
        message,
        detail: record.detail,
        hint: record.hint,
        context: record.context,
        statement: record.statement,
        session_duration_ms: sessionDurationMs,
        truncated: record.truncated,
        audit,
        query: null,
        app: null,
      };
    },
  };
}
