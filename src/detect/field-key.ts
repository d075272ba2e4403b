import { suggestionSuffix } from '../lib/did-you-mean.js';
import { fieldPathType, unknownFieldProblem } from './field-paths.js';

/** Modifiers that decide how a field is compared (at most one per condition; none = equality). */
export const OPERATORS = ['contains', 'startswith', 'endswith', 're', 'cidr', 'gt', 'gte', 'lt', 'lte', 'exists', 'object_class'] as const;
export type Operator = (typeof OPERATORS)[number] | 'eq';

/** Every modifier a field key may carry: operators plus `in_list`, `all` and `cased`. */
export const MODIFIERS: readonly string[] = [...OPERATORS, 'in_list', 'all', 'cased'];

/** Operators `in_list` can feed with list values. */
const LIST_OPERATORS: ReadonlySet<Operator> = new Set(['eq', 'contains', 'startswith', 'endswith', 're', 'cidr']);
/** Operators whose match is a string comparison (where `cased` means something). */
const STRING_OPERATORS: ReadonlySet<Operator> = new Set(['eq', 'contains', 'startswith', 'endswith', 're']);

/** A parsed selection key `field|mod|mod`. */
export interface FieldKey {
  path: string;
  operator: Operator;
  /** values name lists (`in_list`) */
  inList: boolean;
  /** every value must match (`all`), instead of any */
  all: boolean;
  /** string matches are case-sensitive (`cased`) */
  cased: boolean;
}

/**
 * Parses a selection key such as `application_name|contains|cased` (Sigma-style modifiers).
 * @returns the key, or a problem: unknown field (with a "did you mean" among field paths),
 *   unknown modifier (among `MODIFIERS`), a repeated modifier, two operators, or a combination
 *   that means nothing (`in_list` with `gt`, `cased` with `cidr`, `all` with `exists`)
 */
export function parseFieldKey(key: string): FieldKey | { problem: string } {
  const [path = '', ...modifiers] = key.split('|');
  if (fieldPathType(path) === null) return { problem: unknownFieldProblem(path) };
  const parsed: FieldKey = { path, operator: 'eq', inList: false, all: false, cased: false };
  const seen = new Set<string>();
  for (const modifier of modifiers) {
    if (seen.has(modifier)) return { problem: `modifier "${modifier}" is repeated` };
    seen.add(modifier);
    if (modifier === 'in_list') parsed.inList = true;
    else if (modifier === 'all') parsed.all = true;
    else if (modifier === 'cased') parsed.cased = true;
    else if ((OPERATORS as readonly string[]).includes(modifier)) {
      if (parsed.operator !== 'eq') return { problem: `modifiers "${parsed.operator}" and "${modifier}" cannot be combined (one comparison per field condition)` };
      parsed.operator = modifier as Operator;
    } else return { problem: `unknown modifier "${modifier}"${suggestionSuffix(modifier, MODIFIERS)}` };
  }
  if (parsed.inList && !LIST_OPERATORS.has(parsed.operator)) return { problem: `in_list cannot be combined with ${parsed.operator}` };
  if (parsed.cased && !STRING_OPERATORS.has(parsed.operator)) return { problem: `cased applies to string matches only, not ${parsed.operator}` };
  if (parsed.all && parsed.operator === 'exists') return { problem: 'all cannot be combined with exists' };
  return parsed;
}
