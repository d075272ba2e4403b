import type { QueryFacts } from '../domain/access-event.js';

/**
 * Bounded least-recently-used map from a literal-free statement key to its `QueryFacts`.
 * Two bounds, whichever is reached first: a number of entries, and a total size in UTF-16 code
 * units (key + normalized text + relation names), so a stream of huge statements cannot hold
 * unbounded memory. Insertion order of a `Map` is the recency order (a hit moves the entry last).
 */
export class FactsCache {
  private readonly entries = new Map<string, { facts: QueryFacts; chars: number }>();
  private totalChars = 0;

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
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
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
    this.entries.set(key, { facts, chars });
    this.totalChars += chars;
    while (this.entries.size > this.maxEntries || this.totalChars > this.maxChars) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.totalChars -= this.entries.get(oldest.value)!.chars;
      this.entries.delete(oldest.value);
    }
    return true;
  }
}
