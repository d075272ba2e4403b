import type { AccessEvent, EventKind, EventSource } from './access-event.js';

/**
 * An AccessEvent with every optional field null (`truncated` false, `audit`/`query`/`app` null),
 * for code that builds events from something other than a log record (app access rows, rule tests)
 * and for test fixtures. The result is a fresh object; set what you know on it or spread over it.
 *
 * @param base id, time (ISO-8601 UTC), server, source and kind of the event
 */
export function blankAccessEvent(base: { id: string; time: string; server: string; source: EventSource; kind: EventKind }): AccessEvent {
  return {
    id: base.id,
    time: base.time,
    server: base.server,
    source: base.source,
    kind: base.kind,
    user: null,
    database: null,
    client_addr: null,
    client_port: null,
    application_name: null,
    pid: null,
    session_id: null,
    session_line: null,
    backend_type: null,
    severity: null,
    sqlstate: null,
    message: null,
    detail: null,
    hint: null,
    context: null,
    statement: null,
    session_duration_ms: null,
    truncated: false,
    audit: null,
    query: null,
    app: null,
  };
}
