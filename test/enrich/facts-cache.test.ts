import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QueryFacts } from '../../src/domain/access-event.js';
import { FactsCache } from '../../src/enrich/facts-cache.js';

/** Facts whose size (with a one-character key) is `1 + normalizedChars`. */
function facts(normalizedChars: number): QueryFacts {
  return { fingerprint: null, normalized: 'n'.repeat(normalizedChars), relations: [], flags: [] };
}

/** A plain LRU over a Map (every hit moves its entry last): the order FactsCache must evict in. */
class ReferenceLru {
  readonly entries = new Map<string, { facts: QueryFacts; chars: number }>();
  private totalChars = 0;
  constructor(
    private readonly maxEntries: number,
    private readonly maxChars: number,
  ) {}
  get(key: string): QueryFacts | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.facts;
  }
  set(key: string, value: QueryFacts): boolean {
    const chars = key.length + (value.normalized?.length ?? 0);
    if (this.maxEntries === 0 || chars > this.maxChars) return false;
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.totalChars -= previous.chars;
    }
    this.entries.set(key, { facts: value, chars });
    this.totalChars += chars;
    while (this.entries.size > this.maxEntries || this.totalChars > this.maxChars) {
      const oldest = this.entries.keys().next().value as string;
      this.totalChars -= (this.entries.get(oldest) as { chars: number }).chars;
      this.entries.delete(oldest);
    }
    return true;
  }
}

describe('FactsCache: least recently used eviction', () => {
  it('evicts the least recently read or stored entry first, reads before the first eviction included', () => {
    const cache = new FactsCache(3, 1000);
    const [a, b, c, d, e] = [facts(1), facts(2), facts(3), facts(4), facts(5)];
    cache.set('a', a);
    cache.set('b', b);
    cache.set('c', c);
    expect(cache.get('a')).toBe(a); // order now b, c, a
    expect(cache.set('d', d)).toBe(true); // evicts b
    expect([cache.get('b'), cache.size]).toEqual([undefined, 3]);
    expect(cache.get('c')).toBe(c); // order a, d, c
    expect(cache.get('c')).toBe(c); // the newest read again: order unchanged
    cache.set('e', e); // evicts a
    expect([cache.get('a'), cache.get('d'), cache.get('c'), cache.get('e')]).toEqual([undefined, d, c, e]);
  });

  it('evicts past the size bound, oldest first, and keeps nothing larger than the bound', () => {
    const cache = new FactsCache(100, 10);
    expect(cache.set('a', facts(3))).toBe(true); // 4 chars
    expect(cache.set('b', facts(3))).toBe(true); // 8 chars
    cache.get('a');
    expect(cache.set('c', facts(3))).toBe(true); // 12 chars: evicts b
    expect([cache.get('b'), cache.size]).toEqual([undefined, 2]);
    expect(cache.set('d', facts(10))).toBe(false); // 11 chars alone
    expect(cache.size).toBe(2);
    expect(new FactsCache(0, 10).set('a', facts(1))).toBe(false);
  });

  it('holds exactly the entries a plain Map-order LRU holds, for any sequence of reads and stores', () => {
    const op = fc.record({ read: fc.boolean(), key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), chars: fc.nat({ max: 6 }) });
    fc.assert(
      fc.property(fc.nat({ max: 5 }), fc.integer({ min: 1, max: 30 }), fc.array(op, { maxLength: 60 }), (maxEntries, maxChars, ops) => {
        const cache = new FactsCache(maxEntries, maxChars);
        const reference = new ReferenceLru(maxEntries, maxChars);
        for (const { read, key, chars } of ops) {
          if (read) expect(cache.get(key)).toBe(reference.get(key));
          else {
            const value = facts(chars);
            expect(cache.set(key, value)).toBe(reference.set(key, value));
          }
          expect(cache.size).toBe(reference.entries.size);
        }
        for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) expect(cache.get(key)).toBe(reference.get(key));
      }),
      { numRuns: 1000 },
    );
  });
});
