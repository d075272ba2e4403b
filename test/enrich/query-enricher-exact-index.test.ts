import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { QueryEnricher } from '../../src/enrich/query-enricher.js';

const STATEMENT = 'SELECT id, full_name, email FROM customers WHERE id = $1';

describe('QueryEnricher exact-text index', () => {
  it('answers a verbatim repeat with the same facts, counted as a cache hit, as a fresh object', async () => {
    const own = await QueryEnricher.create();
    const first = own.analyze(STATEMENT);
    const second = own.analyze(STATEMENT);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    expect(second.relations).not.toBe(first.relations);
    second.flags.push('parse_error');
    expect(own.analyze(STATEMENT).flags).toEqual(first.flags);
    expect(own.stats()).toEqual({ hits: 2, misses: 1, entries: 1, uncached: 0 });
  });

  it('does not answer once the shape was evicted from the cache: the repeat is a miss, as without the index', async () => {
    const own = await QueryEnricher.create({ cacheEntries: 1 });
    own.analyze('SELECT a FROM t1');
    own.analyze('SELECT a FROM t2'); // evicts t1
    own.analyze('SELECT a FROM t1'); // miss again, evicts t2
    own.analyze('SELECT a FROM t1'); // hit
    expect(own.stats()).toEqual({ hits: 1, misses: 3, entries: 1, uncached: 0 });
  });

  it('keeps refreshing the entry it answers from, so the LRU order is that of the key lookups', async () => {
    const own = await QueryEnricher.create({ cacheEntries: 2 });
    own.analyze('SELECT a FROM t1');
    own.analyze('SELECT a FROM t2');
    own.analyze('SELECT a FROM t1'); // verbatim repeat: t1 becomes the most recent
    own.analyze('SELECT a FROM t3'); // so t2 is evicted
    own.analyze('SELECT a FROM t1'); // hit
    own.analyze('SELECT a FROM t2'); // miss
    expect(own.stats()).toEqual({ hits: 2, misses: 4, entries: 2, uncached: 0 });
  });

  it('never answers statements whose facts were not cached (parse errors are recomputed and counted each time)', async () => {
    const own = await QueryEnricher.create();
    const broken = 'SELEC * FROM t';
    expect(own.analyze(broken).flags).toEqual(['parse_error']);
    expect(own.analyze(broken).flags).toEqual(['parse_error']);
    expect(own.stats()).toEqual({ hits: 0, misses: 2, entries: 0, uncached: 2 });
  });

  it('enriches the same way through the index: statement, placeholders and blank texts', async () => {
    const own = await QueryEnricher.create();
    const event = (audited: string | null, statement: string | null) =>
      ({ audit: audited === null ? null : { statement: audited }, statement, query: null }) as unknown as Parameters<QueryEnricher['enrich']>[0];
    const a = event(STATEMENT, null);
    const b = event(STATEMENT, null);
    own.enrich(a);
    own.enrich(b);
    expect(b.query).toEqual(a.query);
    expect(a.query?.relations).toEqual(['customers']);
    const placeholder = event('<previously logged>', 'SELECT 1');
    own.enrich(placeholder);
    expect(placeholder.query?.normalized).toBe('SELECT $1');
    for (const blank of ['', ' ', '\u00a0', '\n\t']) {
      const e = event(null, blank);
      own.enrich(e);
      expect(e.query).toBeNull();
    }
  });

  it('enrich hands every event of one statement shape the same frozen facts (analyze still copies)', async () => {
    const own = await QueryEnricher.create();
    const event = (statement: string): AccessEvent => ({ statement, audit: null, query: null }) as unknown as AccessEvent;
    const a = event('SELECT id FROM customers WHERE id = 1');
    const b = event('SELECT id FROM customers WHERE id = 2');
    own.enrich(a);
    own.enrich(b);
    expect(b.query).toBe(a.query);
    expect(a.query).toEqual({ fingerprint: a.query?.fingerprint, normalized: 'SELECT id FROM customers WHERE id = $1', relations: ['customers'], flags: ['has_where'] });
    expect(Object.isFrozen(a.query) && Object.isFrozen(a.query?.relations) && Object.isFrozen(a.query?.flags)).toBe(true);
    const copy = own.analyze('SELECT id FROM customers WHERE id = 3');
    expect(copy).toEqual(a.query);
    expect(Object.isFrozen(copy)).toBe(false);
    copy.relations.push('x');
    expect(a.query?.relations).toEqual(['customers']);
    expect(own.stats()).toEqual({ hits: 2, misses: 1, entries: 1, uncached: 0 });
  });
});
