import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { QueryFacts } from '../../src/domain/access-event.js';
import { QueryEnricher } from '../../src/enrich/query-enricher.js';

const CORPUS_JSON = fileURLToPath(new URL('../../../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716.json', import.meta.url));
const REGRESS_OUT = fileURLToPath(new URL('../../../shared/corpus/pgaudit-regress/pgaudit-REL_15_STABLE.out', import.meta.url));

/** Splits one CSV line (RFC 4180 quoting, as pgaudit writes its payload). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) throw new Error('unterminated quoted field');
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      fields.push(line.slice(i, comma < 0 ? line.length : comma));
      i = comma < 0 ? line.length : comma;
    }
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

/** The STATEMENT field (8th) of every `AUDIT:` message of the jsonlog corpus, in file order. */
function corpusAuditStatements(): string[] {
  return readFileSync(CORPUS_JSON, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as { message?: string })
    .filter((record) => record.message?.startsWith('AUDIT: '))
    .map((record) => csvFields(record.message!.slice('AUDIT: '.length))[7]!);
}

/** The STATEMENT field of every AUDIT record of pgaudit's regression output (quoted fields may span lines). */
function regressAuditStatements(): string[] {
  const lines = readFileSync(REGRESS_OUT, 'utf8').split('\n');
  const statements: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^[A-Z0-9]+: {2}AUDIT: /.exec(lines[i]!);
    if (!match) continue;
    let payload = lines[i]!.slice(match[0].length);
    while ((payload.split('"').length - 1) % 2 === 1 && i + 1 < lines.length) payload += `\n${lines[++i]}`;
    statements.push(csvFields(payload)[7]!);
  }
  return statements;
}

const countFlags = (all: QueryFacts[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const facts of all) for (const flag of facts.flags) counts[flag] = (counts[flag] ?? 0) + 1;
  return counts;
};

describe('every audited statement of the pg15-pgaudit corpus', async () => {
  const statements = corpusAuditStatements();
  const enricher = await QueryEnricher.create();
  const facts = statements.map((s) => enricher.analyze(s));

  it('reads the 5,538 AUDIT statements the corpus README counts', () => {
    expect(statements.length).toBe(5538);
  });

  it('parses every one: the only text libpg-query rejects, CREATE ROLE ... PASSWORD <REDACTED>, parses once the placeholder is replaced', () => {
    expect(facts.filter((f) => f.flags.includes('parse_error')).length).toBe(0);
    const redacted = statements.indexOf('CREATE ROLE backdoor LOGIN SUPERUSER PASSWORD <REDACTED>');
    expect(facts[redacted]).toEqual({ fingerprint: 'c9a19daee6933d03', normalized: 'CREATE ROLE backdoor LOGIN SUPERUSER PASSWORD $1', relations: [], flags: ['role_change'] });
  });

  it('flags the attack statements of the corpus (counts are AUDIT entries: one per relation and sub-statement)', () => {
    expect(countFlags(facts)).toEqual({
      has_where: 3894,
      select_star: 3, // A2 SELECT * FROM customers, A9 SELECT * FROM payments, A8 SELECT * FROM pg_ls_dir(...)
      catalog_access: 34, // DBA pg_stat_activity / pg_stat_user_tables / pg_roles reads, A7 information_schema UNION (one entry per catalog relation)
      no_where_write: 1, // A5 DELETE FROM payments
      copy_to: 7,
      copy_stdout: 3, // A2 COPY customers TO STDOUT (1 entry), app_batch COPY (SELECT ...) TO STDOUT (2 entries)
      copy_program: 4, // A8: two COPY (SELECT ...) TO PROGRAM, each a SELECT and a COPY entry
      server_file_function: 5, // A8 pg_read_file x2, pg_ls_dir, lo_import, lo_export
      multi_statement: 2, // A7 stacked query: two entries carrying the same two-statement text
      sleep_function: 3, // A7 pg_sleep probes
      tautology: 1, // A7 OR 1=1
      union_select: 18, // A7 UNION reads
      ddl: 2, // A4 ALTER SYSTEM, A5 DROP TABLE
      role_change: 3, // A3 CREATE ROLE, GRANT, ALTER ROLE
    });
  });

  it('answers more than 90% of the statements from the cache', () => {
    const { hits, misses, entries, uncached } = enricher.stats();
    console.log(`enrich cache on the corpus: ${hits} hits, ${misses} misses, ${entries} entries, hit rate ${(hits / (hits + misses)).toFixed(4)}`);
    expect(hits + misses).toBe(5538);
    expect(uncached).toBe(0);
    expect(hits / (hits + misses)).toBeGreaterThan(0.9);
  });

  it('gives the same facts with and without the cache', async () => {
    const uncachedEnricher = await QueryEnricher.create({ cacheEntries: 0 });
    expect(statements.map((s) => uncachedEnricher.analyze(s))).toEqual(facts);
  });

  it('prints the cost per statement with and without the cache (not asserted: timing lives in npm run bench)', async () => {
    for (const cacheEntries of [10_000, 0]) {
      const timed = await QueryEnricher.create({ cacheEntries });
      for (const s of statements) timed.analyze(s); // warm-up (and, cached, the first sight of each shape)
      const started = performance.now();
      for (const s of statements) timed.analyze(s);
      const us = ((performance.now() - started) * 1000) / statements.length;
      console.log(`enrich cost on the corpus, cacheEntries=${cacheEntries}: ${us.toFixed(1)} us/statement`);
    }
  });
});

describe("every audited statement of pgaudit's regression output", async () => {
  const statements = regressAuditStatements();
  const enricher = await QueryEnricher.create();
  const facts = statements.map((s) => enricher.analyze(s));

  it('reads all 417 AUDIT records', () => {
    expect(statements.length).toBe(417);
  });

  it("parses every statement; only pgaudit's placeholders fail (enrich skips those)", () => {
    const failed = statements.filter((_, i) => facts[i]!.flags.includes('parse_error'));
    expect([...new Set(failed)].sort()).toEqual(['<not logged>', '<previously logged>']);
  });

  it('leaves no quote and no number outside $n in any normalized text', () => {
    const leaks = facts.map((f) => f.normalized).filter((n): n is string => n !== null && /'|(?<![\w$])\d/.test(n));
    expect(leaks).toEqual([]);
  });
});
