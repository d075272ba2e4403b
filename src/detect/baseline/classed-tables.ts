import type { AccessEvent } from '../../domain/access-event.js';
import type { MatchContext } from '../compiled-rule.js';
import { eventRelations } from '../field-reader.js';
import { contextPairHash, hasAnyClass } from './context-set.js';

/** The tables of one event (or relation list) that have a class of one `table_classes` list. */
interface ClassedTables {
  /** `table_classes` joined with NUL (see `tableClassesKey`) */
  key: string;
  /** the classed relations, in `eventRelations` order */
  relations: readonly string[];
  /** `contextPairHash('table', relation)` of each of `relations` */
  hashes: readonly number[];
}

/** What is known of one relation list (a single `audit.object_name`, or the event's own list). */
interface RelationFacts {
  context: MatchContext;
  relations: readonly string[];
  /** per `table_classes` list asked about (a rule pack has one or two) */
  classed: ClassedTables[];
}

const NONE: readonly string[] = Object.freeze([]);
const NO_HASHES: readonly number[] = Object.freeze([]);
/** Object names remembered before the cache starts over (names repeat endlessly in a log). */
const MAX_CACHED_NAMES = 10_000;
const byObjectName = new Map<string, RelationFacts>();
let lastEvent: AccessEvent | null = null;
let lastContext: MatchContext | null = null;
let lastFacts: RelationFacts | null = null;

/** The key `classedTables` takes for a `table_classes` list (compute once per detector). */
export function tableClassesKey(tableClasses: readonly string[]): string {
  return tableClasses.join('\0');
}

/**
 * The relations of `event` (`eventRelations`: audit.object_name ∪ query.relations, qualified)
 * whose catalog classes (`context.classesOf`) include one of `tableClasses`, with their
 * `contextPairHash('table', relation)`: what baseline_breadth counts and baseline_new_context
 * learns. Remembered for the last event and per audit object name (an event without query
 * relations), so the baseline detectors that see the same event compute it once and an event
 * allocates nothing. The arrays are shared: never mutate them.
 *
 * @param key `tableClassesKey(tableClasses)`
 */
export function classedTables(event: AccessEvent, context: MatchContext, tableClasses: readonly string[], key: string): ClassedTables {
  let facts = lastEvent === event && lastContext === context ? lastFacts : null;
  if (facts === null) {
    facts = relationFacts(event, context);
    lastEvent = event;
    lastContext = context;
    lastFacts = facts;
  }
  const classed = facts.classed;
  for (let i = 0; i < classed.length; i++) if ((classed[i] as ClassedTables).key === key) return classed[i] as ClassedTables;
  const relations = facts.relations.filter((relation) => hasAnyClass(context.classesOf(relation), tableClasses));
  const found: ClassedTables = relations.length === 0 ? { key, relations: NONE, hashes: NO_HASHES } : { key, relations, hashes: relations.map((relation) => contextPairHash('table', relation)) };
  classed.push(found);
  return found;
}

/** the facts of the event's relation list: cached by object name when the event has no query relations */
function relationFacts(event: AccessEvent, context: MatchContext): RelationFacts {
  const objectName = event.audit?.object_name ?? null;
  const queried = event.query?.relations;
  if (objectName === null || (queried !== undefined && queried.length > 0)) return { context, relations: eventRelations(event), classed: [] };
  const cached = byObjectName.get(objectName);
  if (cached !== undefined && cached.context === context) return cached;
  const facts: RelationFacts = { context, relations: eventRelations(event), classed: [] };
  if (byObjectName.size >= MAX_CACHED_NAMES) byObjectName.clear();
  byObjectName.set(objectName, facts);
  return facts;
}
