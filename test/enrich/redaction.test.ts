import fc from 'fast-check';
import { scanSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { QueryEnricher } from '../../src/enrich/query-enricher.js';

/**
 * The redaction guarantee (a leak is a security bug): `normalized` never holds a string or numeric
 * constant, nor a comment, of the statement, whatever the statement.
 */
let enricher: QueryEnricher;
let uncachedEnricher: QueryEnricher;
beforeAll(async () => {
  enricher = await QueryEnricher.create();
  uncachedEnricher = await QueryEnricher.create({ cacheEntries: 0 });
});

/** Constant and comment tokens left in a text, by PostgreSQL's own lexer. */
function constantTokens(text: string): string[] {
  return scanSync(text)
    .tokens.filter(
      (t) =>
        /CONST|COMMENT/.test(t.tokenName) ||
        /^(?:[bBxXnNeE]|[uU]&)?'/.test(t.text) || // quoted strings
        /^\$(?!\d)/.test(t.text) || // dollar quotes ($n parameters are fine)
        /^\.?\d/.test(t.text) || // numbers
        /^(?:--|\/\*)/.test(t.text), // comments
    )
    .map((t) => t.text);
}

/** [what, statement, exact normalized text, secrets that must not appear] */
const CASES: [string, string, string, string[]][] = [
  ['SELECT with string, integer and decimal constants', "SELECT name FROM customers WHERE nik = '3174000000000001' AND age > 41 AND score = 3.75", 'SELECT name FROM customers WHERE nik = $1 AND age > $2 AND score = $3', ['3174000000000001', '41', '3.75']],
  ['INSERT values', "INSERT INTO customers (full_name, email, phone) VALUES ('Budi Santoso', 'budi@example.com', '+62 812 5550 1234')", 'INSERT INTO customers (full_name, email, phone) VALUES ($1, $2, $3)', ['Budi', 'budi@example.com', '5550']],
  ['UPDATE values', "UPDATE customers SET address = 'Jl. Merdeka 17, Jakarta' WHERE id = 4242", 'UPDATE customers SET address = $1 WHERE id = $2', ['Merdeka', '4242']],
  ['IN lists', "SELECT * FROM orders WHERE order_no IN ('ORD-991', 'ORD-992') AND customer_id IN (77, 78)", 'SELECT * FROM orders WHERE order_no IN ($1, $2) AND customer_id IN ($3, $4)', ['ORD-99', '77', '78']],
  ['COPY TO PROGRAM', "COPY t TO PROGRAM 'gzip -c > /tmp/x'", 'COPY t TO PROGRAM $1', ['gzip', '/tmp/x']],
  ['COPY TO a server file', "COPY t TO '/tmp/file'", 'COPY t TO $1', ['/tmp/file']],
  ['SET of a pgaudit setting', "SET pgaudit.log = 'none'", 'SET pgaudit.log = $1', ['none']],
  ['ALTER SYSTEM SET a string', "ALTER SYSTEM SET pgaudit.log = 'none'", 'ALTER SYSTEM SET pgaudit.log = $1', ['none']],
  ['ALTER SYSTEM SET a number', 'ALTER SYSTEM SET log_min_duration_statement = 250', 'ALTER SYSTEM SET log_min_duration_statement = $1', ['250']],
  ['CREATE ROLE PASSWORD', "CREATE ROLE r PASSWORD 'secret'", 'CREATE ROLE r PASSWORD $1', ['secret']],
  ['ALTER ROLE PASSWORD', "ALTER ROLE r PASSWORD 'x'", 'ALTER ROLE r PASSWORD $1', ["'x'"]],
  ['CREATE USER PASSWORD VALID UNTIL', "CREATE USER u WITH PASSWORD 'hunter2' VALID UNTIL '2030-01-01'", 'CREATE USER u WITH PASSWORD $1 VALID UNTIL $2', ['hunter2', '2030']],
  ['a DO block (its body is one constant)', "DO $$ BEGIN UPDATE customers SET phone = '0812-0000-1111' WHERE id = 9; END $$", 'DO $1', ['0812', 'phone', 'UPDATE']],
  ['pg_read_file', "SELECT pg_read_file('/etc/passwd')", 'SELECT pg_read_file($1)', ['/etc/passwd']],
  ['lo_export', "SELECT lo_export(1, '/tmp/x')", 'SELECT lo_export($1, $2)', ['/tmp/x']],
  ['E strings with escapes', "SELECT * FROM customers WHERE full_name = E'O\\'Brien' AND note = e'line1\\nline2'", 'SELECT * FROM customers WHERE full_name = $1 AND note = $2', ['Brien', 'line1']],
  ['dollar-quoted strings', 'SELECT $tag$ktp 3174000000000001$tag$, $$secret$$', 'SELECT $1, $2', ['3174', 'secret']],
  ['comments holding data', '/* ktp 3174000000000001 */ SELECT full_name FROM customers -- phone 0812555\nWHERE id = 1', 'SELECT full_name FROM customers WHERE id = $1', ['3174', '0812555', 'ktp', 'phone']],
  ['multi-statement text', "UPDATE customers SET email = 'a@b.c' WHERE id = 1; SELECT 'token-abc123'; DELETE FROM t WHERE x = 99", 'UPDATE customers SET email = $1 WHERE id = $2; SELECT $3; DELETE FROM t WHERE x = $4', ['a@b.c', 'token-abc123', '99']],
  ['bit, hex and Unicode strings, numeric forms', "SELECT B'1011', X'DEADBEEF', U&'\\0041gus', 1e-7, 0xFF, 1_000_000", 'SELECT $1, $2, $3, $4, $5, $6', ['1011', 'DEADBEEF', '0041', 'gus', '1e-7', '0xFF', '1_000']],
  ['typed constants', "SELECT DATE '1990-05-17', interval '3 days', '{1,2}'::int[]", 'SELECT DATE $1, interval $2, $3::int[]', ['1990', '3 days', '{1,2}']],
  ['strings continued across lines', "SELECT 'part one'\n  'part two'", 'SELECT $1', ['part']],
  ['COMMENT ON', "COMMENT ON COLUMN customers.nik IS 'NIK 3174000000000001'", 'COMMENT ON COLUMN customers.nik IS $1', ['3174']],
  ['CREATE TABLE defaults and type modifiers', "CREATE TABLE x (a text DEFAULT 'sensitive-default', b numeric(12, 2) DEFAULT 99.5)", 'CREATE TABLE x (a text DEFAULT $1, b numeric($2, $3) DEFAULT $4)', ['sensitive', '99.5', '12']],
  ['user mapping options', "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'remote', password 'p4ss')", 'CREATE USER MAPPING FOR u SERVER s OPTIONS (user $1, password $2)', ['remote', 'p4ss']],
  ['foreign server options', "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '10.1.2.3', port '5433')", 'CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host $1, port $2)', ['10.1.2.3', '5433']],
  ['set_config', "SELECT set_config('pgaudit.log', 'none', false)", 'SELECT set_config($1, $2, $3)', ['pgaudit.log', 'none']],
  ['PREPARE', "PREPARE p AS SELECT * FROM t WHERE a = 'lit-value'", 'PREPARE p AS SELECT * FROM t WHERE a = $1', ['lit-value']],
  ['a function body', 'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 4242 $$', 'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $1', ['4242']],
  ['NOTIFY payload', "NOTIFY ch, 'payload-x'", 'NOTIFY ch, $1', ['payload-x']],
  ['SECURITY LABEL', "SECURITY LABEL ON TABLE t IS 'label-x'", 'SECURITY LABEL ON TABLE t IS $1', ['label-x']],
  ['CREATE DATABASE options', "CREATE DATABASE d TEMPLATE template0 ENCODING 'UTF8' LOCALE 'id_ID.UTF-8'", 'CREATE DATABASE d TEMPLATE template0 ENCODING $1 LOCALE $2', ['UTF8', 'id_ID']],
  ['bind parameters are kept and constants numbered after them', "SELECT * FROM t WHERE a = $2 AND b = 'x-secret'", 'SELECT * FROM t WHERE a = $2 AND b = $3', ['x-secret']],
  ['a statement parsed as written (UESCAPE), redacted by the lexer pass', "SELECT U&'d!0061ta-rahasia' UESCAPE '!' -- note 77", 'SELECT $1 UESCAPE $2', ['rahasia', 'note', '77', "'!'"]],
];

describe('redaction of normalized text', () => {
  for (const [what, statement, normalized, secrets] of CASES) {
    it(`leaves no constant or comment: ${what}`, () => {
      for (const facts of [enricher.analyze(statement), uncachedEnricher.analyze(statement)]) {
        expect(facts.normalized).toBe(normalized);
        expect(constantTokens(facts.normalized!)).toEqual([]);
        for (const secret of secrets) expect(facts.normalized).not.toContain(secret);
      }
    });
  }

  it('gives null normalized text for statements that do not parse', () => {
    expect(enricher.analyze("SELEC nik FROM customers WHERE nik = '3174000000000001'").normalized).toBeNull();
  });
});

describe('redaction of any constant (property)', () => {
  const text = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\0'));
  const plain = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const escaped = (s: string) => `E'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const dollar = (s: string) => `$q$${s}$q$`;
  const number = fc.oneof(fc.nat().map(String), fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `${a}.${b}`), fc.nat().map((n) => `${n}e-3`));

  /** [template name, build(string, number)] */
  const templates: [string, (s: string, n: string) => string][] = [
    ['SELECT', (s, n) => `SELECT * FROM customers WHERE full_name = ${plain(s)} AND id = ${n}`],
    ['INSERT with an E string', (s, n) => `INSERT INTO t (a, b) VALUES (${escaped(s)}, ${n})`],
    ['COPY TO PROGRAM', (s) => `COPY t TO PROGRAM ${plain(s)}`],
    ['ALTER SYSTEM', (s) => `ALTER SYSTEM SET pgaudit.log = ${plain(s)}`],
    ['CREATE ROLE PASSWORD', (s) => `CREATE ROLE r PASSWORD ${plain(s)}`],
    ['DO block', (s) => `DO ${dollar(s)}`],
    ['comments', (s, n) => `/* ${s} */ SELECT ${n} -- ${s}\n`],
    ['IN list', (s, n) => `SELECT 1 FROM t WHERE a IN (${plain(s)}, ${escaped(s)}, ${n})`],
    ['CREATE TABLE default', (s, n) => `CREATE TABLE x (a text DEFAULT ${plain(s)}, b int DEFAULT ${n})`],
  ];

  for (const [name, build] of templates) {
    it(`gives the same facts whatever the constants: ${name}`, () => {
      const expected = uncachedEnricher.analyze(build('x', '1'));
      expect(expected.normalized).not.toBeNull();
      const valid = text.filter((s) => !s.includes('$') && !s.includes('*/') && !s.includes('/*') && !/[\n\r]/.test(s));
      fc.assert(
        fc.property(valid, number, (s, n) => {
          const statement = build(s, n);
          expect(uncachedEnricher.analyze(statement)).toEqual(expected);
          expect(enricher.analyze(statement)).toEqual(expected);
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe('arbitrary text (property)', () => {
  const fragments = fc.constantFrom("'", '"', '$$', '$a$', 'E\'', '--', '/*', '*/', '\n', ' ', 'SELECT', 'FROM t', 'WHERE', '1', '.5', '<REDACTED>', 'U&', ';', '(', ')', ',', '=', 'COPY', 'TO PROGRAM');
  const messy = fc.array(fc.oneof(fragments, fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 30 }).map((parts) => parts.join(''));

  it('never throws, and any normalized text it gives holds no constant or comment', () => {
    fc.assert(
      fc.property(messy, (statement) => {
        const facts = uncachedEnricher.analyze(statement);
        expect(facts.flags.includes('parse_error')).toBe(facts.normalized === null);
        if (facts.normalized !== null) expect(constantTokens(facts.normalized)).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it("survives nesting past PostgreSQL's stack depth limit, and a 1 MiB statement", () => {
    const deep = `SELECT ${'('.repeat(20_000)}1${')'.repeat(20_000)}`;
    expect(enricher.analyze(deep)).toEqual({ fingerprint: null, normalized: null, relations: [], flags: ['parse_error'] });
    const nested = `SELECT ${'('.repeat(200)}1${')'.repeat(200)} FROM t WHERE a = 'x'`;
    expect(enricher.analyze(nested)).toMatchObject({ normalized: `SELECT ${'('.repeat(200)}$1${')'.repeat(200)} FROM t WHERE a = $2`, relations: ['t'] });
    const big = `INSERT INTO t (a) VALUES ('${'k'.repeat(1024 * 1024)}')`;
    expect(enricher.analyze(big)).toMatchObject({ normalized: 'INSERT INTO t (a) VALUES ($1)', relations: ['t'], flags: [] });
  });
});
