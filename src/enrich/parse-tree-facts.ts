import type { ParseResult } from 'libpg-query';
import type { QueryFlag } from './query-flag.js';

/**
 * Relations and flags read from a libpg-query parse tree (`parseSync` output: the raw parse tree
 * of PostgreSQL's grammar as protobuf JSON, where fields with default values are left out).
 * Source of truth for node and field names: @pgsql/types (libpg-query 18), i.e. PostgreSQL's
 * src/include/nodes/parsenodes.h.
 */
export interface TreeFacts {
  /** every relation named, `catalog.schema.name` as written, sorted and deduplicated */
  relations: string[];
  /** the flags of `QUERY_FLAGS` that apply, sorted alphabetically (never `parse_error`) */
  flags: QueryFlag[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const SERVER_FILE_FUNCTIONS = new Set([
  'pg_read_file', 'pg_read_binary_file', 'pg_stat_file', 'pg_ls_dir', 'pg_ls_logdir', 'pg_ls_waldir',
  'pg_ls_tmpdir', 'pg_ls_archive_statusdir', 'pg_ls_logicalsnapdir', 'pg_ls_logicalmapdir',
  'pg_ls_replslotdir', 'pg_ls_summariesdir', 'lo_import', 'lo_export', 'pg_file_write',
  'pg_file_rename', 'pg_file_unlink', 'pg_file_sync', 'pg_file_read', 'pg_file_length', 'pg_logdir_ls',
]);
const SLEEP_FUNCTIONS = new Set(['pg_sleep', 'pg_sleep_for', 'pg_sleep_until']);
const REMOTE_WRAPPERS = new Set(['postgres_fdw', 'file_fdw', 'dblink_fdw']);
const REMOTE_EXTENSIONS = new Set(['dblink', 'postgres_fdw', 'file_fdw']);
const ROLE_STATEMENTS = new Set([
  'CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt', 'DropRoleStmt', 'GrantStmt', 'GrantRoleStmt',
  'AlterDefaultPrivilegesStmt',
]);
const OTHER_DDL_STATEMENTS = new Set([
  'DefineStmt', 'CompositeTypeStmt', 'IndexStmt', 'ViewStmt', 'RuleStmt', 'RenameStmt', 'CommentStmt',
  'SecLabelStmt', 'ImportForeignSchemaStmt',
]);
/** DROP object types whose names are relations. */
const DROPPED_RELATION_TYPES = new Set([
  'OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE', 'OBJECT_SEQUENCE', 'OBJECT_INDEX',
]);
/** Statements whose `query` is the statement's main query (for `has_where`). */
const QUERY_WRAPPERS = new Set(['CopyStmt', 'ExplainStmt', 'CreateTableAsStmt', 'PrepareStmt', 'DeclareCursorStmt']);
/** Fields typed as one node type, so their JSON carries the body without the `{Type: ...}` wrapper. */
const UNWRAPPED_FIELDS = new Map([['larg', 'SelectStmt'], ['rarg', 'SelectStmt'], ['funccall', 'FuncCall']]);
/** Fields that hold a condition (for `tautology`). */
const CONDITION_FIELDS = new Set(['whereClause', 'havingClause', 'quals']);

/** The single `{NodeType: body}` entry of a protobuf-JSON node wrapper, or null. */
function unwrap(node: unknown): [string, Obj] | null {
  if (!isObj(node)) return null;
  for (const key in node) {
    const body = node[key];
    return isObj(body) ? [key, body] : null;
  }
  return null;
}

/** The `sval`s of a list of `String` nodes (function names, dropped object names). */
function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => (isObj(item) && isObj(item.String) ? (str(item.String.sval) ?? '') : ''));
}

/**
 * Reads relations and flags from a parse tree; see `QUERY_FLAGS` for what each flag means.
 * Relations are every RangeVar (FROM items, JOINs, sub-selects, DML targets, COPY's relation, DDL
 * targets, foreign-key references, ...) except references to a CTE name and CREATE TYPE's type
 * name, plus the relations dropped by DROP TABLE/VIEW/INDEX/SEQUENCE. The parser has already
 * folded unquoted names to lower case. The walk is iterative, so deep trees cannot overflow the
 * stack. Never throws on any tree `parseSync` returns.
 */
export function parseTreeFacts(tree: ParseResult): TreeFacts {
  const flags = new Set<QueryFlag>();
  const qualified = new Set<string>();
  const unqualified = new Set<string>();
  const cteNames = new Set<string>();
  const stmts = tree.stmts ?? [];
  if (stmts.length > 1) flags.add('multi_statement');

  const mains: Obj[] = [];
  for (const raw of stmts) {
    const entry = unwrap(raw.stmt);
    if (!entry) continue;
    statementFlags(entry[0], entry[1], flags);
    collectMainQueries(entry[0], entry[1], mains);
  }
  if (mains.length > 0 && mains.every((m) => m.whereClause !== undefined)) flags.add('has_where');

  const stack: unknown[] = [tree.stmts];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    if (!isObj(value)) continue;
    const relname = str(value.relname);
    if (relname !== undefined && typeof value.relpersistence === 'string') {
      const parts = [str(value.catalogname), str(value.schemaname), relname].filter((p): p is string => !!p);
      (parts.length === 1 ? unqualified : qualified).add(parts.join('.'));
    }
    for (const key in value) {
      const child = value[key];
      if (typeof child !== 'object' || child === null || key === 'typevar') continue;
      if (CONDITION_FIELDS.has(key) && hasTautology(child)) flags.add('tautology');
      if (isObj(child)) nodeFacts(UNWRAPPED_FIELDS.get(key) ?? key, child, flags, qualified, unqualified, cteNames);
      stack.push(child);
    }
  }

  for (const name of unqualified) if (!cteNames.has(name)) qualified.add(name);
  const relations = [...qualified].sort();
  if (relations.some(isCatalogRelation)) flags.add('catalog_access');
  return { relations, flags: [...flags].sort() };
}

/** Flags decided by a node of type `type` wherever it appears. */
function nodeFacts(type: string, body: Obj, flags: Set<QueryFlag>, qualified: Set<string>, unqualified: Set<string>, cteNames: Set<string>): void {
  switch (type) {
    case 'FuncCall': {
      const name = names(body.funcname).at(-1) ?? '';
      if (SERVER_FILE_FUNCTIONS.has(name)) flags.add('server_file_function');
      if (SLEEP_FUNCTIONS.has(name)) flags.add('sleep_function');
      if (name.startsWith('dblink')) flags.add('dblink');
      break;
    }
    case 'SelectStmt':
      if (body.op === 'SETOP_UNION') flags.add('union_select');
      if (Array.isArray(body.targetList) && body.targetList.some(isStarTarget)) flags.add('select_star');
      break;
    case 'UpdateStmt':
    case 'DeleteStmt':
      if (body.whereClause === undefined) flags.add('no_where_write');
      break;
    case 'CommonTableExpr': {
      const name = str(body.ctename);
      if (name) cteNames.add(name);
      break;
    }
    case 'DropStmt':
      if (DROPPED_RELATION_TYPES.has(str(body.removeType) ?? '') && Array.isArray(body.objects)) {
        for (const object of body.objects) {
          const parts = isObj(object) && isObj(object.List) ? names(object.List.items) : [];
          if (parts.length === 1) unqualified.add(parts[0]!);
          else if (parts.length > 1) qualified.add(parts.join('.'));
        }
      }
      break;
  }
}

/** Flags decided by the top-level statement type. */
function statementFlags(type: string, body: Obj, flags: Set<QueryFlag>): void {
  if (type === 'CopyStmt') {
    const program = body.is_program === true;
    const file = typeof body.filename === 'string';
    if (body.is_from === true) flags.add('copy_from');
    else flags.add('copy_to');
    if (program) flags.add('copy_program');
    else if (file) flags.add('copy_file');
    else if (body.is_from !== true) flags.add('copy_stdout');
  } else if (ROLE_STATEMENTS.has(type) || (type === 'RenameStmt' && body.renameType === 'OBJECT_ROLE')) {
    flags.add('role_change');
  } else if (/^(Create|Alter|Drop)/.test(type) || OTHER_DDL_STATEMENTS.has(type) || (type === 'SelectStmt' && body.intoClause !== undefined)) {
    flags.add('ddl');
  }
  if (type === 'CreateForeignServerStmt' && REMOTE_WRAPPERS.has(str(body.fdwname) ?? '')) flags.add('dblink');
  if (type === 'CreateExtensionStmt' && REMOTE_EXTENSIONS.has(str(body.extname) ?? '')) flags.add('dblink');
}

/** Appends the main queries (SELECT arms, UPDATE, DELETE) of a top-level statement to `out`. */
function collectMainQueries(type: string, body: Obj, out: Obj[]): void {
  const pending: [string, Obj][] = [[type, body]];
  while (pending.length > 0) {
    const [t, b] = pending.pop()!;
    if (t === 'SelectStmt') {
      if (b.op !== undefined && b.op !== 'SETOP_NONE') {
        if (isObj(b.larg)) pending.push(['SelectStmt', b.larg]);
        if (isObj(b.rarg)) pending.push(['SelectStmt', b.rarg]);
      } else {
        out.push(b);
      }
    } else if (t === 'UpdateStmt' || t === 'DeleteStmt') {
      out.push(b);
    } else if (QUERY_WRAPPERS.has(t)) {
      const inner = unwrap(b.query);
      if (inner) pending.push(inner);
    }
  }
}

/** `*` or `alias.*` in a SELECT list (`ResTarget.val` is a `ColumnRef` ending in `A_Star`). */
function isStarTarget(target: unknown): boolean {
  const res = isObj(target) && isObj(target.ResTarget) ? target.ResTarget : null;
  const ref = res && isObj(res.val) && isObj(res.val.ColumnRef) ? res.val.ColumnRef : null;
  return !!ref && Array.isArray(ref.fields) && ref.fields.some((f) => isObj(f) && 'A_Star' in f);
}

/** A constant expression: a constant, a cast constant, a list of them, or arithmetic on them. */
function isConstant(node: unknown, depth = 0): boolean {
  if (depth > 32) return false;
  if (Array.isArray(node)) return node.length > 0 && node.every((n) => isConstant(n, depth + 1));
  const entry = unwrap(node);
  if (!entry) return false;
  const [type, body] = entry;
  if (type === 'A_Const') return true;
  if (type === 'TypeCast') return isConstant(body.arg, depth + 1);
  if (type === 'List') return isConstant(body.items, depth + 1);
  if (type === 'A_Expr' && body.kind === 'AEXPR_OP') {
    return (body.lexpr === undefined || isConstant(body.lexpr, depth + 1)) && isConstant(body.rexpr, depth + 1);
  }
  return false;
}

/** A constant-vs-constant comparison or an OR with a constant operand anywhere in `condition`. */
function hasTautology(condition: unknown): boolean {
  const stack: unknown[] = [condition];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
      continue;
    }
    if (!isObj(value)) continue;
    const expr = isObj(value.A_Expr) ? value.A_Expr : null;
    if (expr && expr.lexpr !== undefined && isConstant(expr.lexpr) && isConstant(expr.rexpr)) return true;
    const bool = isObj(value.BoolExpr) ? value.BoolExpr : null;
    if (bool && bool.boolop === 'OR_EXPR' && Array.isArray(bool.args) && bool.args.some((a) => isConstant(a))) return true;
    for (const key in value) {
      const child = value[key];
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return false;
}

/** pg_catalog.*, information_schema.*, or an unqualified pg_* name (resolved in pg_catalog first). */
function isCatalogRelation(relation: string): boolean {
  const parts = relation.split('.');
  const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
  if (schema === 'pg_catalog' || schema === 'information_schema') return true;
  return parts.length === 1 && relation.startsWith('pg_');
}
