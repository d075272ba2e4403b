import type { AccessEvent } from '../domain/access-event.js';
import type { EvidenceItem } from '../domain/detection.js';
import type { MatchContext } from './compiled-rule.js';
import { eventTimeMs } from './event-time.js';
import { eventRelations, relationClasses } from './field-reader.js';

/**
 * What a detector keeps of a contributing event: its redacted evidence item plus what a detection
 * needs besides (event time in ms, server, database, data classes). JSON-serialisable, it is what
 * detector snapshots hold, so it carries no customer data: never audit.statement, parameter,
 * message, detail, hint, context or statement; only the normalised statement (constants as `$n`),
 * fingerprint, object name, counts, roles and clients.
 */
export interface EventDigest extends EvidenceItem {
  /** event time, epoch ms */
  t: number;
  server: string;
  database: string | null;
  /** catalog classes of the event's relations, sorted */
  data_classes: readonly string[];
}

let lastEvent: AccessEvent | null = null;
let lastContext: MatchContext | null = null;
let lastDigest: EventDigest | null = null;

/**
 * The digest of `event` (see `EventDigest`). Digests are immutable and shared: the last one made is
 * remembered, so detectors that keep the same event share one object.
 *
 * For app access events, `command` is the app's `action`, `object_name` its `subject_table` and
 * `rows` its `row_count`; for audit events they come from the pgaudit fields.
 */
export function digestEvent(event: AccessEvent, context: MatchContext): EventDigest {
  if (event === lastEvent && context === lastContext && lastDigest !== null) return lastDigest;
  const audit = event.audit;
  const app = event.app;
  const digest: EventDigest = {
    event_id: event.id,
    time: event.time,
    kind: event.kind,
    user: event.user,
    client_addr: event.client_addr,
    application_name: event.application_name,
    class: audit?.class ?? null,
    command: audit?.command ?? app?.action ?? null,
    object_name: audit?.object_name ?? app?.subject_table ?? null,
    fingerprint: event.query?.fingerprint ?? null,
    normalized: event.query?.normalized ?? null,
    rows: audit?.rows ?? app?.row_count ?? null,
    sqlstate: event.sqlstate,
    t: eventTimeMs(event),
    server: event.server,
    database: event.database,
    data_classes: eventClasses(event, context),
  };
  lastEvent = event;
  lastContext = context;
  lastDigest = digest;
  return digest;
}

/** Most object names remembered per query facts object before its entry starts over. */
const MAX_NAMES_PER_QUERY = 64;
/** the context `classesByQuery` belongs to */
let classesContext: MatchContext | null = null;
/** data classes of events by their (frozen, shared) query facts, then by audit object name (null = none) */
let classesByQuery = new WeakMap<object, Map<string | null, readonly string[]>>();

/**
 * `relationClasses(eventRelations(event), context)`, remembered per query facts object and audit
 * object name when the facts are frozen (QueryEnricher shares one frozen facts object, relations
 * frozen too, among every event of a statement shape): the classes depend on nothing else, so the
 * relations of a repeated statement are qualified and classed once, not per event. Facts that are
 * not frozen (they could change) are computed every time. The cache follows the last context seen.
 */
function eventClasses(event: AccessEvent, context: MatchContext): readonly string[] {
  const query = event.query;
  if (query === null || query === undefined || !Object.isFrozen(query) || !Object.isFrozen(query.relations)) return relationClasses(eventRelations(event), context);
  if (context !== classesContext) {
    classesContext = context;
    classesByQuery = new WeakMap();
  }
  const objectName = event.audit?.object_name ?? null;
  let byName = classesByQuery.get(query);
  if (byName === undefined) {
    byName = new Map();
    classesByQuery.set(query, byName);
  }
  let classes = byName.get(objectName);
  if (classes === undefined) {
    classes = relationClasses(eventRelations(event), context);
    if (byName.size >= MAX_NAMES_PER_QUERY) byName.clear();
    byName.set(objectName, classes);
  }
  return classes;
}

/** The evidence item of a digest: exactly the `EvidenceItem` fields, nothing else. */
export function evidenceOf(digest: EventDigest): EvidenceItem {
  return {
    event_id: digest.event_id,
    time: digest.time,
    kind: digest.kind,
    user: digest.user,
    client_addr: digest.client_addr,
    application_name: digest.application_name,
    class: digest.class,
    command: digest.command,
    object_name: digest.object_name,
    fingerprint: digest.fingerprint,
    normalized: digest.normalized,
    rows: digest.rows,
    sqlstate: digest.sqlstate,
  };
}

/**
 * Checks that `value` has the shape of an EventDigest (used when restoring snapshots).
 * @throws Error naming `where` when it does not
 */
export function assertDigest(value: unknown, where: string): asserts value is EventDigest {
  const digest = value as Partial<EventDigest> | null;
  if (
    digest === null ||
    typeof digest !== 'object' ||
    typeof digest.event_id !== 'string' ||
    typeof digest.time !== 'string' ||
    typeof digest.t !== 'number' ||
    typeof digest.server !== 'string' ||
    !Array.isArray(digest.data_classes)
  ) {
    throw new Error(`${where}: not an event digest`);
  }
}
