import type { AccessEvent } from '../domain/access-event.js';
import type { EventPredicate } from './compiled-rule.js';
import type { ConditionNode } from './condition-parser.js';
import type { Residual } from './dispatch-table.js';

/** A pure test of one event. */
type Test = (event: AccessEvent) => boolean;

/**
 * Compiles a parsed condition to one predicate over the rule's selection predicates (closures only,
 * short-circuit AND/OR; a lone selection reference is that selection's predicate itself).
 * @param selections every name the condition refers to must be present (guaranteed by `parseCondition`)
 */
export function compileCondition(node: ConditionNode, selections: ReadonlyMap<string, EventPredicate>): EventPredicate {
  switch (node.type) {
    case 'ref':
      return selections.get(node.name) as EventPredicate;
    case 'not': {
      const operand = compileCondition(node.operand, selections);
      return (event, context) => !operand(event, context);
    }
    case 'quantifier':
      return combine(node.quantifier === 'all' ? 'and' : 'or', node.names.map((name) => selections.get(name) as EventPredicate));
    default:
      return combine(node.type, node.operands.map((operand) => compileCondition(operand, selections)));
  }
}

/**
 * The event kinds a condition can ever match, or null when it may match any kind: a selection's
 * kinds come from its plain `kind:` equality; AND intersects, OR unions, NOT gives any.
 */
export function conditionKinds(node: ConditionNode, kindsOf: (selection: string) => ReadonlySet<string> | null): ReadonlySet<string> | null {
  switch (node.type) {
    case 'ref':
      return kindsOf(node.name);
    case 'not':
      return null;
    case 'quantifier':
      return merge(node.quantifier === 'all' ? 'and' : 'or', node.names.map(kindsOf));
    default:
      return merge(node.type, node.operands.map((operand) => conditionKinds(operand, kindsOf)));
  }
}

/**
 * A condition specialised to an event's dispatch values, from its selections' residuals (see
 * `CompiledSelection.residual`): constants fold (`a and false` → false, `a or true` → true,
 * `not true` → false), a single remaining test is returned as is, several are combined.
 */
export function conditionResidual(node: ConditionNode, residualOf: (selection: string) => Residual): Residual {
  switch (node.type) {
    case 'ref':
      return residualOf(node.name);
    case 'not': {
      const operand = conditionResidual(node.operand, residualOf);
      return typeof operand === 'boolean' ? !operand : (event) => !operand(event);
    }
    case 'quantifier':
      return foldResiduals(node.quantifier === 'all' ? 'and' : 'or', node.names.map(residualOf));
    default:
      return foldResiduals(node.type, node.operands.map((operand) => conditionResidual(operand, residualOf)));
  }
}

/** AND / OR of residuals with constants folded. */
export function foldResiduals(type: 'and' | 'or', parts: Residual[]): Residual {
  const absorbing = type === 'or';
  const tests: Test[] = [];
  for (const part of parts) {
    if (part === absorbing) return absorbing;
    if (typeof part !== 'boolean') tests.push(part);
  }
  if (tests.length === 0) return !absorbing;
  if (tests.length === 1) return tests[0] as Test;
  if (type === 'and') {
    return (event) => {
      for (const test of tests) if (!test(event)) return false;
      return true;
    };
  }
  return (event) => {
    for (const test of tests) if (test(event)) return true;
    return false;
  };
}

function merge(type: 'and' | 'or', sets: (ReadonlySet<string> | null)[]): ReadonlySet<string> | null {
  if (type === 'or') {
    if (sets.some((s) => s === null)) return null;
    return new Set(sets.flatMap((s) => [...(s as ReadonlySet<string>)]));
  }
  const known = sets.filter((s): s is ReadonlySet<string> => s !== null);
  if (known.length === 0) return null;
  const [first, ...rest] = known as [ReadonlySet<string>, ...ReadonlySet<string>[]];
  return new Set([...first].filter((kind) => rest.every((s) => s.has(kind))));
}

function combine(type: 'and' | 'or', predicates: EventPredicate[]): EventPredicate {
  const [a, b] = predicates as [EventPredicate, EventPredicate | undefined];
  if (predicates.length === 1) return a;
  if (type === 'and') {
    if (predicates.length === 2) return (event, context) => a(event, context) && (b as EventPredicate)(event, context);
    return (event, context) => {
      for (const predicate of predicates) if (!predicate(event, context)) return false;
      return true;
    };
  }
  if (predicates.length === 2) return (event, context) => a(event, context) || (b as EventPredicate)(event, context);
  return (event, context) => {
    for (const predicate of predicates) if (predicate(event, context)) return true;
    return false;
  };
}
