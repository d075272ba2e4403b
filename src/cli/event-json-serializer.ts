import type { AccessEvent, AuditFields, EventSource, QueryFacts } from '../domain/access-event.js';

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

/**
 * A string JSON.stringify would not write as `"` + itself + `"`: it holds `"`, `\`, a control
 * character (escaped) or a surrogate (a lone one is escaped; a pair is matched too, harmlessly).
 * ECMA-262, "QuoteJSONString". U+2028/2029 and U+007F are written as they are.
 */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(text)`, without its call for the (usual) text that needs no escape. */
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** `JSON.stringify(text)` for a string or null. */
function quoteOrNull(text: string | null): string {
  return text === null ? 'null' : quote(text);
}

/**
 * One field's last value and its JSON form: `of(text)` is `JSON.stringify(text)` (`null` for null),
 * without the escape check when `text` is the value of the previous call. For the values the
 * parser interns, a repeat is the same string object: the check is then a pointer compare.
 */
class LastQuoted {
  private value: string | null = null;
  private json = 'null';

  of(text: string | null): string {
    if (text !== this.value) {
      this.value = text;
      this.json = quoteOrNull(text);
    }
    return this.json;
  }
}

/** `JSON.stringify(value)` for a number or null: `null` for NaN and the infinities too. */
function numberOrNull(value: number | null): string {
  return value !== null && Number.isFinite(value) ? `${value}` : 'null';
}

/** `JSON.stringify(values)` for an array of strings. */
function quoteArray(values: readonly string[]): string {
  if (values.length === 0) return '[]';
  let json = `[${quote(values[0] as string)}`;
  for (let i = 1; i < values.length; i++) json += `,${quote(values[i] as string)}`;
  return `${json}]`;
}

/**
 * Serialises `AccessEvent`s: `serialize(event)` is exactly `JSON.stringify(event)` (ECMA-262
 * JSON.stringify; keys in `EVENT_JSON_KEYS` / `AUDIT_JSON_KEYS` order), built by concatenation
 * rather than by JSON.stringify walking the object: each string is written as it is unless it
 * needs an escape, and the parts many events share are made once: `query` (the enricher's frozen
 * `QueryFacts`, shared by the events of one statement shape: remembered per object), `server`, and
 * `source` up to its `offset` (the same for every record of a file). The short fields whose value
 * usually repeats from one event to the next (kind, user, database, client, application, backend
 * type, severity, pgaudit type, class, command, object type and name) keep their last value's JSON
 * (one value per field: nothing grows).
 *
 * The event must have the builder's shape (source keys `id, file, fingerprint, offset`, query keys
 * as the enricher's); tests check it against events the builder and the enricher made. `app`
 * (which `jaga parse` never sets) goes through JSON.stringify. Never throws for such events.
 */
export class EventJsonSerializer {
  /** JSON of frozen query facts (a frozen object with frozen arrays cannot change) */
  private readonly queryJson = new WeakMap<QueryFacts, string>();
  private sourceId: string | null = null;
  private sourceFile: string | null = null;
  private sourceFingerprint: string | null = null;
  /** `{"id":...,"file":...,"fingerprint":...,"offset":` of the source above, or null before one */
  private sourceHead: string | null = null;
  // each short field's last value and its JSON (see the class comment)
  private readonly server = new LastQuoted();
  private readonly kind = new LastQuoted();
  private readonly user = new LastQuoted();
  private readonly database = new LastQuoted();
  private readonly client = new LastQuoted();
  private readonly application = new LastQuoted();
  private readonly backendType = new LastQuoted();
  private readonly severity = new LastQuoted();
  private readonly auditType = new LastQuoted();
  private readonly auditClass = new LastQuoted();
  private readonly command = new LastQuoted();
  private readonly objectType = new LastQuoted();
  private readonly objectName = new LastQuoted();

  /** `JSON.stringify(event)`, one line (no newline). */
  serialize(event: AccessEvent): string {
    // A concatenation (the UTF-8 write flattens it): building the line with Array#join instead was
    // twice as slow as JSON.stringify on csvlog and jsonlog events (bench/parse-serializer.js)
    return (
      `{"id":${quote(event.id)},"time":${quote(event.time)},"server":${this.server.of(event.server)},"source":${this.source(event.source)}` +
      `,"kind":${this.kind.of(event.kind)},"user":${this.user.of(event.user)},"database":${this.database.of(event.database)}` +
      `,"client_addr":${this.client.of(event.client_addr)},"client_port":${numberOrNull(event.client_port)}` +
      `,"application_name":${this.application.of(event.application_name)},"pid":${numberOrNull(event.pid)}` +
      `,"session_id":${quoteOrNull(event.session_id)},"session_line":${numberOrNull(event.session_line)}` +
      `,"backend_type":${this.backendType.of(event.backend_type)},"severity":${this.severity.of(event.severity)}` +
      `,"sqlstate":${quoteOrNull(event.sqlstate)},"message":${quoteOrNull(event.message)},"detail":${quoteOrNull(event.detail)}` +
      `,"hint":${quoteOrNull(event.hint)},"context":${quoteOrNull(event.context)},"statement":${quoteOrNull(event.statement)}` +
      `,"session_duration_ms":${numberOrNull(event.session_duration_ms)},"truncated":${event.truncated ? 'true' : 'false'}` +
      `,"audit":${event.audit === null ? 'null' : this.audit(event.audit)}` +
      `,"query":${event.query === null ? 'null' : this.queryFacts(event.query)}` +
      `,"app":${event.app === null ? 'null' : JSON.stringify(event.app)}}`
    );
  }

  /** `JSON.stringify(audit)`. */
  private audit(audit: AuditFields): string {
    const parameter = audit.parameter;
    return (
      `{"audit_type":${this.auditType.of(audit.audit_type)},"statement_id":${numberOrNull(audit.statement_id)}` +
      `,"substatement_id":${numberOrNull(audit.substatement_id)},"class":${this.auditClass.of(audit.class)},"command":${this.command.of(audit.command)}` +
      `,"object_type":${this.objectType.of(audit.object_type)},"object_name":${this.objectName.of(audit.object_name)}` +
      `,"statement":${quote(audit.statement)},"parameter":${typeof parameter === 'string' ? quote(parameter) : quoteArray(parameter)}` +
      `,"rows":${numberOrNull(audit.rows)}}`
    );
  }

  private source(source: EventSource): string {
    if (this.sourceHead === null || source.id !== this.sourceId || source.file !== this.sourceFile || source.fingerprint !== this.sourceFingerprint) {
      this.sourceId = source.id;
      this.sourceFile = source.file;
      this.sourceFingerprint = source.fingerprint;
      const json = JSON.stringify({ id: source.id, file: source.file, fingerprint: source.fingerprint, offset: 0 });
      this.sourceHead = json.slice(0, -'0}'.length);
    }
    return `${this.sourceHead}${numberOrNull(source.offset)}}`;
  }

  /** `JSON.stringify(query)`, remembered when the facts are frozen (the enricher's are). */
  private queryFacts(query: QueryFacts): string {
    let json = this.queryJson.get(query);
    if (json !== undefined) return json;
    json = JSON.stringify(query);
    if (Object.isFrozen(query) && Object.isFrozen(query.relations) && Object.isFrozen(query.flags)) this.queryJson.set(query, json);
    return json;
  }
}

