/**
 * The flags `QueryEnricher` puts in `QueryFacts.flags` (sorted alphabetically there). Rules select
 * on them (`query.flags: contains copy_program`), so the list and its meanings are a data format:
 * add flags, never change one's meaning.
 *
 * Every flag is decided from the statement's shape (its parse tree), never from the values of its
 * constants, so statements that differ only in literals always get the same flags.
 *
 * | flag | set when the statement text ... |
 * |---|---|
 * | `select_star` | has a SELECT list with `*` or `alias.*` (in any SELECT, sub-selects included; not `count(*)`, not `RETURNING *`) |
 * | `has_where` | has at least one main query (each SELECT, UPDATE, DELETE statement; both arms of UNION/INTERSECT/EXCEPT; the query of COPY (...), EXPLAIN, CREATE TABLE AS, PREPARE, DECLARE) and every one of them has a WHERE |
 * | `no_where_write` | has an UPDATE or DELETE without WHERE (anywhere, data-modifying CTEs included) |
 * | `copy_to` | is `COPY ... TO` |
 * | `copy_from` | is `COPY ... FROM` |
 * | `copy_stdout` | is `COPY ... TO STDOUT` |
 * | `copy_program` | is `COPY ... TO PROGRAM` or `COPY ... FROM PROGRAM` (runs a shell command as the server) |
 * | `copy_file` | is `COPY ... TO 'file'` or `FROM 'file'` (a file on the database server) |
 * | `server_file_function` | calls a function that reads, lists or writes server files: pg_read_file, pg_read_binary_file, pg_stat_file, pg_ls_dir, pg_ls_logdir, pg_ls_waldir, pg_ls_tmpdir, pg_ls_archive_statusdir, pg_ls_logicalsnapdir, pg_ls_logicalmapdir, pg_ls_replslotdir, pg_ls_summariesdir, lo_import, lo_export, and adminpack's pg_file_write, pg_file_rename, pg_file_unlink, pg_file_sync, pg_file_read, pg_file_length, pg_logdir_ls |
 * | `dblink` | calls a `dblink*` function, creates a foreign server for postgres_fdw, file_fdw or dblink_fdw, or creates the dblink, postgres_fdw or file_fdw extension |
 * | `multi_statement` | holds more than one statement (stacked queries) |
 * | `tautology` | has, in a WHERE, HAVING or JOIN ... ON condition, a comparison of two constants (`1=1`, `'a'='a'`, `2>1`, `'x' LIKE 'x'`; by shape, so `1=2` too) or an OR with a constant operand (`OR true`, `OR 1`) |
 * | `union_select` | has a UNION or UNION ALL |
 * | `sleep_function` | calls pg_sleep, pg_sleep_for or pg_sleep_until |
 * | `catalog_access` | reads or names a relation in pg_catalog or information_schema, or an unqualified `pg_*` relation (pg_authid, pg_shadow, pg_stat_activity, ...) |
 * | `ddl` | is a schema change: CREATE/ALTER/DROP of any object except roles, COMMENT, SECURITY LABEL, ALTER SYSTEM, CREATE TABLE AS, SELECT INTO, IMPORT FOREIGN SCHEMA (pgaudit's DDL class) |
 * | `role_change` | is CREATE/ALTER/DROP ROLE or USER, ALTER ROLE ... RENAME, GRANT/REVOKE of roles or privileges, ALTER DEFAULT PRIVILEGES (pgaudit's ROLE class) |
 * | `parse_error` | did not parse (the PostgreSQL 18 grammar of libpg-query 18); then fingerprint and normalized are null |
 */
export const QUERY_FLAGS = [
  'select_star',
  'has_where',
  'no_where_write',
  'copy_to',
  'copy_from',
  'copy_stdout',
  'copy_program',
  'copy_file',
  'server_file_function',
  'dblink',
  'multi_statement',
  'tautology',
  'union_select',
  'sleep_function',
  'catalog_access',
  'ddl',
  'role_change',
  'parse_error',
] as const;

/** One of `QUERY_FLAGS`. */
export type QueryFlag = (typeof QUERY_FLAGS)[number];
