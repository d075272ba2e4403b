import type { AccessEvent, AuditFields, EventSource, ParseFailure } from '../domain/access-event.js';
import { parseAuditPayload } from './audit-payload.js';
import type { LogRecord } from './log-record.js';
import { classifyMessage } from './message-classifier.js';
import { StatementOnceTracker } from './statement-once-tracker.js';

/** Options of `createEventBuilder`. */
export interface EventBuilderOptions {
  /** configured source name (the server watched); copied to `event.server` */
  server: string;
  /** sessions whose `log_statement_once` statements are remembered (default 10,000; least recently used forgotten) */
  maxTrackedSessions?: number;
  /** substatements remembered per session (default 64) */
  maxTrackedSubstatements?: number;
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
}

const PREVIOUSLY_LOGGED = '<previously logged>';

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
 *   session is forgotten at its disconnection; the memory is bounded by the options.
 */
export function createEventBuilder(options: EventBuilderOptions): EventBuilder {
  const tracker = new StatementOnceTracker(options.maxTrackedSessions, options.maxTrackedSubstatements);
  const server = options.server;

  const sessionKey = (record: LogRecord): string | null =>
    record.session_id !== null && record.session_id !== '' ? `s:${record.session_id}` : record.pid !== null ? `p:${record.pid}` : null;

  /** Applies (and feeds) the log_statement_once memory. */
  const carryStatement = (audit: AuditFields, session: string | null): AuditFields => {
    if (session === null || audit.statement_id === null || audit.substatement_id === null) return audit;
    if (audit.statement === PREVIOUSLY_LOGGED) {
      const carried = tracker.recall(session, audit.statement_id, audit.substatement_id);
      if (carried === null) return audit;
      return {
        ...audit,
        statement: carried.statement,
        parameter: audit.parameter === PREVIOUSLY_LOGGED ? carried.parameter : audit.parameter,
      };
    }
    tracker.remember(session, audit.statement_id, audit.substatement_id, { statement: audit.statement, parameter: audit.parameter });
    return audit;
  };

  return {
    build(record, origin) {
      const source: EventSource = { id: origin.id, file: origin.file, fingerprint: origin.fingerprint, offset: record.offset };
      const fail = (reason: ParseFailure['reason']): ParseFailure => ({ reason, source, byteLength: record.byteLength });

      if (record.timeMs === null || !Number.isFinite(record.timeMs)) return fail('bad_timestamp');
      const date = new Date(record.timeMs);
      if (Number.isNaN(date.getTime())) return fail('bad_timestamp');

      const facts = classifyMessage(record);
      const session = sessionKey(record);
      let audit: AuditFields | null = null;
      if (facts.kind === 'audit') {
        const parsed = parseAuditPayload(facts.auditPayload ?? '');
        if (parsed === null) return fail(record.truncated ? 'oversized' : 'bad_audit_payload');
        audit = carryStatement(parsed, session);
      } else if (facts.kind === 'disconnection' && session !== null) {
        tracker.forget(session);
      }

      return {
        id: `${origin.id}:${origin.fingerprint}:${record.offset}`,
        time: date.toISOString(),
        server,
        source,
        kind: facts.kind,
        user: known(record.user) ?? facts.user,
        database: known(record.database) ?? facts.database,
        client_addr: known(record.host) ?? facts.host,
        client_port: record.port ?? facts.port,
        application_name: known(record.application_name) ?? known(facts.applicationName),
        pid: record.pid,
        session_id: known(record.session_id),
        session_line: record.session_line,
        backend_type: known(record.backend_type),
        severity: record.severity,
        sqlstate: facts.sqlstate,
        message: record.message,
        detail: record.detail,
        hint: record.hint,
        context: record.context,
        statement: record.statement,
        session_duration_ms: facts.sessionDurationMs,
        truncated: record.truncated,
        audit,
        query: null,
        app: null,
      };
    },
  };
}
