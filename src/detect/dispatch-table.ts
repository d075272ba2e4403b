import type { AccessEvent } from '../domain/access-event.js';

/**
 * The event fields the engine dispatches on besides `kind`: few distinct values in a log, and what
 * most rules' selections test after the kind (`audit.command: GRANT`, `query.flags: copy_to`).
 * A rule's `dispatch` residual (see CompiledRule) reads only these and `kind`.
 */
export const DISPATCH_PATHS: readonly string[] = ['audit.class', 'audit.command', 'audit.object_type', 'query.flags'];

/**
 * A predicate specialised to an event's dispatch values: decided (true / false), or the test
 * still to run on events with those values.
 */
export type Residual = boolean | ((event: AccessEvent) => boolean);

/** Most value combinations remembered before the table starts over. */
export const MAX_DISPATCH_ENTRIES = 2048;

/** the key of an empty `query.flags` list (distinct from any string) */
const NO_FLAGS = Object.freeze({});
/** separates the flags of a multi-flag key; a key holding it is a multi-flag key */
const FLAG_SEPARATOR = '\u0000';

type Level<T> = Map<unknown, T>;

/** What the table holds for one kind: the value itself, or a tree by the other dispatch fields. */
type KindEntry<T> = { refined: false; value: T } | { refined: true; byClass: Level<Level<Level<Level<T>>>> };

/**
 * Caches, per combination of an event's `kind` and dispatch field values (`DISPATCH_PATHS`, read
 * as the selections read them: absent = null), the value `compute` returns for the first event
 * with that combination: the engine's candidate rules, so an event reaches only the rules whose
 * kinds and residuals its combination passes. `compute` must depend on nothing but those values,
 * and only on the kind for a kind `refines` says false of.
 *
 * Lookup: one Map look-up for a kind not refined, five otherwise, no allocation (a `query.flags`
 * list of two or more flags is joined). A combination that cannot be keyed exactly (flags that
 * are not a list of strings, or a flag holding U+0000) is computed every time, never cached.
 * Bounded: past MAX_DISPATCH_ENTRIES combinations the table starts over.
 */
export class DispatchTable<T> {
  private root: Level<KindEntry<T>> = new Map();
  private entries = 0;

  /**
   * @param compute the value of a combination, from an event that has it
   * @param refines whether the value for a kind depends on the other dispatch fields
   */
  constructor(
    private readonly compute: (event: AccessEvent) => T,
    private readonly refines: (kind: unknown) => boolean,
  ) {}

  /** The value for `event`'s combination of dispatch field values (computed on first sight). */
  get(event: AccessEvent): T {
    const kind = (event as { kind?: unknown }).kind ?? null;
    let entry = this.root.get(kind);
    if (entry === undefined) {
      if (this.entries >= MAX_DISPATCH_ENTRIES) this.clear();
      entry = this.refines(kind) ? { refined: true, byClass: new Map() } : { refined: false, value: this.compute(event) };
      this.root.set(kind, entry);
      this.entries++;
    }
    if (!entry.refined) return entry.value;
    const audit = (event as { audit?: unknown }).audit;
    let auditClass: unknown = null;
    let command: unknown = null;
    let objectType: unknown = null;
    if (audit !== null && typeof audit === 'object') {
      const fields = audit as Record<string, unknown>;
      auditClass = fields.class ?? null;
      command = fields.command ?? null;
      objectType = fields.object_type ?? null;
    }
    const flags = flagsKey(event);
    if (flags === undefined) return this.compute(event);
    const byCommand = entry.byClass.get(auditClass);
    const byObjectType = byCommand?.get(command);
    const byFlags = byObjectType?.get(objectType);
    if (byFlags !== undefined) {
      const known = byFlags.get(flags);
      if (known !== undefined || byFlags.has(flags)) return known as T;
    }
    return this.remember(event, entry.byClass, [auditClass, command, objectType], flags);
  }

  /** Forgets every combination (the rules changed). */
  clear(): void {
    this.root = new Map();
    this.entries = 0;
  }

  private remember(event: AccessEvent, byClass: Level<unknown>, path: unknown[], flags: unknown): T {
    const value = this.compute(event);
    if (this.entries >= MAX_DISPATCH_ENTRIES) {
      this.clear();
      return value;
    }
    let level = byClass;
    for (const key of path) {
      let next = level.get(key) as Level<unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    level.set(flags, value);
    this.entries++;
    return value;
  }
}

/**
 * The key of `query.flags` as the selections read it: null when absent or not an object's field,
 * NO_FLAGS for an empty list, the flag for one, the flags joined (and ended) with U+0000 for more;
 * undefined when no exact key exists (not a list of strings, or a flag holding U+0000).
 */
function flagsKey(event: AccessEvent): unknown {
  const query = (event as { query?: unknown }).query;
  if (query === null || typeof query !== 'object') return null;
  const flags = (query as { flags?: unknown }).flags ?? null;
  if (flags === null) return null;
  if (!Array.isArray(flags)) return undefined;
  if (flags.length === 0) return NO_FLAGS;
  let key = '';
  for (const flag of flags) {
    if (typeof flag !== 'string' || flag.includes(FLAG_SEPARATOR)) return undefined;
    if (flags.length === 1) return flag;
    key += flag + FLAG_SEPARATOR;
  }
  return key;
}
