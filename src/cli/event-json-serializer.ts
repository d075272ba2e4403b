import type { AccessEvent, AuditFields, QueryFacts } from '../domain/access-event.js';
import { numberOrNull, quote, quoteArray, quoteOrNull } from './event-json-quote.js';
import { EventJsonStatements } from './event-json-statements.js';

/**
 * The keys of an `AccessEvent` in the order the event builder creates them
 * (src/parse/event-builder.ts, src/domain/blank-access-event.ts): the order `JSON.stringify(event)`
 * writes and `EventJsonSerializer` follows (tests hold the two together).
 */
export const EVENT_JSON_KEYS = [
  'id',
  'time',
  'server',
  'source',
  'kind',
  'user',
  'database',
  'client_addr',
  'client_port',
  'application_name',
  'pid',
  'session_id',
  'session_line',
  'backend_type',
  'severity',
  'sqlstate',
  'message',
  'detail',
  'hint',
  'context',
  'statement',
  'session_duration_ms',
  'truncated',
  'audit',
  'query',
  'app',
] as const satisfies readonly (keyof AccessEvent)[];

/** The keys of `AccessEvent.audit` in the builder's order (`parseAuditPayloadAt`, `withCarriedStatement`). */
export const AUDIT_JSON_KEYS = [
  'audit_type',
  'statement_id',
  'substatement_id',
  'class',
  'command',
  'object_type',
  'object_name',
  'statement',
  'parameter',
  'rows',
] as const satisfies readonly (keyof AuditFields)[];

/** Most pids whose connection fields' JSON is remembered; past it the memory starts over. */
const MAX_CONNECTIONS = 4096;
/** `,"detail":...,"audit":` of an event whose detail, hint, context, statement and session duration are null and which is not cut. */
const NO_DETAILS = ',"detail":null,"hint":null,"context":null,"statement":null,"session_duration_ms":null,"truncated":false,"audit":';

/** The connection fields of events of one pid and their JSON `,"kind":...,"session_line":`. */
interface ConnectionEntry {
  kind: string;
  user: string | null;
  database: string | null;
  clientAddr: string | null;
  clientPort: number | null;
  applicationName: string | null;
  sessionId: string | null;
  json: string;
}

/**
 * Serialises `AccessEvent`s: `serialize(event)` is exactly `JSON.stringify(event)` (ECMA-262
 * JSON.stringify; keys in `EVENT_JSON_KEYS` / `AUDIT_JSON_KEYS` order), built by concatenating a
 * few long pieces rather than by JSON.stringify walking the object (a line of fewer pieces is
 * also cheaper to flatten and UTF-8 encode). Each string is written as it is unless it needs an
 * escape, and the parts events share are made once and remembered:
 * - `,"server":...,"offset":` per source (the same for every record of a file);
 * - `,"kind":...,"session_line":` (kind, user, database, client address and port, application,
 *   pid, session id) per pid, at most 4,096 pids;
 * - `,"backend_type":...,"message":` of the previous event;
 * - per pgaudit statement text (`EventJsonStatements`): the statement's JSON with the
 *   `,"class":...,"parameter":` part of `audit` around it;
 * - `,"query":...` per frozen `QueryFacts` object (the enricher's, shared by the events of one
 *   statement shape).
 * Each memory starts over when full.
 *
 * The event must have the builder's shape (source keys `id, file, fingerprint, offset`, query keys
 * as the enricher's); tests check it against events the builder and the enricher made. `app`
 * (which `jaga parse` never sets) goes through JSON.stringify. Never throws for such events.
 */
export class EventJsonSerializer {
  /** `,"query":<JSON>` of frozen query facts (a frozen object with frozen arrays cannot change) */
  private readonly queryJson = new WeakMap<QueryFacts, string>();
  private readonly connections = new Map<number | null, ConnectionEntry>();
  private readonly statements = new EventJsonStatements();
  private server: string | null = null;
  private sourceId: string | null = null;
  private sourceFile: string | null = null;
  private sourceFingerprint: string | null = null;
  /** `,"server":...,"source":{"id":...,"file":...,"fingerprint":...,"offset":` of the fields above, or null before one */
  private sourceHead: string | null = null;
  private backendType: string | null = null;
  private severity: string | null = null;
  private sqlstate: string | null = null;
  /** `,"backend_type":...,"severity":...,"sqlstate":...,"message":` of the three fields above, or null before one */
  private severityJson: string | null = null;
  private auditType: string | null = null;
  /** `{"audit_type":...,"statement_id":` of `auditType`, or null before one */
  private auditHead: string | null = null;

  /** `JSON.stringify(event)`, one line (no newline). */
  serialize(event: AccessEvent): string {
    // A concatenation (the UTF-8 write flattens it): building the line with Array#join instead was
    // twice as slow as JSON.stringify on csvlog and jsonlog events (bench/parse-serializer.js)
    const audit = event.audit;
    const query = event.query;
    const app = event.app;
    return (
      `{"id":${quote(event.id)},"time":${quote(event.time)}${this.sourceHeadOf(event)}${numberOrNull(event.source.offset)}}` +
      `${this.connectionOf(event)}${numberOrNull(event.session_line)}${this.severityOf(event)}${quoteOrNull(event.message)}${this.detailsOf(event)}` +
      `${audit === null ? 'null' : this.auditOf(audit)}${query === null ? ',"query":null' : this.queryOf(query)}` +
      `${app === null ? ',"app":null}' : `,"app":${JSON.stringify(app)}}`}`
    );
  }

  private sourceHeadOf(event: AccessEvent): string {
    const source = event.source;
    if (this.sourceHead === null || event.server !== this.server || source.id !== this.sourceId || source.file !== this.sourceFile || source.fingerprint !== this.sourceFingerprint) {
      this.server = event.server;
      this.sourceId = source.id;
      this.sourceFile = source.file;
      this.sourceFingerprint = source.fingerprint;
      const json = JSON.stringify({ server: event.server, source: { id: source.id, file: source.file, fingerprint: source.fingerprint, offset: 0 } });
      this.sourceHead = `,${json.slice(1, -'0}}'.length)}`;
    }
    return this.sourceHead;
  }

  /** `,"kind":...,"session_line":` of the event, remembered per pid. */
  private connectionOf(event: AccessEvent): string {
    const pid = event.pid;
    const known = this.connections.get(pid);
    if (
      known !== undefined &&
      known.kind === event.kind &&
      known.user === event.user &&
      known.database === event.database &&
      known.clientAddr === event.client_addr &&
      known.clientPort === event.client_port &&
      known.applicationName === event.application_name &&
      known.sessionId === event.session_id
    ) {
      return known.json;
    }
    const json =
      `,"kind":${quote(event.kind)},"user":${quoteOrNull(event.user)},"database":${quoteOrNull(event.database)},"client_addr":${quoteOrNull(event.client_addr)}` +
      `,"client_port":${numberOrNull(event.client_port)},"application_name":${quoteOrNull(event.application_name)},"pid":${numberOrNull(pid)}` +
      `,"session_id":${quoteOrNull(event.session_id)},"session_line":`;
    if (known === undefined && this.connections.size >= MAX_CONNECTIONS) this.connections.clear();
    this.connections.set(pid, {
      kind: event.kind,
      user: event.user,
      database: event.database,
      clientAddr: event.client_addr,
      clientPort: event.client_port,
      applicationName: event.application_name,
      sessionId: event.session_id,
      json,
    });
    return json;
  }

  /** `,"backend_type":...,"message":` of the event. */
  private severityOf(event: AccessEvent): string {
    if (this.severityJson === null || event.backend_type !== this.backendType || event.severity !== this.severity || event.sqlstate !== this.sqlstate) {
      this.backendType = event.backend_type;
      this.severity = event.severity;
      this.sqlstate = event.sqlstate;
      this.severityJson = `,"backend_type":${quoteOrNull(event.backend_type)},"severity":${quoteOrNull(event.severity)},"sqlstate":${quoteOrNull(event.sqlstate)},"message":`;
    }
    return this.severityJson;
  }

  /** `,"detail":...,"audit":` of the event. */
  private detailsOf(event: AccessEvent): string {
    if (event.detail === null && event.hint === null && event.context === null && event.statement === null && event.session_duration_ms === null && !event.truncated) return NO_DETAILS;
    return (
      `,"detail":${quoteOrNull(event.detail)},"hint":${quoteOrNull(event.hint)},"context":${quoteOrNull(event.context)},"statement":${quoteOrNull(event.statement)}` +
      `,"session_duration_ms":${numberOrNull(event.session_duration_ms)},"truncated":${event.truncated ? 'true' : 'false'},"audit":`
    );
  }

  /** `JSON.stringify(audit)`. */
  private auditOf(audit: AuditFields): string {
    if (this.auditHead === null || audit.audit_type !== this.auditType) {
      this.auditType = audit.audit_type;
      this.auditHead = `{"audit_type":${quote(audit.audit_type)},"statement_id":`;
    }
    const parameter = audit.parameter;
    return (
      `${this.auditHead}${numberOrNull(audit.statement_id)},"substatement_id":${numberOrNull(audit.substatement_id)}${this.statements.of(audit).fragment}` +
      `${typeof parameter === 'string' ? quote(parameter) : quoteArray(parameter)},"rows":${numberOrNull(audit.rows)}}`
    );
  }

  /** `,"query":JSON.stringify(query)`, remembered when the facts are frozen (the enricher's are). */
  private queryOf(query: QueryFacts): string {
    let json = this.queryJson.get(query);
    if (json !== undefined) return json;
    json = `,"query":${JSON.stringify(query)}`;
    if (Object.isFrozen(query) && Object.isFrozen(query.relations) && Object.isFrozen(query.flags)) this.queryJson.set(query, json);
    return json;
  }
}
