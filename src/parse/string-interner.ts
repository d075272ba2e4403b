/** Most values an interner keeps by default. */
export const DEFAULT_MAX_INTERNED_VALUES = 1024;

/** Longest value (UTF-16 code units) an interner keeps by default. */
export const DEFAULT_MAX_INTERNED_CHARS = 256;

/** Number of recently used values compared before the map is asked (a power of two). */
const RECENT_SLOTS = 64;

/** Slot of the text `text[start, end)` (non-empty) among the recent values: from its length and first and last characters. */
function slotOf(text: string, start: number, end: number): number {
  return ((end - start) * 31 + text.charCodeAt(start) * 7 + text.charCodeAt(end - 1)) & (RECENT_SLOTS - 1);
}

/**
 * A bounded string pool for the short values a log repeats on every record (user, database,
 * application name, client address, pgaudit class/command/object): `intern(value)` gives the one
 * shared string of that text, so events carry the same string object and later stages' per-value
 * caches and group maps compare and hash it once instead of once per event.
 *
 * Bounded so a hostile log cannot grow it: it keeps at most `maxValues` values, each at most
 * `maxChars` long; once full (or for a longer value) `intern` returns its argument unchanged.
 * A kept value is stored as a copy of its text, so it never keeps alive the line it was cut from.
 * The values used last are compared first (the last one, then 64 slots chosen by length, first and last
 * character): a repeated value then costs no map lookup.
 */
export class StringInterner {
  private readonly values = new Map<string, string>();
  /** recently used kept values, by `slotOf` ('' when free) */
  private readonly recent: string[] = new Array<string>(RECENT_SLOTS).fill('');
  /** the value returned last ('' at first) */
  private last = '';

  constructor(
    /** most values kept (default 1,024) */
    readonly maxValues = DEFAULT_MAX_INTERNED_VALUES,
    /** longest value kept, UTF-16 code units (default 256) */
    readonly maxChars = DEFAULT_MAX_INTERNED_CHARS,
  ) {}

  /** Number of values kept. */
  get size(): number {
    return this.values.size;
  }

  /** The kept string equal to `value`; else keeps a copy of `value` when there is room and returns it. Never throws. */
  intern(value: string): string {
    const last = this.last;
    if (value === last) return last;
    if (value.length === 0) return value;
    const slot = slotOf(value, 0, value.length);
    const recent = this.recent[slot] as string;
    if (recent !== value) return this.lookUp(value, slot);
    this.last = recent;
    return recent;
  }

  /**
   * `intern(text.slice(start, end))`. Never throws. The slice is made and compared with `===`
   * (an engine compare of the whole text) rather than compared with the kept values character by
   * character: for the short values interned, a young slice costs less than that loop.
   */
  internSlice(text: string, start: number, end: number): string {
    if (end <= start) return '';
    const value = text.slice(start, end);
    const last = this.last;
    if (value === last) return last;
    const slot = slotOf(text, start, end);
    const recent = this.recent[slot] as string;
    if (value !== recent) return this.lookUp(value, slot);
    this.last = recent;
    return recent;
  }

  private lookUp(value: string, slot: number): string {
    let kept = this.values.get(value);
    if (kept === undefined) {
      if (this.values.size >= this.maxValues || value.length > this.maxChars) return value;
      // JSON round trip: an exact, standalone copy (lone surrogates included) not sharing the line's storage
      kept = JSON.parse(JSON.stringify(value)) as string;
      this.values.set(kept, kept);
    }
    this.recent[slot] = kept;
    this.last = kept;
    return kept;
  }
}
