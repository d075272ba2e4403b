import type { QueryFacts } from '../domain/access-event.js';

/** One cached entry: the facts, their size, and when they were last stored or read. */
interface FactsEntry {
  facts: QueryFacts;
  /** UTF-16 code units counted against `maxChars` */
  chars: number;
  /** value of the cache's use counter at the last `get` or `set` of this entry */
  usedAt: number;
}

/**
 * Bounded least-recently-used map from a literal-free statement key to its `QueryFacts`.
 * Two bounds, whichever is reached first: a number of entries, and a total size in UTF-16 code
 * units (key + normalized text + relation names), so a stream of huge statements cannot hold
 * unbounded memory. Past a bound, the least recently stored or read entries are evicted first.
 *
 * How the order is kept: until the first eviction, a hit only stamps its entry with a use counter
 * (most streams never fill the cache: moving the entry in the `Map` on every hit was ~2 % of
 * `jaga parse`); the first eviction orders the entries by their stamps once, and from then on
 * the `Map`'s insertion order is the recency order (a hit moves its entry last, unless it is last
 * already). Either way the entries evicted are exactly those of a plain LRU.
 */
export class FactsCache {
  private entries = new Map<string, FactsEntry>();
  private totalChars = 0;
  private useCount = 0;
  /** true once the `Map`'s insertion order is kept as the recency order (see the class comment) */
  private ordered = false;
  /** the key stored or read last while `ordered` (its entry is last in the `Map`), or null */
  private newestKey: string | null = null;

  /**
   * @param maxEntries most entries kept (0 disables caching)
   * @param maxChars most UTF-16 code units kept over all entries; an entry larger than this is not kept
   */
  constructor(
    readonly maxEntries: number,
    readonly maxChars: number,
  ) {}

  /** Number of entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** The facts stored under `key` (marking them most recently used), or undefined. */
  get(key: string): QueryFacts | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    entry.usedAt = ++this.useCount;
    if (this.ordered && key !== this.newestKey) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.newestKey = key;
    }
    return entry.facts;
  }

  /**
   * Stores `facts` under `key`, evicting least recently used entries past either bound.
   * Returns false (and stores nothing) when the entry alone exceeds `maxChars` or caching is off.
   */
  set(key: string, facts: QueryFacts): boolean {
    const chars = key.length + (facts.normalized?.length ?? 0) + facts.relations.reduce((n, r) => n + r.length, 0);
    if (this.maxEntries === 0 || chars > this.maxChars) return false;
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.totalChars -= previous.chars;
    }
    this.entries.set(key, { facts, chars, usedAt: ++this.useCount });
    this.newestKey = key;
    this.totalChars += chars;
    if (this.entries.size > this.maxEntries || this.totalChars > this.maxChars) this.evict();
    return true;
  }

  /** Evicts least recently used entries until both bounds hold. */
  private evict(): void {
    if (!this.ordered) {
      this.entries = new Map([...this.entries].sort((a, b) => a[1].usedAt - b[1].usedAt));
      this.ordered = true;
    }
    while (this.entries.size > this.maxEntries || this.totalChars > this.maxChars) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.totalChars -= this.entries.get(oldest.value)!.chars;
      this.entries.delete(oldest.value);
    }
  }
}
