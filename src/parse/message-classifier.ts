import type { EventKind } from '../domain/access-event.js';
import type { LogRecord } from './log-record.js';

/**
 * What `classifyMessage` found in one record: the event kind plus the facts its message carries.
 * Every fact is null when the message does not carry it; the record's own fields are not copied.
 */
export interface MessageClassification {
  kind: EventKind;
  /**
   * The record's SQLSTATE (`00000`, "successful completion", read as null), or, when the record has
   * none (stderr without `%e`), the one inferred from the message (see `classifyMessage`).
   */
  sqlstate: string | null;
  /** true when `sqlstate` was inferred from the message text */
  sqlstateInferred: boolean;
  /** role named in the message: `user=` of connection/disconnection lines, `user "U"` of auth failures */
  user: string | null;
  /** database named in the message (`database=D`, `database "D"`) */
  database: string | null;
  /** client host named in the message (`host=H`, `host "H"`); `[local]` for Unix-socket clients */
  host: string | null;
  /** client port named in the message */
  port: number | null;
  /** `application_name=A` of a connection authorized line */
  applicationName: string | null;
  /** `session time: H:MM:SS.mmm` of a disconnection, in ms */
  sessionDurationMs: number | null;
  /** `identity="..."` of a connection authenticated line */
  authIdentity: string | null;
  /** authentication method: `method=M` of connection authenticated, or the method named by an auth failure */
  authMethod: string | null;
  /** true for `replication connection authorized` and replication pg_hba.conf rejections (walsender: backup tools) */
  replication: boolean;
  /** true/false when a connection authorized line says whether SSL is in use; null otherwise */
  ssl: boolean | null;
  /** the pgaudit payload (text after `AUDIT: `) of an audit record */
  auditPayload: string | null;
}

const AUDIT_PREFIX = 'AUDIT: ';

const CONNECTION_RECEIVED = /^connection received: host=(\S+)(?: port=(\d+))?$/;
const CONNECTION_AUTHENTICATED = /^connection authenticated: (?:identity|user)="(.*)" method=(\S+) \(.*\)$/;
const CONNECTION_AUTHORIZED = /^(replication )?connection authorized: user=(.*)$/;
/** optional trailing SSL / GSS clauses of a connection authorized line (postinit.c PerformAuthentication) */
const AUTHORIZED_SUFFIX = /( SSL enabled \([^()]*\))?( GSS \([^()]*\))?$/;
const DISCONNECTION =
  /^disconnection: session time: (\d+):(\d{2}):(\d{2})\.(\d{3}) user=(.*?) database=(.*?) host=(\S*)(?: port=(\d+))?$/;
const AUTH_METHOD_FAILED = /^(?:(\S+) )?authentication failed for user "(.*)"(?:: .*)?$/;
const HBA_REJECT =
  /^(?:no pg_hba\.conf entry|pg_hba\.conf rejects) (?:for (replication connection from )?host|(replication )?connection for host) "(.*?)", user "(.*?)"(?:, database "(.*?)")?, [^,]*$/;
const ROLE_MISSING = /^role "(.*)" (?:does not exist|is not permitted to log in)$/;

/** Severities that end the statement or the session. */
const ERROR_SEVERITIES: ReadonlySet<string> = new Set(['ERROR', 'FATAL', 'PANIC']);

function blank(kind: EventKind, sqlstate: string | null): MessageClassification {
  return {
    kind,
    sqlstate,
    sqlstateInferred: false,
    user: null,
    database: null,
    host: null,
    port: null,
    applicationName: null,
    sessionDurationMs: null,
    authIdentity: null,
    authMethod: null,
    replication: false,
    ssl: null,
    auditPayload: null,
  };
}

function toPort(text: string | undefined): number | null {
  return text === undefined ? null : Number(text);
}

/** `connection authorized: user=U database=D application_name=A SSL enabled (...)`. */
function classifyAuthorized(message: string, sqlstate: string | null): MessageClassification | null {
  const match = CONNECTION_AUTHORIZED.exec(message);
  if (!match) return null;
  const out = blank('authorization', sqlstate);
  out.replication = match[1] !== undefined;
  let rest = match[2] ?? '';
  const suffix = AUTHORIZED_SUFFIX.exec(rest);
  if (suffix && suffix[0].length > 0) rest = rest.slice(0, suffix.index);
  out.ssl = suffix?.[1] !== undefined;
  const appAt = rest.indexOf(' application_name=');
  if (appAt !== -1) {
    out.applicationName = rest.slice(appAt + ' application_name='.length);
    rest = rest.slice(0, appAt);
  }
  if (!out.replication) {
    const dbAt = rest.indexOf(' database=');
    if (dbAt !== -1) {
      out.database = rest.slice(dbAt + ' database='.length);
      rest = rest.slice(0, dbAt);
    }
  }
  out.user = rest;
  return out;
}

/** FATAL login failures; null when the message is not one. */
function classifyAuthFailure(message: string, sqlstate: string | null): MessageClassification | null {
  let match = AUTH_METHOD_FAILED.exec(message);
  if (match) {
    const method = match[1] ?? null;
    const out = blank('auth_failure', sqlstate ?? (method === 'password' ? '28P01' : '28000'));
    out.sqlstateInferred = sqlstate === null;
    out.authMethod = method;
    out.user = match[2] ?? null;
    return out;
  }
  match = HBA_REJECT.exec(message);
  if (match) {
    const out = blank('auth_failure', sqlstate ?? '28000');
    out.sqlstateInferred = sqlstate === null;
    out.replication = match[1] !== undefined || match[2] !== undefined;
    out.host = match[3] ?? null;
    out.user = match[4] ?? null;
    out.database = match[5] ?? null;
    return out;
  }
  match = ROLE_MISSING.exec(message);
  if (match) {
    const out = blank('auth_failure', sqlstate ?? '28000');
    out.sqlstateInferred = sqlstate === null;
    out.user = match[1] ?? null;
    return out;
  }
  if (sqlstate !== null && sqlstate.startsWith('28')) return blank('auth_failure', sqlstate);
  return null;
}

/** SQLSTATE inferred for an ERROR/FATAL/PANIC message without one, or null. */
function inferErrorSqlstate(message: string): string | null {
  if (message.startsWith('permission denied') || message.startsWith('must be superuser') || message.startsWith('must be owner')) {
    return '42501';
  }
  if (message.startsWith('syntax error at or near') || message.startsWith('syntax error at end of input')) return '42601';
  return null;
}

/**
 * Decides the event kind of one server log record from its severity, message and SQLSTATE, and
 * extracts what the message says. `lc_messages` must be `C` (English): translated messages come
 * out as `other`/`error` (an auth failure is still recognised by its SQLSTATE class 28 when the
 * format carries it).
 *
 * Source of truth: PostgreSQL 15-17 source: postmaster.c (`connection received: host=H[ port=P]`),
 * auth.c (`connection authenticated: identity="I" method=M (FILE:LINE)`, `auth_failed`, the
 * pg_hba.conf rejections), postinit.c (`[replication ]connection authorized: user=U[ database=D]
 * [ application_name=A][ SSL enabled (...)][ GSS (...)]`, `role "U" does not exist` /
 * `is not permitted to log in`), postgres.c (`disconnection: session time: H:MM:SS.mmm user=U
 * database=D host=H[ port=P]`), and pgaudit's `AUDIT: ` prefix.
 *
 * Kinds: `audit` (message starts with `AUDIT: `, any severity), `connection`, `authentication`,
 * `authorization` (replication connections too: `replication: true`), `disconnection`;
 * `auth_failure` for a FATAL `... authentication failed for user "U"`, `no pg_hba.conf entry ...`,
 * `pg_hba.conf rejects ...`, `role "U" does not exist`, `role "U" is not permitted to log in`, or
 * any FATAL with SQLSTATE class 28; `error` for other ERROR/FATAL/PANIC; `other` for the rest.
 *
 * Inferred SQLSTATEs (only when the record has none, only for ERROR/FATAL/PANIC):
 * `password authentication failed` → 28P01; other `... authentication failed`, the pg_hba.conf
 * rejections and the two role messages → 28000; `permission denied ...`, `must be superuser ...`,
 * `must be owner ...` → 42501; `syntax error at or near ...` / `syntax error at end of input` → 42601.
 *
 * Never throws; a message that matches nothing is `other` (or `error`).
 */
export function classifyMessage(record: LogRecord): MessageClassification {
  const message = record.message;
  const sqlstate = record.sqlstate === null || record.sqlstate === '' || record.sqlstate === '00000' ? null : record.sqlstate;
  const severity = record.severity;

  if (message.startsWith(AUDIT_PREFIX)) {
    const out = blank('audit', sqlstate);
    out.auditPayload = message.slice(AUDIT_PREFIX.length);
    return out;
  }

  if (severity !== null && ERROR_SEVERITIES.has(severity)) {
    if (severity === 'FATAL') {
      const failure = classifyAuthFailure(message, sqlstate);
      if (failure) return failure;
    }
    const out = blank('error', sqlstate);
    if (sqlstate === null) {
      out.sqlstate = inferErrorSqlstate(message);
      out.sqlstateInferred = out.sqlstate !== null;
    }
    return out;
  }

  if (message.startsWith('connection received: ')) {
    const match = CONNECTION_RECEIVED.exec(message);
    const out = blank('connection', sqlstate);
    if (match) {
      out.host = match[1] ?? null;
      out.port = toPort(match[2]);
    }
    return out;
  }
  if (message.startsWith('connection authenticated: ')) {
    const match = CONNECTION_AUTHENTICATED.exec(message);
    const out = blank('authentication', sqlstate);
    if (match) {
      out.authIdentity = match[1] ?? null;
      out.authMethod = match[2] ?? null;
    }
    return out;
  }
  if (message.startsWith('connection authorized: ') || message.startsWith('replication connection authorized: ')) {
    return classifyAuthorized(message, sqlstate) ?? blank('authorization', sqlstate);
  }
  if (message.startsWith('disconnection: ')) {
    const match = DISCONNECTION.exec(message);
    const out = blank('disconnection', sqlstate);
    if (match) {
      const [, hours, minutes, seconds, millis, user, database, host, port] = match;
      out.sessionDurationMs = ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 + Number(millis);
      out.user = user ?? null;
      out.database = database ?? null;
      out.host = host ?? null;
      out.port = toPort(port);
    }
    return out;
  }
  return blank('other', sqlstate);
}
