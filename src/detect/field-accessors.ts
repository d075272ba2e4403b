import type { AccessEvent } from '../domain/access-event.js';
import { type DataCatalog, qualifyRelation } from './data-catalog.js';
import { parseIsoTimeMs } from './event-time.js';
import { type FieldType, fieldPathType } from './field-paths.js';
import { PLAIN_FIELD_READERS } from './plain-field-readers.js';

/**
 * Reads one field path of an event. Reads of virtual fields, lower-cased and epoch values are
 * memoised for the last event seen (one slot); a stored field is read directly (cheaper than a memo).
 */
export interface FieldAccessor {
  readonly path: string;
  readonly type: FieldType;
  /** the value: string | number | boolean | string[] | object, or null when absent */
  read(event: AccessEvent): unknown;
  /** like `read`, with strings (and strings in arrays) lower-cased: for case-insensitive matching */
  readLower(event: AccessEvent): unknown;
  /** the value as epoch ms when it is an ISO time string, else null (for `gt`/`lt` against times) */
  readEpochMs(event: AccessEvent): number | null;
}

type Reader = (event: AccessEvent) => unknown;

/**
 * Field accessors shared by every compiled selection of one rule set, so a field's lower-casing,
 * epoch value and virtual fields such as `relations` are computed once per event whatever the
 * number of rules that look at them; stored fields are read by `PLAIN_FIELD_READERS`.
 * Field paths and virtual fields: see `FIELD_PATHS`.
 */
export class FieldAccessors {
  private readonly byPath = new Map<string, FieldAccessor>();

  constructor(private readonly catalog: DataCatalog) {}

  /**
   * The accessor of `path`.
   * @throws Error when the path is unknown (callers check with `fieldPathType` first)
   */
  get(path: string): FieldAccessor {
    const existing = this.byPath.get(path);
    if (existing) return existing;
    const type = fieldPathType(path);
    if (type === null) throw new Error(`unknown field path ${path}`);
    const plain = PLAIN_FIELD_READERS.get(path);
    const read = plain ?? memoise(this.reader(path));
    const readLower = memoise((event) => lowerCase(read(event)));
    const readEpochMs = memoise((event) => {
      const value = read(event);
      if (typeof value !== 'string') return null;
      const ms = parseIsoTimeMs(value);
      return Number.isNaN(ms) ? null : ms;
    });
    const accessor: FieldAccessor = { path, type, read, readLower, readEpochMs };
    this.byPath.set(path, accessor);
    return accessor;
  }

  private reader(path: string): Reader {
    switch (path) {
      case 'relations':
        return (event) => eventRelations(event);
      case 'data_classes': {
        const relations = this.get('relations');
        return (event) => this.catalog.classesOfAll(relations.read(event) as string[]);
      }
      case 'hour_of_day': {
        const time = this.get('time');
        return (event) => {
          const ms = time.readEpochMs(event);
          return ms === null ? null : new Date(ms).getUTCHours();
        };
      }
      case 'day_of_week': {
        const time = this.get('time');
        return (event) => {
          const ms = time.readEpochMs(event);
          return ms === null ? null : new Date(ms).getUTCDay() || 7;
        };
      }
      default:
        return plainReader(path.split('.'));
    }
  }
}

/** Direct property reads for one, two or more segments; null for absent values. */
function plainReader(segments: string[]): Reader {
  const [a, b] = segments as [string, string | undefined];
  if (segments.length === 1) return (event) => (event as unknown as Record<string, unknown>)[a] ?? null;
  if (segments.length === 2) {
    const key = b as string;
    return (event) => {
      const outer = (event as unknown as Record<string, unknown>)[a];
      return outer === null || typeof outer !== 'object' ? null : ((outer as Record<string, unknown>)[key] ?? null);
    };
  }
  return (event) => {
    let current: unknown = event;
    for (const segment of segments) {
      if (current === null || typeof current !== 'object') return null;
      current = (current as Record<string, unknown>)[segment];
    }
    return current ?? null;
  };
}

/** Virtual field `relations`: audit.object_name ∪ query.relations, qualified (`public.` default), lower-case, de-duplicated. */
function eventRelations(event: AccessEvent): string[] {
  const objectName = event.audit?.object_name ?? null;
  const queried = event.query?.relations ?? [];
  if (queried.length === 0) return objectName === null ? [] : [qualifyRelation(objectName)];
  const all = new Set<string>();
  if (objectName !== null) all.add(qualifyRelation(objectName));
  for (const relation of queried) all.add(qualifyRelation(relation));
  return [...all];
}

function lowerCase(value: unknown): unknown {
  if (typeof value === 'string') return value.toLowerCase();
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? item.toLowerCase() : item));
  return value;
}

/** One-slot memo: the engine evaluates every rule on one event before the next one. */
function memoise<T>(read: (event: AccessEvent) => T): (event: AccessEvent) => T {
  let lastEvent: AccessEvent | null = null;
  let lastValue: T;
  return (event) => {
    if (event === lastEvent) return lastValue;
    lastValue = read(event);
    lastEvent = event;
    return lastValue;
  };
}
