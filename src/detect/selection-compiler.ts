import type { AccessEvent } from '../domain/access-event.js';
import { describe, type PathProblem } from '../lib/zod-problems.js';
import type { EventPredicate } from './compiled-rule.js';
import { canonicalJson } from './canonical-json.js';
import { type ConditionEnv, compileFieldCondition } from './field-condition.js';

/** A compiled selection: its predicate, the event kinds it can match (null = any) and its canonical text. */
export interface CompiledSelection {
  predicate: EventPredicate;
  kinds: ReadonlySet<string> | null;
  /** canonical JSON of the definition: identical selections across rules share one predicate */
  canonical: string;
}

type Test = (event: AccessEvent) => boolean;

/**
 * Compiles Sigma-style selections (rules-design.md "Rule YAML"): a map is the AND of its field
 * conditions, a list of maps the OR of the maps. Selections with the same canonical JSON share one
 * predicate across every rule of the set, and each predicate remembers its result for the last
 * event it saw, so a selection used by many rules is evaluated once per event.
 */
export class SelectionCompiler {
  private readonly shared = new Map<string, CompiledSelection>();

  constructor(private readonly env: ConditionEnv) {}

  /** Number of distinct selections compiled so far. */
  get size(): number {
    return this.shared.size;
  }

  /**
   * Compiles one selection definition.
   * @param definition the YAML value: a map of `field|mod: value(s)`, or a non-empty list of such maps
   * @returns the selection, or problems with paths relative to the definition (e.g. `[1, 'user|re']`)
   */
  compile(definition: unknown): CompiledSelection | { problems: PathProblem[] } {
    const canonical = canonicalJson(definition);
    const existing = this.shared.get(canonical);
    if (existing) return existing;
    const built = this.build(definition);
    if ('problems' in built) return built;
    const selection: CompiledSelection = { predicate: memoise(built.test), kinds: built.kinds, canonical };
    this.shared.set(canonical, selection);
    return selection;
  }

  private build(definition: unknown): { test: Test; kinds: ReadonlySet<string> | null } | { problems: PathProblem[] } {
    if (Array.isArray(definition)) {
      if (definition.length === 0) return { problems: [{ path: [], message: 'a selection list needs at least one map' }] };
      const problems: PathProblem[] = [];
      const parts: { test: Test; kinds: ReadonlySet<string> | null }[] = [];
      definition.forEach((item, index) => {
        const part = this.buildMap(item);
        if ('problems' in part) problems.push(...part.problems.map((p) => ({ path: [index, ...p.path], message: p.message })));
        else parts.push(part);
      });
      if (problems.length > 0) return { problems };
      const tests = parts.map((p) => p.test);
      const kinds = parts.some((p) => p.kinds === null) ? null : new Set(parts.flatMap((p) => [...(p.kinds as ReadonlySet<string>)]));
      return { test: tests.length === 1 ? (tests[0] as Test) : (event) => tests.some((t) => t(event)), kinds };
    }
    return this.buildMap(definition);
  }

  private buildMap(definition: unknown): { test: Test; kinds: ReadonlySet<string> | null } | { problems: PathProblem[] } {
    if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
      return { problems: [{ path: [], message: `expected a map of field conditions or a list of maps, got ${describe(definition)}` }] };
    }
    const entries = Object.entries(definition as Record<string, unknown>);
    if (entries.length === 0) return { problems: [{ path: [], message: 'a selection needs at least one field condition' }] };
    const problems: PathProblem[] = [];
    const kindTests: Test[] = [];
    const tests: Test[] = [];
    let kinds: ReadonlySet<string> | null = null;
    for (const [key, value] of entries) {
      const condition = compileFieldCondition(key, value, this.env);
      if ('problems' in condition) {
        problems.push(...condition.problems.map((p) => ({ path: [key, ...p.path], message: p.message })));
        continue;
      }
      const restricted = condition.kinds;
      if (restricted === null) tests.push(condition.test);
      else {
        kinds = intersect(kinds, restricted);
        kindTests.push(kindFirst(restricted, condition.test));
      }
    }
    if (problems.length > 0) return { problems };
    // conditions are pure, so their order is free: the cheap, selective `kind` ones run first
    return { test: allOf([...kindTests, ...tests]), kinds };
  }
}

/** `current` ∩ `restricted`, where null means "any kind". */
function intersect(current: ReadonlySet<string> | null, restricted: ReadonlySet<string>): Set<string> {
  const result = new Set<string>();
  for (const kind of restricted) if (current === null || current.has(kind)) result.add(kind);
  return result;
}

/**
 * A plain `kind:` equality with a direct look-up in front: an event whose `kind` is one of
 * `kinds` as is matches without the (lower-casing, memoised) field read; any other goes through
 * `test`, so the result is always `test`'s.
 */
function kindFirst(kinds: ReadonlySet<string>, test: Test): Test {
  return (event) => kinds.has(event.kind) || test(event);
}

/** AND of tests, unrolled for the common small cases. */
function allOf(tests: Test[]): Test {
  const [a, b, c] = tests as [Test, Test | undefined, Test | undefined];
  if (tests.length === 1) return a;
  if (tests.length === 2) return (event) => a(event) && (b as Test)(event);
  if (tests.length === 3) return (event) => a(event) && (b as Test)(event) && (c as Test)(event);
  return (event) => {
    for (const test of tests) if (!test(event)) return false;
    return true;
  };
}

/** One-slot memo of the last event's result (events are immutable and evaluated by all rules in turn). */
function memoise(test: Test): EventPredicate {
  let lastEvent: AccessEvent | null = null;
  let lastResult = false;
  return (event) => {
    if (event === lastEvent) return lastResult;
    lastResult = test(event);
    lastEvent = event;
    return lastResult;
  };
}
