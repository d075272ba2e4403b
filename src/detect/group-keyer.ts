import type { AccessEvent } from '../domain/access-event.js';
import type { MatchContext } from './compiled-rule.js';
import { compileFieldReader, type FieldReader } from './field-reader.js';

/** The value of one group_by field: string, number or null (lists become sorted, comma-joined strings). */
export type GroupValue = string | number | null;

/** Most interned keys per keyer before the table starts over. */
const MAX_INTERNED_KEYS = 50_000;

/**
 * Computes a rule's group from an event: the values of its `group_by` field paths, and the group
 * key, the canonical JSON of those values with keys sorted (`{"client_addr":"10.0.0.5","user":"dba"}`,
 * `{}` without group_by). The key is `Detection.groupKey` and the detectors' state key.
 * Values are normalised: null/absent → null, finite numbers kept, booleans and other scalars as
 * strings, arrays (e.g. `relations`) as their sorted unique elements joined with `,`, objects as JSON.
 */
export class GroupKeyer {
  private static readonly shared = new Map<string, GroupKeyer>();
  private readonly paths: string[];
  private readonly readers: FieldReader[];
  private readonly prefixes: string[];
  private lastEvent: AccessEvent | null = null;
  private lastContext: MatchContext | null = null;
  private lastKey = '{}';
  /** single-field keyers: key by string value */
  private readonly interned = new Map<string, string>();
  /** multi-field keyers: keys by their values (strings or null) field by field, a trie whose last level holds the key */
  private trie = new Map<unknown, unknown>();
  /** keys in `trie` */
  private trieKeys = 0;

  /** @param groupBy the rule's group_by field paths (any order; duplicates ignored) */
  constructor(groupBy: readonly string[]) {
    this.paths = [...new Set(groupBy)].sort();
    this.readers = this.paths.map((path) => compileFieldReader(path));
    this.prefixes = this.paths.map((path, i) => `${i === 0 ? '{' : ','}${JSON.stringify(path)}:`);
  }

  /**
   * The keyer of a group_by list, shared by every detector with the same list, so an event's
   * group key is computed (and hashed by the group maps) once whatever the number of rules.
   */
  static for(groupBy: readonly string[]): GroupKeyer {
    const signature = [...new Set(groupBy)].sort().join('\n');
    let keyer = GroupKeyer.shared.get(signature);
    if (keyer === undefined) {
      keyer = new GroupKeyer(groupBy);
      GroupKeyer.shared.set(signature, keyer);
    }
    return keyer;
  }

  /** The group key of `event`: canonical JSON of its group values (remembered for the last event). */
  keyOf(event: AccessEvent, context: MatchContext): string {
    if (this.paths.length === 0) return '{}';
    if (event === this.lastEvent && context === this.lastContext) return this.lastKey;
    this.lastEvent = event;
    this.lastContext = context;
    if (this.paths.length === 1) {
      // one field: the key of a string value is interned, so group maps hash one known string
      const value = (this.readers[0] as FieldReader)(event, context);
      if (typeof value === 'string') {
        let key = this.interned.get(value);
        if (key === undefined) {
          key = `${this.prefixes[0] as string}${JSON.stringify(value)}}`;
          if (this.interned.size >= MAX_INTERNED_KEYS) this.interned.clear();
          this.interned.set(value, key);
        }
        this.lastKey = key;
        return key;
      }
    }
    this.lastKey = this.paths.length > 1 ? this.internedKeyOf(event, context) : this.builtKeyOf(event, context);
    return this.lastKey;
  }

  /**
   * The key of a multi-field group, interned when every value is a string or null: found through
   * the trie by the values themselves (Map look-ups by short field values), so group maps hash one
   * known string instead of a key built per event. Other values: built every time.
   */
  private internedKeyOf(event: AccessEvent, context: MatchContext): string {
    let node = this.trie;
    const last = this.readers.length - 1;
    for (let i = 0; i < last; i++) {
      const value = (this.readers[i] as FieldReader)(event, context) ?? null;
      if (value !== null && typeof value !== 'string') return this.builtKeyOf(event, context);
      let next = node.get(value) as Map<unknown, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(value, next);
      }
      node = next;
    }
    const value = (this.readers[last] as FieldReader)(event, context) ?? null;
    if (value !== null && typeof value !== 'string') return this.builtKeyOf(event, context);
    let key = node.get(value) as string | undefined;
    if (key === undefined) {
      if (this.trieKeys >= MAX_INTERNED_KEYS) {
        this.trie = new Map();
        this.trieKeys = 0;
        return this.builtKeyOf(event, context);
      }
      key = this.builtKeyOf(event, context);
      node.set(value, key);
      this.trieKeys++;
    }
    return key;
  }

  /** the key built from the values: canonical JSON, the group values normalised (see `GroupKeyer`) */
  private builtKeyOf(event: AccessEvent, context: MatchContext): string {
    let key = '';
    for (let i = 0; i < this.paths.length; i++) {
      key += (this.prefixes[i] as string) + JSON.stringify(normalizeGroupValue((this.readers[i] as FieldReader)(event, context)));
    }
    return `${key}}`;
  }

  /** The group values a key stands for (the inverse of `keyOf`). @throws SyntaxError on a key not made by `keyOf` */
  static groupOf(key: string): Record<string, GroupValue> {
    return JSON.parse(key) as Record<string, GroupValue>;
  }
}

/** Normalises a field value into a group value (see `GroupKeyer`). */
export function normalizeGroupValue(value: unknown): GroupValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return [...new Set(value.map((item) => String(item)))].sort().join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
