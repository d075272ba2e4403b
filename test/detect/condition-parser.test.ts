import { describe, expect, it } from 'vitest';
import type { EventPredicate, MatchContext } from '../../src/detect/compiled-rule.js';
import { compileCondition, conditionKinds } from '../../src/detect/condition-compiler.js';
import { conditionSelections, parseCondition } from '../../src/detect/condition-parser.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { makeEvent } from './rule-fixtures.js';

const NAMES = ['a', 'b', 'c', 'sel_x', 'sel_y', 'filter_z'];
const context: MatchContext = { lists: new Map(), classesOf: () => [] };

/** Selections that are true when the event's `user` field (a string of names) contains their name. */
const selections = new Map<string, EventPredicate>(NAMES.map((name) => [name, (event: AccessEvent) => (event.user ?? '').split(',').includes(name)]));

function evaluate(condition: string, trueSelections: string[]): boolean {
  const node = parseCondition(condition, NAMES);
  if ('problem' in node) throw new Error(node.problem);
  return compileCondition(node, selections)(makeEvent({ user: trueSelections.join(',') }), context);
}

function problem(condition: string): string {
  const node = parseCondition(condition, NAMES);
  return 'problem' in node ? node.problem : 'parsed';
}

describe('condition grammar', () => {
  it('binds not tighter than and, and tighter than or', () => {
    // a or b and c == a or (b and c)
    expect(evaluate('a or b and c', ['a'])).toBe(true);
    expect(evaluate('a or b and c', ['b'])).toBe(false);
    expect(evaluate('a or b and c', ['b', 'c'])).toBe(true);
    // not a and b == (not a) and b
    expect(evaluate('not a and b', ['b'])).toBe(true);
    expect(evaluate('not a and b', ['a', 'b'])).toBe(false);
    expect(evaluate('not a and b', [])).toBe(false);
  });

  it('parentheses override precedence', () => {
    expect(evaluate('(a or b) and c', ['a'])).toBe(false);
    expect(evaluate('(a or b) and c', ['a', 'c'])).toBe(true);
    expect(evaluate('not (a or b)', [])).toBe(true);
    expect(evaluate('not (a or b)', ['b'])).toBe(false);
    expect(evaluate('not not a', ['a'])).toBe(true);
  });

  it('1 of / all of a pattern, and of them', () => {
    expect(evaluate('1 of sel_*', ['sel_y'])).toBe(true);
    expect(evaluate('1 of sel_*', ['a'])).toBe(false);
    expect(evaluate('all of sel_*', ['sel_x'])).toBe(false);
    expect(evaluate('all of sel_*', ['sel_x', 'sel_y'])).toBe(true);
    expect(evaluate('all of sel_* and not filter_z', ['sel_x', 'sel_y', 'filter_z'])).toBe(false);
    expect(evaluate('any of them', ['c'])).toBe(true);
    expect(evaluate('ALL OF them', NAMES)).toBe(true);
    expect(evaluate('all of them', ['a', 'b'])).toBe(false);
  });

  it('lists the selections a condition uses', () => {
    const node = parseCondition('a and (1 of sel_*) and not filter_z', NAMES);
    if ('problem' in node) throw new Error(node.problem);
    expect(conditionSelections(node)).toEqual(['a', 'sel_x', 'sel_y', 'filter_z']);
  });
});

describe('condition problems', () => {
  it('names an unknown selection with a suggestion', () => {
    expect(problem('sel_x and sel_z')).toBe('unknown selection "sel_z" (did you mean "sel_x"?) at column 11');
    expect(problem('1 of fil_*')).toBe('"fil_*" matches no selection at column 6');
  });

  it('reports syntax errors with their column', () => {
    expect(problem('a and')).toBe('expected a selection at the end of the condition');
    expect(problem('(a or b')).toBe('expected ")" at the end of the condition');
    expect(problem('a b')).toBe('unexpected "b" at column 3');
    expect(problem('a && b')).toBe('unexpected character "&" at column 3');
    expect(problem('a or )')).toBe('unexpected ")" at column 6');
    expect(problem('  ')).toBe('empty condition');
  });
});

describe('condition kinds', () => {
  const kinds: Record<string, ReadonlySet<string> | null> = { a: new Set(['audit']), b: new Set(['error', 'audit']), c: null, sel_x: new Set(['auth_failure']), sel_y: new Set(['authorization']), filter_z: null };
  const kindsOf = (condition: string): string[] | null => {
    const node = parseCondition(condition, NAMES);
    if ('problem' in node) throw new Error(node.problem);
    const set = conditionKinds(node, (name) => kinds[name] ?? null);
    return set === null ? null : [...set].sort();
  };

  it('intersects under and, unions under or, and gives up under not', () => {
    expect(kindsOf('a and b')).toEqual(['audit']);
    expect(kindsOf('a and not filter_z')).toEqual(['audit']);
    expect(kindsOf('a or sel_x')).toEqual(['audit', 'auth_failure']);
    expect(kindsOf('a or c')).toBeNull();
    expect(kindsOf('not a')).toBeNull();
    expect(kindsOf('1 of sel_*')).toEqual(['auth_failure', 'authorization']);
    expect(kindsOf('c and b')).toEqual(['audit', 'error']);
  });
});
