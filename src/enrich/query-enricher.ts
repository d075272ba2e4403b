import { createHash } from 'node:crypto';
import type { ParseResult } from 'libpg-query';
import type { AccessEvent, QueryFacts } from '../domain/access-event.js';
import { ConfigError } from '../domain/errors.js';
import type { ConstantRedactor } from './constant-redactor.js';
import { FactsCache } from './facts-cache.js';
import { type LibpgQuery, loadLibpgQuery } from './libpg-query-loader.js';
import { parseTreeFacts } from './parse-tree-facts.js';
import type { scanRelations as ScanRelations } from './scan-relations.js';
import { STRING_MARK, stripSqlLiterals } from './strip-sql-literals.js';

/** Options of `QueryEnricher.create`. */
export interface QueryEnricherOptions {
  /** most distinct statement shapes cached (LRU); default 10,000; 0 disables the cache */
  cacheEntries?: number;
  /** most UTF-16 code units held by the cache over all entries; default 33,554,432 (about 64 MiB) */
  cacheMaxChars?: number;
}

/** Cache counters of a `QueryEnricher` since it was created. */
export interface QueryEnricherStats {
  /** `analyze` calls answered from the cache */
  hits: number;
  /** `analyze` calls that ran libpg-query (including `uncached` ones) */
  misses: number;
  /** entries held now */
  entries: number;
  /** misses whose result was not cached: too large, a parse error, or only the text as written parsed */
  uncached: number;
}

const LESS_THAN = 60;
const SPACE = 32;
const DELETE = 127;
/** Statement placeholders pgaudit writes instead of a statement: nothing to analyze. */
const STATEMENT_PLACEHOLDERS = new Set(['<previously logged>', '<not logged>']);
/** Keys longer than this are replaced by their SHA-256, so the cache holds short keys. */
const MAX_INLINE_KEY_CHARS = 1024;
const DEFAULT_CACHE_ENTRIES = 10_000;
const DEFAULT_CACHE_MAX_CHARS = 32 * 1024 * 1024;
/** Statements longer than this skip the exact-text index (its lookups hash the whole text). */
const MAX_EXACT_STATEMENT_CHARS = 64 * 1024;
/** Most statements the exact-text index holds before it starts over. */
const MAX_EXACT_ENTRIES = 16_384;
/** Most UTF-16 code units of statements the exact-text index holds before it starts over. */
const MAX_EXACT_CHARS = 16 * 1024 * 1024;

/**
 * SQL facts for audited statements: libpg-query fingerprint, normalised text, relations and flags
 * (see `QUERY_FLAGS`), cached by a literal-free key.
 *
 * How it stays safe and cache-correct: every statement is first rewritten by `stripSqlLiterals`
 * (constants → `'?'` / `1`, comments removed, whitespace collapsed, pgaudit's `<REDACTED>` → `'?'`).
 * That text is both the cache key and what libpg-query parses, fingerprints and normalises, so
 * statements that differ only in constants get identical facts whether or not the cache answers,
 * and no constant of the input can reach the facts. The normalised text then goes through
 * `ConstantRedactor` (PostgreSQL's lexer) as a second, independent pass.
 *
 * In front of that cache, an exact-text index maps statements seen before (extended-protocol
 * statements repeat verbatim) to their cache key, so a repeat skips the rewrite; it only answers
 * while the key's entry is still cached, and counts and refreshes that entry as the key lookup
 * would, so results, `stats()` and evictions are the same as without it. It is bounded
 * (16,384 statements, 16 Mi code units; then it starts over) and holds statements as written
 * in memory only.
 *
 * Only if the rewritten text fails to parse is the statement parsed as written (with `<REDACTED>`
 * replaced, e.g. for `U&'...' UESCAPE '!'`, whose escape character must be real). Such results,
 * and parse errors, are never cached: they may depend on the constants, which the key ignores.
 *
 * Example: `analyze("SELECT * FROM customers WHERE id = 42")` gives
 * `{fingerprint: '<16 hex>', normalized: 'SELECT * FROM customers WHERE id = $1',
 *   relations: ['customers'], flags: ['has_where', 'select_star']}`.
 */
export class QueryEnricher {
  private readonly cache: FactsCache;
  /** statement as written → its key in `cache` (see the class comment) */
  private readonly exact = new Map<string, string>();
  private exactChars = 0;
  private hits = 0;
  private misses = 0;
  private uncached = 0;

  private constructor(
    private readonly libpgQuery: LibpgQuery,
    private readonly redactor: ConstantRedactor,
    private readonly scanRelations: typeof ScanRelations,
    cacheEntries: number,
    cacheMaxChars: number,
  ) {
    this.cache = new FactsCache(cacheEntries, cacheMaxChars);
  }

  /**
   * Loads libpg-query's WebAssembly module (once per thread, on V8's baseline compiler: see
   * `loadLibpgQuery`) and returns a ready enricher. The modules that use libpg-query are imported
   * here, not statically: importing libpg-query starts its compile.
   * @throws ConfigError when `cacheEntries` or `cacheMaxChars` is not a non-negative integer.
   * @throws Error when libpg-query cannot be loaded or its scanner is incompatible.
   */
  static async create(options: QueryEnricherOptions = {}): Promise<QueryEnricher> {
    const cacheEntries = options.cacheEntries ?? DEFAULT_CACHE_ENTRIES;
    const cacheMaxChars = options.cacheMaxChars ?? DEFAULT_CACHE_MAX_CHARS;
    const problems: string[] = [];
    if (!Number.isSafeInteger(cacheEntries) || cacheEntries < 0) problems.push(`cacheEntries must be a non-negative integer, got ${cacheEntries}`);
    if (!Number.isSafeInteger(cacheMaxChars) || cacheMaxChars < 0) problems.push(`cacheMaxChars must be a non-negative integer, got ${cacheMaxChars}`);
    if (problems.length > 0) throw new ConfigError(`invalid query enricher options: ${problems.join('; ')}`, problems);
    const libpgQuery = await loadLibpgQuery();
    const [{ ConstantRedactor }, lexer] = await Promise.all([import('./constant-redactor.js'), import('./scan-relations.js')]);
    return new QueryEnricher(libpgQuery, ConstantRedactor.create(), lexer.scanRelations, cacheEntries, cacheMaxChars);
  }

  /**
   * Facts of one statement text (one or several SQL statements). Never throws: text that does not
   * parse gives `{fingerprint: null, normalized: null, relations: <best effort from the lexer>,
   * flags: ['parse_error']}`. Returns a fresh object the caller may keep or modify.
   */
  analyze(statement: string): QueryFacts {
    return copyFacts(this.sharedFacts(statement));
  }

  /**
   * Sets `event.query` from the statement the event carries: `event.audit.statement` for audit
   * events (unless it is the placeholder `<previously logged>` or `<not logged>`), otherwise
   * `event.statement` (an error's STATEMENT). Leaves `event.query` untouched when there is no
   * statement text. Never throws. The facts are frozen and shared by every event of the same
   * statement shape (no copy per event): `event.query` must be treated as read-only.
   */
  enrich(event: AccessEvent): void {
    const audited = event.audit?.statement;
    const text = audited !== undefined && !isStatementPlaceholder(audited) ? audited : event.statement;
    if (typeof text !== 'string' || isBlank(text)) return;
    event.query = this.sharedFacts(text);
  }

  /** `analyze` without the copy: the cached facts (frozen), or frozen facts made for this call. */
  private sharedFacts(statement: string): QueryFacts {
    const known = this.exact.get(statement);
    if (known !== undefined) {
      const cached = this.cache.get(known);
      if (cached) {
        this.hits++;
        return cached;
      }
    }
    let facts: QueryFacts;
    let counted = false;
    try {
      const literalFree = stripSqlLiterals(statement);
      const key = literalFree.length <= MAX_INLINE_KEY_CHARS ? literalFree : `#${createHash('sha256').update(literalFree).digest('base64')}`;
      const cached = this.cache.get(key);
      if (cached) {
        this.hits++;
        this.remember(statement, key);
        return cached;
      }
      this.misses++;
      counted = true;
      const computed = this.compute(literalFree, statement);
      facts = frozenFacts(computed.facts);
      if (computed.cacheable && this.cache.set(key, facts)) this.remember(statement, key);
      else this.uncached++;
    } catch {
      // Unreachable unless a bug: bad input must never stop the pipeline.
      if (!counted) this.misses++;
      this.uncached++;
      facts = frozenFacts({ fingerprint: null, normalized: null, relations: [], flags: ['parse_error'] });
    }
    return facts;
  }

  /** Cache counters; hit rate is `hits / (hits + misses)`. */
  stats(): QueryEnricherStats {
    return { hits: this.hits, misses: this.misses, entries: this.cache.size, uncached: this.uncached };
  }

  /** Indexes `statement` under `key` (an entry of `cache`), starting the index over past its bounds. */
  private remember(statement: string, key: string): void {
    const chars = statement.length;
    if (chars > MAX_EXACT_STATEMENT_CHARS) return;
    if (this.exact.has(statement)) {
      this.exact.set(statement, key);
      return;
    }
    if (this.exact.size >= MAX_EXACT_ENTRIES || this.exactChars + chars > MAX_EXACT_CHARS) {
      this.exact.clear();
      this.exactChars = 0;
    }
    this.exact.set(statement, key);
    this.exactChars += chars;
  }

  private compute(literalFree: string, statement: string): { facts: QueryFacts; cacheable: boolean } {
    const tree = tryParse(this.libpgQuery, literalFree);
    if (tree) {
      const facts = this.factsOf(literalFree, tree);
      if (facts) return { facts, cacheable: true };
    } else {
      // A grammar rule may check a constant's value; retry the text as written (never cached).
      const asWritten = statement.replaceAll('<REDACTED>', STRING_MARK);
      const writtenTree = tryParse(this.libpgQuery, asWritten);
      const facts = writtenTree ? this.factsOf(asWritten, writtenTree) : null;
      if (facts) return { facts, cacheable: false };
    }
    // Not cached either: another statement with the same key may parse as written.
    return {
      facts: { fingerprint: null, normalized: null, relations: this.scanRelations(literalFree), flags: ['parse_error'] },
      cacheable: false,
    };
  }

  private factsOf(text: string, tree: ParseResult): QueryFacts | null {
    try {
      const fingerprint = this.libpgQuery.fingerprintSync(text);
      const normalized = this.redactor.redact(this.libpgQuery.normalizeSync(text)).trim();
      const { relations, flags } = parseTreeFacts(tree);
      return { fingerprint, normalized, relations, flags };
    } catch {
      return null;
    }
  }
}

/** The parse tree, or null when libpg-query rejects the text or it holds no statement (only comments). */
function tryParse(libpgQuery: LibpgQuery, text: string): ParseResult | null {
  try {
    const tree = libpgQuery.parseSync(text);
    return tree.stmts && tree.stmts.length > 0 ? tree : null;
  } catch {
    return null;
  }
}

/** `facts` with it and its arrays frozen (typed as QueryFacts: what `enrich` hands out is shared, read-only). */
function frozenFacts(facts: QueryFacts): QueryFacts {
  Object.freeze(facts.relations);
  Object.freeze(facts.flags);
  return Object.freeze(facts);
}

function copyFacts(facts: QueryFacts): QueryFacts {
  return { fingerprint: facts.fingerprint, normalized: facts.normalized, relations: facts.relations.slice(), flags: facts.flags.slice() };
}

/** `STATEMENT_PLACEHOLDERS.has(text)` without hashing every statement: both start with `<`. */
function isStatementPlaceholder(text: string): boolean {
  return text.charCodeAt(0) === LESS_THAN && STATEMENT_PLACEHOLDERS.has(text);
}

/** `text.trim() === ''` without making the trimmed copy when the first character is visible ASCII. */
function isBlank(text: string): boolean {
  const first = text.charCodeAt(0);
  if (first > SPACE && first < DELETE) return false;
  return text.trim() === '';
}
