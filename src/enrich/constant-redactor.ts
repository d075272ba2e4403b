import { scanSync, type ScanToken } from 'libpg-query';

/**
 * Over-approximates "has a constant or comment token": a quote, a comment opener, a `$` that does
 * not start a `$n` parameter (dollar quotes), or a digit / `.digit` not continuing a word or `$n`.
 * Text it rejects cannot hold one, so the lexer call is skipped.
 */
const MAY_HOLD_CONSTANT = /'|--|\/\*|\$(?!\d)|(?<![\w$])\.?\d/;

/**
 * Second redaction pass over libpg-query's normalised text, with PostgreSQL's own lexer
 * (libpg-query `scanSync`, i.e. src/backend/parser/scan.l).
 *
 * `normalizeSync` replaces the constants the grammar keeps as `A_Const` nodes, but utility
 * statements keep some literals as plain strings and leave them in the text (`COPY t TO PROGRAM
 * '...'`, `ALTER SYSTEM SET x = '...'`, `COMMENT ON ... IS '...'`, `CREATE TABLE ... DEFAULT ...`),
 * and comments are left as written. This pass replaces every remaining constant token by the next
 * free `$n` and deletes every comment, so the text it returns holds no constant of its input.
 */
export class ConstantRedactor {
  private constructor(
    /** token types of constants: SCONST, USCONST, BCONST, XCONST, ICONST, FCONST */
    private readonly constantTypes: ReadonlySet<number>,
    /** token types of `--` and block comments */
    private readonly commentTypes: ReadonlySet<number>,
    /** token type of a `$n` parameter */
    private readonly paramType: number,
  ) {}

  /**
   * Learns the lexer's token type numbers by scanning a probe text (so a libpg-query release that
   * renumbers its tokens cannot silently disable redaction).
   * Requires libpg-query's `loadModule()` to have resolved.
   * @throws Error when the probe does not yield the expected tokens (an incompatible libpg-query).
   */
  static create(): ConstantRedactor {
    const probe = "SELECT 'a', U&'b', B'1', X'f', 2, 2.5, $1 /* c */ -- d\n";
    const tokens = scanSync(probe).tokens;
    const typeOf = (text: string): number => {
      const token = tokens.find((t) => t.text === text);
      if (!token) throw new Error(`libpg-query scanner did not yield a ${JSON.stringify(text)} token`);
      return token.tokenType;
    };
    const constants = new Set(["'a'", "U&'b'", "B'1'", "X'f'", '2', '2.5'].map(typeOf));
    const comments = new Set(['/* c */', '-- d'].map(typeOf));
    return new ConstantRedactor(constants, comments, typeOf('$1'));
  }

  /**
   * Returns `sql` with every constant token replaced by `$n` (numbered after the highest `$n`
   * already present) and every comment removed; other text is kept byte for byte.
   * Example: `redact("COPY t TO PROGRAM 'gzip > x' -- y")` is `"COPY t TO PROGRAM $1 "`.
   * @throws Error (from the scanner) when `sql` does not lex, e.g. an unterminated quote.
   */
  redact(sql: string): string {
    if (!MAY_HOLD_CONSTANT.test(sql)) return sql;
    const tokens: ScanToken[] = scanSync(sql).tokens;
    if (!tokens.some((t) => this.constantTypes.has(t.tokenType) || this.commentTypes.has(t.tokenType))) return sql;
    let next = 1;
    for (const t of tokens) {
      if (t.tokenType === this.paramType) next = Math.max(next, Number(t.text.slice(1)) + 1);
    }
    // Token offsets are UTF-8 byte offsets.
    const bytes = Buffer.from(sql, 'utf8');
    const pieces: string[] = [];
    let pos = 0;
    for (const t of tokens) {
      const constant = this.constantTypes.has(t.tokenType);
      if (!constant && !this.commentTypes.has(t.tokenType)) continue;
      pieces.push(bytes.toString('utf8', pos, t.start));
      if (constant) pieces.push(`$${next++}`);
      pos = t.end;
    }
    pieces.push(bytes.toString('utf8', pos));
    return pieces.join('');
  }
}
