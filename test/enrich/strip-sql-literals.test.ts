import { describe, expect, it } from 'vitest';
import { stripSqlLiterals } from '../../src/enrich/strip-sql-literals.js';

describe('stripSqlLiterals', () => {
  const cases: [string, string, string][] = [
    ['plain strings with doubled quotes', "SELECT 'o''connor', 'x'", "SELECT '?', '?'"],
    ['standard strings keep backslashes literal (standard_conforming_strings)', "SELECT 'a\\', 'b'", "SELECT '?', '?'"],
    ['E strings with backslash-escaped quotes', "SELECT E'it\\'s', e'\\\\' , 2", "SELECT '?', '?' , 1"],
    ['bit, hex, national and Unicode strings', "SELECT B'101', x'ff', N'nama', U&'d\\0061ta'", "SELECT '?', '?', N'?', '?'"],
    ['dollar quotes with and without a tag', 'DO $$ BEGIN RAISE NOTICE \'x\'; END $$; SELECT $fn$ a $ b $fn$', "DO '?'; SELECT '?'"],
    ['strings continued across a newline are one constant', "SELECT 'a'\n  'b' AS c", "SELECT '?' AS c"],
    ['strings on one line are not joined', "SELECT 'a' 'b'", "SELECT '?' '?'"],
    ['integers, underscores, radix prefixes, decimals and exponents', 'SELECT 42, 1_000, 0x1F, 0o17, 0b101, 1.5, .5, 3., 1e10, 2.5E-3', 'SELECT 1, 1, 1, 1, 1, 1, 1, 1, 1, 1'],
    ['digits inside identifiers and $n parameters are kept', 'SELECT t1.c2 FROM t1 WHERE x = $12', 'SELECT t1.c2 FROM t1 WHERE x = $12'],
    ['quoted identifiers are kept verbatim, quotes and spaces included', 'SELECT "a ""b""  1" FROM U&"t\\0031"', 'SELECT "a ""b""  1" FROM U&"t\\0031"'],
    ['line and nested block comments are removed', "/* ktp 3174 /* nested */ still */SELECT 1 -- id 99\nFROM t", 'SELECT 1 FROM t'],
    ['whitespace runs collapse to one space and the ends are trimmed', '  SELECT\n\t a ,\r\n b  ', 'SELECT a , b'],
    ['pgaudit <REDACTED> becomes a string constant', 'CREATE ROLE r LOGIN PASSWORD <REDACTED>', "CREATE ROLE r LOGIN PASSWORD '?'"],
    ['a word ending in e, b, x or n is not a string prefix', "SELECT date'2020-01-01', type'x'", "SELECT date'?', type'?'"],
    ['an unterminated string runs to the end and stays unterminated', "SELECT 'abc", "SELECT '?"],
    ['an unterminated E string stays unterminated', "SELECT E'abc\\'", "SELECT '?"],
    ['an unterminated dollar quote stays unterminated', 'SELECT $q$ abc', "SELECT '?"],
    ['an unterminated block comment stays unterminated', 'SELECT 1 /* abc', 'SELECT 1 /*'],
    ['an unterminated quoted identifier is kept', 'SELECT "abc', 'SELECT "abc'],
    ['a lone dollar sign is kept', 'SELECT $ 1', 'SELECT $ 1'],
  ];
  for (const [behaviour, input, expected] of cases) {
    it(behaviour, () => {
      expect(stripSqlLiterals(input)).toBe(expected);
    });
  }

  it('gives the same key to statements that differ only in constants, comments and spacing', () => {
    const a = stripSqlLiterals("SELECT count(*) FROM orders WHERE customer_id = 787 AND status IN ('pending', 'paid')");
    const b = stripSqlLiterals("SELECT count(*)  FROM orders -- x\n WHERE customer_id = 5 AND status IN ('a', E'b')");
    expect(a).toBe("SELECT count(*) FROM orders WHERE customer_id = 1 AND status IN ('?', '?')");
    expect(b).toBe(a);
  });
});
