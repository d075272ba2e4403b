import { scanSync, type ScanToken } from 'libpg-query';

/** Keywords after which a relation name follows (`FROM t`, `JOIN t`, `UPDATE t`, `INTO t`, ...). */
const RELATION_KEYWORDS = new Set(['FROM', 'JOIN', 'UPDATE', 'INTO', 'TABLE', 'TRUNCATE', 'COPY']);
/** Keywords that may stand between such a keyword and the name. */
const SKIPPABLE = new Set(['ONLY', 'LATERAL', 'IF', 'NOT', 'EXISTS']);
/** Tokens that may precede a statement-starting UPDATE (not `FOR UPDATE`, `ON UPDATE`, `DO UPDATE`). */
const STATEMENT_BOUNDARIES = new Set(['', ';', '(', ')']);
/** Keywords that open a query inside parentheses: a FROM there names relations. */
const QUERY_STARTS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);

/** A name part: a plain identifier, a quoted identifier, or a non-reserved keyword (scan.l ColId). */
function isNamePart(t: ScanToken | undefined): boolean {
  if (!t) return false;
  if (t.keywordName === 'UNRESERVED_KEYWORD' || t.keywordName === 'COL_NAME_KEYWORD') return true;
  return t.keywordName === 'NO_KEYWORD' && (t.tokenName === 'IDENT' || t.text.startsWith('"'));
}

/** Folds a name part as PostgreSQL does: unquoted ASCII to lower case; quoted verbatim. */
function fold(t: ScanToken): string {
  if (t.text.startsWith('"')) return t.text.slice(1, -1).replaceAll('""', '"');
  return t.text.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * Best-effort relation names of a statement that does not parse, from PostgreSQL's lexer
 * (libpg-query `scanSync`): each `name` or `schema.name` after FROM (not inside function-call
 * parentheses such as `extract(year FROM x)`, not `IS DISTINCT FROM`, not `FROM STDIN`), JOIN,
 * a statement's UPDATE (not `FOR UPDATE`), INTO, TABLE, TRUNCATE, COPY, and the
 * comma-separated names (with an optional alias) that follow it. Sorted and deduplicated.
 * Meant for text whose constants were already replaced (`stripSqlLiterals`): names only, no
 * values. When the text does not lex (an unterminated quote or comment, which runs to the end),
 * the part before it is scanned. Never throws.
 */
export function scanRelations(sql: string): string[] {
  const tokens = scanOrNull(sql) ?? scanOrNull(sql.slice(0, unterminatedStart(sql)));
  if (!tokens) return [];
  const found = new Set<string>();
  const parens: boolean[] = []; // per open parenthesis: does it hold a query?
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') parens.push(QUERY_STARTS.has(tokens[i + 1]?.text.toUpperCase() ?? ''));
    else if (t.text === ')') parens.pop();
    const keyword = t.keywordName === 'NO_KEYWORD' ? '' : t.text.toUpperCase();
    if (!RELATION_KEYWORDS.has(keyword)) continue;
    const previous = tokens[i - 1]?.text.toUpperCase() ?? '';
    if (keyword === 'FROM' && ((parens.length > 0 && !parens[parens.length - 1]) || previous === 'DISTINCT')) continue;
    if (keyword === 'FROM' && tokens[i + 1]?.text.toUpperCase() === 'STDIN') continue;
    if (keyword === 'UPDATE' && !STATEMENT_BOUNDARIES.has(previous)) continue;
    let j = i + 1;
    while (SKIPPABLE.has(tokens[j]?.text.toUpperCase() ?? '')) j++;
    for (;;) {
      if (!isNamePart(tokens[j])) break;
      const parts = [fold(tokens[j]!)];
      j++;
      while (tokens[j]?.text === '.' && isNamePart(tokens[j + 1])) {
        parts.push(fold(tokens[j + 1]!));
        j += 2;
      }
      found.add(parts.join('.'));
      if (tokens[j]?.text.toUpperCase() === 'AS') j++;
      if (isNamePart(tokens[j]) && tokens[j + 1]?.text === ',') j++;
      if (tokens[j]?.text !== ',') break;
      j++;
    }
  }
  return [...found].sort();
}

/** The lexer's tokens, or null when the text does not lex. */
function scanOrNull(sql: string): ScanToken[] | null {
  try {
    return scanSync(sql).tokens;
  } catch {
    return null;
  }
}

/** Where an unterminated quote or comment may start: the last `'`, `"` or `/*`. */
function unterminatedStart(sql: string): number {
  return Math.max(sql.lastIndexOf("'"), sql.lastIndexOf('"'), sql.lastIndexOf('/*'), 0);
}
