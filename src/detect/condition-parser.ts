import { suggestionSuffix } from '../lib/did-you-mean.js';

/** A parsed `condition` (Sigma grammar subset). */
export type ConditionNode =
  | { type: 'ref'; name: string }
  | { type: 'not'; operand: ConditionNode }
  | { type: 'and' | 'or'; operands: ConditionNode[] }
  /** `1 of sel_*` (one) / `all of sel_*` (all) / `... of them`: `names` are the selections the pattern matched */
  | { type: 'quantifier'; quantifier: 'one' | 'all'; pattern: string; names: string[] };

/** Words a selection may not be named, because the condition grammar uses them. */
export const CONDITION_KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'of', 'them', 'all', 'any', '1']);

/**
 * Parses a rule condition. Grammar (precedence not > and > or, left-associative, keywords
 * case-insensitive, selection names case-sensitive):
 * ```
 * or    := and ('or' and)*
 * and   := unary ('and' unary)*
 * unary := 'not' unary | '(' or ')' | ('1' | 'any' | 'all') 'of' (pattern | 'them') | name
 * ```
 * A pattern is a name with `*` wildcards (`sel_*`); it must match at least one selection.
 *
 * @param text the condition as written, e.g. `sel_fail and not (filter_local or filter_app)`
 * @param selections the rule's selection names
 * @returns the tree, or a one-line problem (unknown selection with a "did you mean", syntax error with its position)
 */
export function parseCondition(text: string, selections: readonly string[]): ConditionNode | { problem: string } {
  const tokens = tokenize(text);
  if ('problem' in tokens) return tokens;
  const parser = new Parser(tokens, selections);
  try {
    if (tokens.length === 0) return { problem: 'empty condition' };
    const node = parser.parseOr();
    if (!parser.atEnd()) parser.fail(`unexpected "${parser.peek()?.text}"`);
    return node;
  } catch (error) {
    if (error instanceof ConditionSyntaxError) return { problem: error.message };
    throw error;
  }
}

/** Every selection name the condition refers to (directly or through a pattern). */
export function conditionSelections(node: ConditionNode): string[] {
  switch (node.type) {
    case 'ref':
      return [node.name];
    case 'not':
      return conditionSelections(node.operand);
    case 'quantifier':
      return node.names;
    default:
      return [...new Set(node.operands.flatMap(conditionSelections))];
  }
}

interface Token {
  text: string;
  /** 1-based column in the condition text */
  column: number;
}

class ConditionSyntaxError extends Error {}

function tokenize(text: string): Token[] | { problem: string } {
  const tokens: Token[] = [];
  const pattern = /\s*(?:([()])|([A-Za-z0-9_*.-]+)|(\S))/gy;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < text.length && (match = pattern.exec(text)) !== null) {
    const column = match.index + match[0].length - (match[1] ?? match[2] ?? match[3] ?? '').length + 1;
    if (match[3] !== undefined) return { problem: `unexpected character "${match[3]}" at column ${column}` };
    const value = match[1] ?? match[2];
    if (value !== undefined) tokens.push({ text: value, column });
  }
  return tokens;
}

class Parser {
  private position = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly selections: readonly string[],
  ) {}

  atEnd(): boolean {
    return this.position >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.position];
  }

  fail(message: string): never {
    const token = this.peek();
    throw new ConditionSyntaxError(token ? `${message} at column ${token.column}` : `${message} at the end of the condition`);
  }

  private keyword(word: string): boolean {
    const token = this.peek();
    if (token && token.text.toLowerCase() === word) {
      this.position++;
      return true;
    }
    return false;
  }

  parseOr(): ConditionNode {
    const operands = [this.parseAnd()];
    while (this.keyword('or')) operands.push(this.parseAnd());
    return operands.length === 1 ? (operands[0] as ConditionNode) : { type: 'or', operands };
  }

  private parseAnd(): ConditionNode {
    const operands = [this.parseUnary()];
    while (this.keyword('and')) operands.push(this.parseUnary());
    return operands.length === 1 ? (operands[0] as ConditionNode) : { type: 'and', operands };
  }

  private parseUnary(): ConditionNode {
    if (this.keyword('not')) return { type: 'not', operand: this.parseUnary() };
    const token = this.peek();
    if (token === undefined) this.fail('expected a selection');
    if (token.text === '(') {
      this.position++;
      const inner = this.parseOr();
      if (this.peek()?.text !== ')') this.fail('expected ")"');
      this.position++;
      return inner;
    }
    const word = token.text.toLowerCase();
    if ((word === '1' || word === 'any' || word === 'all') && this.tokens[this.position + 1]?.text.toLowerCase() === 'of') {
      this.position += 2;
      return this.parseQuantifier(word === 'all' ? 'all' : 'one');
    }
    if (token.text === ')' || CONDITION_KEYWORDS.has(word)) this.fail(`unexpected "${token.text}"`);
    this.position++;
    if (!this.selections.includes(token.text)) {
      this.position--;
      this.fail(`unknown selection "${token.text}"${suggestionSuffix(token.text, this.selections)}`);
    }
    return { type: 'ref', name: token.text };
  }

  private parseQuantifier(quantifier: 'one' | 'all'): ConditionNode {
    const token = this.peek();
    if (token === undefined || token.text === '(' || token.text === ')') this.fail('expected a selection pattern or "them" after "of"');
    this.position++;
    const pattern = token.text;
    let names: string[];
    if (pattern.toLowerCase() === 'them') names = [...this.selections];
    else {
      const regex = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
      names = this.selections.filter((name) => regex.test(name));
    }
    if (names.length === 0) {
      this.position--;
      this.fail(`"${pattern}" matches no selection${suggestionSuffix(pattern, this.selections)}`);
    }
    return { type: 'quantifier', quantifier, pattern, names };
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\-]/g, '\\$&');
}
