import type { AccessEvent } from '../domain/access-event.js';
import type { MatchContext } from './compiled-rule.js';
import { qualifyRelation } from './data-catalog.js';
import { parseIsoTimeMs } from './event-time.js';
import { PLAIN_FIELD_READERS } from './plain-field-readers.js';

/** Reads one field of an event: a scalar, an array (for list fields), or null when absent. */
export type FieldReader = (event: AccessEvent, context: MatchContext) => unknown;

/**
 * Compiles a rule field path to a reader for the detectors (group_by, distinct/sum `field`,
 * new_value `fields`), with the same meanings as the selections' `FieldAccessors` (field-paths.ts):
 * any AccessEvent field, dotted for nested (`audit.rows`, `query.flags`, `app.action`), plus
 * - `relations`: audit.object_name ∪ query.relations, qualified by `qualifyRelation` (lower-case,
 *   `public.` when unqualified), in that order without duplicates;
 * - `data_classes`: the catalog classes (`context.classesOf`) of `relations`, sorted, unique;
 * - `hour_of_day` (0-23) and `day_of_week` (ISO 8601: 1 = Monday … 7 = Sunday), UTC, from `time`.
 * A missing step of a dotted path reads as null. Paths are checked by the rule loader; this
 * function accepts any dotted path and never throws.
 *
 * Example: `compileFieldReader('audit.rows')(event, ctx)` → `5000` (or null for a non-audit event).
 */
export function compileFieldReader(path: string): FieldReader {
  switch (path) {
    case 'relations':
      return (event) => eventRelations(event);
    case 'data_classes':
      return (event, context) => relationClasses(eventRelations(event), context);
    case 'hour_of_day':
      return (event) => utcPart(event.time, 'hour');
    case 'day_of_week':
      return (event) => utcPart(event.time, 'day');
  }
  const plain = PLAIN_FIELD_READERS.get(path);
  if (plain !== undefined) return plain;
  const steps = path.split('.');
  if (steps.length === 1) {
    const key = steps[0] as string;
    return (event) => (event as unknown as Record<string, unknown>)[key] ?? null;
  }
  if (steps.length === 2) {
    const [outerKey, innerKey] = steps as [string, string];
    return (event) => {
      const outer = (event as unknown as Record<string, unknown>)[outerKey];
      return outer === null || typeof outer !== 'object' ? null : ((outer as Record<string, unknown>)[innerKey] ?? null);
    };
  }
  return (event) => {
    let value: unknown = event;
    for (const step of steps) {
      if (value === null || typeof value !== 'object') return null;
      value = (value as Record<string, unknown>)[step];
    }
    return value ?? null;
  };
}

const NO_RELATIONS: readonly string[] = Object.freeze([]);

/**
 * The relations an event touches: audit.object_name ∪ query.relations, each through
 * `qualifyRelation`, first occurrence order, no duplicates. Returns a shared empty array when none.
 */
export function eventRelations(event: AccessEvent): readonly string[] {
  const objectName = event.audit?.object_name ?? null;
  const queried = event.query?.relations;
  if (objectName === null && (queried === undefined || queried.length === 0)) return NO_RELATIONS;
  const relations: string[] = [];
  if (objectName !== null && objectName !== '') relations.push(qualifyRelation(objectName));
  if (queried !== undefined) {
    for (const name of queried) {
      const qualified = qualifyRelation(name);
      if (!relations.includes(qualified)) relations.push(qualified);
    }
  }
  return relations;
}

/** Per context: sorted class lists by relation list (joined with `,`), so each shape is computed once. */
const CLASS_CACHE = new WeakMap<MatchContext, Map<string, readonly string[]>>();
/** Most relation lists remembered per context before the cache starts over. */
const MAX_CACHED_RELATION_LISTS = 10_000;

/**
 * Sorted, unique catalog classes of `relations` (`context.classesOf` of each); a shared empty array
 * when none is classed. Results are cached per context and relation list and shared: never mutate.
 */
export function relationClasses(relations: readonly string[], context: MatchContext): readonly string[] {
  if (relations.length === 0) return NO_RELATIONS;
  let cache = CLASS_CACHE.get(context);
  if (cache === undefined) {
    cache = new Map();
    CLASS_CACHE.set(context, cache);
  }
  const key = relations.length === 1 ? (relations[0] as string) : relations.join(',');
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const classes = new Set<string>();
  for (const relation of relations) for (const dataClass of context.classesOf(relation)) classes.add(dataClass);
  const result = classes.size === 0 ? NO_RELATIONS : Object.freeze([...classes].sort());
  if (cache.size >= MAX_CACHED_RELATION_LISTS) cache.clear();
  cache.set(key, result);
  return result;
}

function utcPart(time: string, part: 'hour' | 'day'): number | null {
  const ms = parseIsoTimeMs(time);
  if (Number.isNaN(ms)) return null;
  const date = new Date(ms);
  return part === 'hour' ? date.getUTCHours() : date.getUTCDay() || 7;
}
