/**
 * One-pass, literal-free rewrite of a SQL text: the cache key of `QueryEnricher`, and the text it
 * hands to libpg-query.
 *
 * Source of truth for the lexical rules: PostgreSQL docs, "SQL Syntax → Lexical Structure"
 * (sql-syntax-lexical), and src/backend/parser/scan.l with `standard_conforming_strings = on`
 * (PostgreSQL's default since 9.1, and libpg-query's).
 */

/** What every string-like constant becomes: a one-character string, so fields stay non-empty. */
export const STRING_MARK = "'?'";
/** What every numeric constant becomes (`1`, not `0`: `float(0)` is a grammar error). */
export const NUMBER_MARK = '1';
/** What an unterminated string or dollar quote becomes (it must stay unterminated). */
const UNTERMINATED_STRING_MARK = "'?";
/** pgaudit's password placeholder (`CREATE ROLE r PASSWORD <REDACTED>`), not SQL. */
const REDACTED = '<REDACTED>';

const SPACE = 32;
const TAB = 9;
const LF = 10;
const VT = 11;
const FF = 12;
const CR = 13;
const QUOTE = 39; // '
const DQUOTE = 34; // "
const DOLLAR = 36; // $
const DOT = 46; // .
const DASH = 45; // -
const SLASH = 47; // /
const STAR = 42; // *
const BACKSLASH = 92;
const LT = 60; // <
const AMP = 38; // &

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isSpace = (c: number): boolean => c === SPACE || c === TAB || c === LF || c === CR || c === FF || c === VT;
/** scan.l `ident_start`: letters, `_`, and every non-ASCII character. */
const isIdentStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
/** scan.l `ident_cont`: ident_start plus digits and `$`. */
const isIdentCont = (c: number): boolean => isIdentStart(c) || isDigit(c) || c === DOLLAR;
const isAlnumUnderscore = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/**
 * Rewrites `sql` so that statements differing only in constants give the same text:
 * - string constants (`'...'` with `''` escapes, `E'...'` with backslash escapes, `B'...'`,
 *   `X'...'`, `U&'...'`, dollar-quoted `$tag$...$tag$`, and strings continued across a
 *   newline) become `'?'`, and `N'...'` becomes `N'?'`; pgaudit's `<REDACTED>` placeholder becomes `'?'` too, so redacted
 *   `CREATE ROLE ... PASSWORD <REDACTED>` statements still parse;
 * - numeric constants (`42`, `1_000`, `0x1F`, `1.5`, `.5`, `1e-3`) become `1`;
 * - comments (`-- ...`, nested `/* ... *\/`) are removed; every run of whitespace becomes one
 *   space; leading and trailing whitespace are dropped;
 * - identifiers (plain and `"quoted"`), keywords, operators and `$n` parameters are kept verbatim.
 *
 * The result is still valid SQL whenever the input was (it is what gets parsed). An unterminated
 * string or dollar quote runs to the end of the text and becomes `'?` (still unterminated), an
 * unterminated block comment becomes `/*`, an unterminated quoted identifier is kept: text that
 * does not lex keeps not lexing. Cost: one pass, O(length). Never throws.
 *
 * Example: `stripSqlLiterals("SELECT * FROM t WHERE id = 42 AND name = 'bob' -- x")` is
 * `"SELECT * FROM t WHERE id = 1 AND name = '?'"`.
 */
export function stripSqlLiterals(sql: string): string {
  const n = sql.length;
  const out: string[] = [];
  let pendingSpace = false;
  const emit = (piece: string): void => {
    if (pendingSpace && out.length > 0) out.push(' ');
    pendingSpace = false;
    out.push(piece);
  };

  let i = 0;
  while (i >= 0 && i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      pendingSpace = true;
      i++;
    } else if (c === DASH && sql.charCodeAt(i + 1) === DASH) {
      i = lineCommentEnd(sql, i);
      pendingSpace = true;
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      i = blockCommentEnd(sql, i);
      if (i < 0) emit('/*');
      pendingSpace = true;
    } else if (c === QUOTE) {
      i = stringEnd(sql, i + 1, false);
      emit(i < 0 ? UNTERMINATED_STRING_MARK : STRING_MARK);
    } else if (c === DQUOTE) {
      const end = quotedIdentEnd(sql, i + 1);
      emit(sql.slice(i, end));
      i = end;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentCont(sql.charCodeAt(j))) j++;
      const next = sql.charCodeAt(j);
      const word = j - i === 1 ? sql[i]!.toLowerCase() : '';
      if (next === QUOTE && (word === 'e' || word === 'b' || word === 'x' || word === 'n')) {
        i = stringEnd(sql, j + 1, word === 'e');
        // N'...' is a typed constant (national character): keep the type, drop the value.
        emit(i < 0 ? UNTERMINATED_STRING_MARK : word === 'n' ? `N${STRING_MARK}` : STRING_MARK);
      } else if (word === 'u' && next === AMP && sql.charCodeAt(j + 1) === QUOTE) {
        i = stringEnd(sql, j + 2, false);
        emit(i < 0 ? UNTERMINATED_STRING_MARK : STRING_MARK);
      } else if (word === 'u' && next === AMP && sql.charCodeAt(j + 1) === DQUOTE) {
        const end = quotedIdentEnd(sql, j + 2);
        emit(sql.slice(i, end));
        i = end;
      } else {
        emit(sql.slice(i, j));
        i = j;
      }
    } else if (isDigit(c) || (c === DOT && isDigit(sql.charCodeAt(i + 1)))) {
      i = numberEnd(sql, i);
      emit(NUMBER_MARK);
    } else if (c === DOLLAR) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        let j = i + 1;
        while (j < n && isDigit(sql.charCodeAt(j))) j++;
        emit(sql.slice(i, j));
        i = j;
      } else {
        const tagEnd = dollarTagEnd(sql, i);
        if (tagEnd < 0) {
          emit('$');
          i++;
        } else {
          const tag = sql.slice(i, tagEnd);
          const close = sql.indexOf(tag, tagEnd);
          i = close < 0 ? -1 : close + tag.length;
          emit(close < 0 ? UNTERMINATED_STRING_MARK : STRING_MARK);
        }
      }
    } else if (c === LT && sql.startsWith(REDACTED, i)) {
      i += REDACTED.length;
      emit(STRING_MARK);
    } else {
      emit(sql[i]!);
      i++;
    }
  }
  return out.join('');
}

/** Index after a `--` comment (its newline is left to the whitespace rule). */
function lineCommentEnd(sql: string, start: number): number {
  let j = start + 2;
  while (j < sql.length) {
    const c = sql.charCodeAt(j);
    if (c === LF || c === CR) break;
    j++;
  }
  return j;
}

/** Index after a block comment starting at `start` (PostgreSQL block comments nest), or -1 when unterminated. */
function blockCommentEnd(sql: string, start: number): number {
  let depth = 1;
  let j = start + 2;
  while (j < sql.length && depth > 0) {
    const c = sql.charCodeAt(j);
    if (c === SLASH && sql.charCodeAt(j + 1) === STAR) {
      depth++;
      j += 2;
    } else if (c === STAR && sql.charCodeAt(j + 1) === SLASH) {
      depth--;
      j += 2;
    } else {
      j++;
    }
  }
  return depth > 0 ? -1 : j;
}

/**
 * Index after a quoted string whose body starts at `bodyStart` (after the opening quote),
 * including any continuation segments: scan.l `quotecontinue` joins `'a'<newline>'b'` into one
 * constant when only horizontal whitespace precedes the newline and only whitespace or `--`
 * comments follow it. Returns -1 when the string is unterminated.
 */
function stringEnd(sql: string, bodyStart: number, backslashEscapes: boolean): number {
  let end = quotedBodyEnd(sql, bodyStart, backslashEscapes);
  for (;;) {
    if (end < 0) return -1;
    const next = continuationStart(sql, end);
    if (next < 0) return end;
    end = quotedBodyEnd(sql, next + 1, backslashEscapes);
  }
}

/** Index after the closing quote of a body starting at `j`, or -1 when unterminated. */
function quotedBodyEnd(sql: string, j: number, backslashEscapes: boolean): number {
  const n = sql.length;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (c === BACKSLASH && backslashEscapes) {
      j += 2;
    } else if (c === QUOTE) {
      if (sql.charCodeAt(j + 1) !== QUOTE) return j + 1;
      j += 2;
    } else {
      j++;
    }
  }
  return -1;
}

/** Index of the quote that continues a string ending at `end`, or -1. */
function continuationStart(sql: string, end: number): number {
  let j = end;
  while (sql.charCodeAt(j) === SPACE || sql.charCodeAt(j) === TAB || sql.charCodeAt(j) === FF) j++;
  const c = sql.charCodeAt(j);
  if (c !== LF && c !== CR) return -1;
  for (;;) {
    const d = sql.charCodeAt(j);
    if (isSpace(d)) j++;
    else if (d === DASH && sql.charCodeAt(j + 1) === DASH) j = lineCommentEnd(sql, j);
    else break;
  }
  return sql.charCodeAt(j) === QUOTE ? j : -1;
}

/** Index after a quoted identifier whose body starts at `j` (`""` is an escaped quote). */
function quotedIdentEnd(sql: string, j: number): number {
  const n = sql.length;
  while (j < n) {
    if (sql.charCodeAt(j) === DQUOTE) {
      if (sql.charCodeAt(j + 1) !== DQUOTE) return j + 1;
      j += 2;
    } else {
      j++;
    }
  }
  return n;
}

/** Index after a numeric constant starting at `i` (scan.l decinteger/hexinteger/numeric/real). */
function numberEnd(sql: string, i: number): number {
  const n = sql.length;
  let j = i;
  const c1 = sql.charCodeAt(i + 1);
  const radixPrefix = c1 === 120 || c1 === 88 || c1 === 111 || c1 === 79 || c1 === 98 || c1 === 66; // xXoObB
  if (sql.charCodeAt(i) === 48 && radixPrefix && isAlnumUnderscore(sql.charCodeAt(i + 2))) {
    j = i + 2;
    while (j < n && isAlnumUnderscore(sql.charCodeAt(j))) j++;
    return j;
  }
  while (j < n && (isDigit(sql.charCodeAt(j)) || sql.charCodeAt(j) === 95)) j++;
  if (sql.charCodeAt(j) === DOT && sql.charCodeAt(j + 1) !== DOT) {
    j++;
    while (j < n && (isDigit(sql.charCodeAt(j)) || sql.charCodeAt(j) === 95)) j++;
  }
  const e = sql.charCodeAt(j);
  if (e === 101 || e === 69) {
    let k = j + 1;
    const sign = sql.charCodeAt(k);
    if (sign === 43 || sign === DASH) k++;
    if (isDigit(sql.charCodeAt(k))) {
      j = k;
      while (j < n && (isDigit(sql.charCodeAt(j)) || sql.charCodeAt(j) === 95)) j++;
    }
  }
  return j;
}

/** Index after a dollar-quote tag (`$$` or `$name$`) starting at `i`, or -1 when there is none. */
function dollarTagEnd(sql: string, i: number): number {
  let j = i + 1;
  if (sql.charCodeAt(j) === DOLLAR) return j + 1;
  if (!isIdentStart(sql.charCodeAt(j))) return -1;
  while (j < sql.length) {
    const c = sql.charCodeAt(j);
    if (c === DOLLAR) return j + 1;
    if (!isIdentStart(c) && !isDigit(c)) return -1;
    j++;
  }
  return -1;
}
