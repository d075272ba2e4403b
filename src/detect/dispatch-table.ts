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

/** a combination's query.flags: null when absent, else the flags (strings without U+0000) */
type FlagsKey = readonly string[] | null;

/** One remembered combination under its kind and command: the other dispatch values and the value. */
interface Combination<T> {
  auditClass: unknown;
  objectType: unknown;
  flags: FlagsKey;
  value: T;
}

/** What the table holds for one kind: the value itself, or the combinations by `audit.command`. */
type KindEntry<T> = { refined: false; value: T } | { refined: true; byCommand: Map<unknown, Combination<T>[]> };

/**
 * Caches, per combination of an event's `kind` and dispatch field values (`DISPATCH_PATHS`, read
 * as the selections read them: absent = null), the value `compute` returns for the first event
 * with that combination: the engine's candidate rules, so an event reaches only the rules whose
 * kinds and residuals its combination passes. `compute` must depend on nothing but those values,
 * and only on the kind for a kind `refines` says false of.
 *
 * Lookup: one Map look-up for a kind not refined; otherwise a second one by `audit.command`, then
 * a scan of that command's few combinations comparing class, object type and each flag with
 * `===` (a hit moves one place towards the front, so frequent combinations are found first), no
 * allocation. A combination that cannot be keyed exactly (flags that are not a list of strings,
 * or a flag holding U+0000) is computed every time, never cached.
 * Bounded: past MAX_DISPATCH_ENTRIES combinations the table starts over.
 */
export class DispatchTable<T> {
  private root = new Map<unknown, KindEntry<T>>();
  private entries = 0;
  /** the kind of the last event and its entry: most events are of the kind of the one before */
  private lastKind: unknown = undefined;
  private lastEntry: KindEntry<T> | undefined = undefined;

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
    let entry = kind === this.lastKind ? this.lastEntry : this.root.get(kind);
    if (entry === undefined) {
      if (this.entries >= MAX_DISPATCH_ENTRIES) this.clear();
      entry = this.refines(kind) ? { refined: true, byCommand: new Map() } : { refined: false, value: this.compute(event) };
      this.root.set(kind, entry);
      this.entries++;
    }
    this.lastKind = kind;
    this.lastEntry = entry;
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
    const flags = flagsOf(event);
    if (flags === undefined) return this.compute(event);
    const combinations = entry.byCommand.get(command);
    if (combinations !== undefined) {
      for (let i = 0; i < combinations.length; i++) {
        const combination = combinations[i] as Combination<T>;
        if (combination.auditClass === auditClass && combination.objectType === objectType && sameFlags(combination.flags, flags)) {
          if (i > 0) {
            combinations[i] = combinations[i - 1] as Combination<T>;
            combinations[i - 1] = combination;
          }
          return combination.value;
        }
      }
    }
    return this.remember(event, entry.byCommand, command, auditClass, objectType, flags);
  }

  /** Forgets every combination (the rules changed). */
  clear(): void {
    this.root = new Map();
    this.entries = 0;
    this.lastKind = undefined;
    this.lastEntry = undefined;
  }

  private remember(event: AccessEvent, byCommand: Map<unknown, Combination<T>[]>, command: unknown, auditClass: unknown, objectType: unknown, flags: unknown[] | null): T {
    const value = this.compute(event);
    // a flag that is not a string, or holds U+0000, has no exact key: never cached
    if (flags !== null && !flags.every((flag) => typeof flag === 'string' && !flag.includes(UNCACHED_FLAG_CHARACTER))) return value;
    if (this.entries >= MAX_DISPATCH_ENTRIES) {
      this.clear();
      return value;
    }
    let combinations = byCommand.get(command);
    if (combinations === undefined) {
      combinations = [];
      byCommand.set(command, combinations);
    }
    combinations.push({ auditClass, objectType, flags: flags === null ? null : Object.freeze([...(flags as string[])]), value });
    this.entries++;
    return value;
  }
}

/** a combination with a flag holding U+0000 is computed every time, never cached */
const UNCACHED_FLAG_CHARACTER = '\u0000';

/**
 * `query.flags` as the selections read it: null when absent or not an object's field, the list
 * itself when it is one, undefined when it is neither (no exact key: computed every time).
 */
function flagsOf(event: AccessEvent): unknown[] | null | undefined {
  const query = (event as { query?: unknown }).query;
  if (query === null || typeof query !== 'object') return null;
  const flags = (query as { flags?: unknown }).flags ?? null;
  if (flags === null) return null;
  return Array.isArray(flags) ? (flags as unknown[]) : undefined;
}

/** true when an event's flags are those of a remembered combination, flag by flag */
function sameFlags(known: FlagsKey, flags: unknown[] | null): boolean {
  if (known === null || flags === null) return known === flags;
  if (known.length !== flags.length) return false;
  for (let i = 0; i < known.length; i++) if (known[i] !== flags[i]) return false;
  return true;
}
