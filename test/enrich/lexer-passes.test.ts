import { loadModule } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConstantRedactor } from '../../src/enrich/constant-redactor.js';
import { scanRelations } from '../../src/enrich/scan-relations.js';

beforeAll(async () => {
  await loadModule();
});

describe('ConstantRedactor', () => {
  it('replaces every constant token by the next free $n and deletes comments', () => {
    const redactor = ConstantRedactor.create();
    expect(redactor.redact("COPY t TO PROGRAM 'gzip > x' -- y")).toBe('COPY t TO PROGRAM $1 ');
    expect(redactor.redact("SELECT $3, 'a', 4.5, B'1', X'ff', U&'b', $$c$$ /* d */")).toBe('SELECT $3, $4, $5, $6, $7, $8, $9 ');
  });

  it('counts byte offsets correctly around multibyte text', () => {
    expect(ConstantRedactor.create().redact("SELECT \"kolom é\", 'Mohon bantuannya 🙏', 7")).toBe('SELECT "kolom é", $1, $2');
  });

  it('returns text without constants unchanged, identifiers with digits included', () => {
    expect(ConstantRedactor.create().redact('SELECT t1.c2 FROM t1 WHERE a = $1')).toBe('SELECT t1.c2 FROM t1 WHERE a = $1');
  });

  it('throws on text that does not lex (the caller then reports no normalized text)', () => {
    expect(() => ConstantRedactor.create().redact("SELECT 'open")).toThrow();
  });
});

describe('scanRelations (parse-error fallback)', () => {
  const cases: [string, string, string[]][] = [
    ['FROM lists with aliases, JOIN, schema-qualified and quoted names', 'SELEC * FROM a x, s.b AS y JOIN "Q"."R" ON', ['Q.R', 'a', 's.b']],
    ['INSERT INTO, UPDATE, TRUNCATE ONLY, DROP TABLE IF EXISTS', 'INSERT INTO t1 VALUE (1); UPDATE t2 SET; TRUNCATE ONLY t3; DROP TABLE IF EXISTS t4 ,', ['t1', 't2', 't3', 't4']],
    ['not FROM inside function calls, IS DISTINCT FROM, FROM STDIN, or FOR UPDATE', "SELEC extract(year FROM d), trim(both FROM x) FROM t WHERE a IS DISTINCT FROM b FOR UPDATE SKIP LOCKED; COPY u FROM STDIN", ['t', 'u']],
    ['FROM inside a parenthesised sub-select', 'SELEC a FROM (SELECT b FROM inner_t) s', ['inner_t']],
    ['unquoted names folded to lower case', 'SELEC a FROM Public.Customers', ['public.customers']],
    ['the part before an unterminated quote', "SELEC a FROM t WHERE b = '?", ['t']],
  ];
  for (const [behaviour, sql, expected] of cases) {
    it(behaviour, () => {
      expect(scanRelations(sql)).toEqual(expected);
    });
  }
});
