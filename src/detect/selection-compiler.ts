import type { AccessEvent } from '../domain/access-event.js';
import { describe, type PathProblem } from '../lib/zod-problems.js';
import type { EventPredicate } from './compiled-rule.js';
import { canonicalJson } from './canonical-json.js';
import { DISPATCH_PATHS, type Residual } from './dispatch-table.js';
import { type CompiledFieldCondition, type ConditionEnv, compileFieldCondition } from './field-condition.js';
import { EVENT_KINDS } from './field-paths.js';

/** A compiled selection: its predicate, the event kinds it can match (null = any) and its canonical text. */
export interface CompiledSelection {
  predicate: EventPredicate;
  kinds: ReadonlySet<string> | null;
  /**
   * `predicate` specialised to the kind and dispatch field values (`DISPATCH_PATHS`) of `event`:
   * false or true when those values decide it, else a test of the remaining conditions, equal to
   * `predicate` on every event with the same values. Reads only those fields of `event`.
   */
  residual: (event: AccessEvent) => Residual;
  /** true when the selection has a condition on a dispatch field other than `kind` */
  refined: boolean;
  /** canonical JSON of the definition: identical selections across rules share one predicate */
  canonical: string;
}

/** A pure test of one event. */
export type Test = (event: AccessEvent) => boolean;

/**
 * Compiles Sigma-style selections (rules-design.md "Rule YAML"): a map is the AND of its field
 * conditions, a list of maps the OR of the maps. Selections with the same canonical JSON share one
 * predicate across every rule of the set, and each predicate remembers its result for the last
 * event it saw, so a selection used by many rules is evaluated once per event.
 */
export class SelectionCompiler {
  private readonly shared = new Map<string, CompiledSelection>();
  /** field conditions by canonical `[key, value]`: one closure (memoised per event) across selections */
  private readonly conditions = new Map<string, CompiledFieldCondition>();

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
    // a selection of one shared field condition is that condition, already memoised per event
    const predicate = built.shared ? built.test : memoise(built.test);
    const selection: CompiledSelection = { predicate, kinds: built.kinds, residual: residualOf(built.maps, predicate), refined: built.maps.some((map) => map.refined), canonical };
    this.shared.set(canonical, selection);
    return selection;
  }

  private build(definition: unknown): Built | { problems: PathProblem[] } {
    if (Array.isArray(definition)) {
      if (definition.length === 0) return { problems: [{ path: [], message: 'a selection list needs at least one map' }] };
      const problems: PathProblem[] = [];
      const parts: Built[] = [];
      definition.forEach((item, index) => {
        const part = this.buildMap(item);
        if ('problems' in part) problems.push(...part.problems.map((p) => ({ path: [index, ...p.path], message: p.message })));
        else parts.push(part);
      });
      if (problems.length > 0) return { problems };
      const tests = parts.map((p) => p.test);
      const kinds = parts.some((p) => p.kinds === null) ? null : new Set(parts.flatMap((p) => [...(p.kinds as ReadonlySet<string>)]));
      return { test: tests.length === 1 ? (tests[0] as Test) : (event) => tests.some((t) => t(event)), kinds, maps: parts.flatMap((p) => p.maps), shared: parts.length === 1 && (parts[0] as Built).shared };
    }
    return this.buildMap(definition);
  }

  private buildMap(definition: unknown): Built | { problems: PathProblem[] } {
    if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
      return { problems: [{ path: [], message: `expected a map of field conditions or a list of maps, got ${describe(definition)}` }] };
    }
    const entries = Object.entries(definition as Record<string, unknown>);
    if (entries.length === 0) return { problems: [{ path: [], message: 'a selection needs at least one field condition' }] };
    const problems: PathProblem[] = [];
    const kindTests: Test[] = [];
    const tests: Test[] = [];
    const dispatch: Test[] = [];
    const rest: Test[] = [];
    let refined = false;
    let kinds: ReadonlySet<string> | null = null;
    for (const [key, value] of entries) {
      const condition = this.condition(key, value);
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
      if (condition.path === 'kind') dispatch.push(condition.test);
      else if (DISPATCH_PATHS.includes(condition.path)) {
        dispatch.push(condition.test);
        refined = true;
      } else rest.push(condition.test);
    }
    if (problems.length > 0) return { problems };
    // conditions are pure, so their order is free: the cheap, selective `kind` ones run first
    // one condition is its own (shared, memoised) test: no second memo around it
    const map: MapParts = { dispatch, rest: rest.length === 0 ? null : rest.length === 1 ? (rest[0] as Test) : memoise(allOf(rest)), refined };
    return { test: allOf([...kindTests, ...tests]), kinds, maps: [map], shared: kindTests.length === 0 && tests.length === 1 };
  }

  /** one field condition, shared (and memoised per event) with every identical one of the set */
  private condition(key: string, value: unknown): CompiledFieldCondition | { problems: PathProblem[] } {
    const canonical = canonicalJson([key, value]);
    const existing = this.conditions.get(canonical);
    if (existing) return existing;
    const compiled = compileFieldCondition(key, value, this.env);
    if ('problems' in compiled) return compiled;
    const shared: CompiledFieldCondition = { ...compiled, test: memoise(compiled.test) };
    this.conditions.set(canonical, shared);
    return shared;
  }
}

/** What building a selection (or one of its maps) gives before memoising. */
interface Built {
  test: Test;
  kinds: ReadonlySet<string> | null;
  /** the maps of the selection (one for a map), split for `residualOf` */
  maps: MapParts[];
  /** `test` is one shared field condition as is (already memoised per event) */
  shared: boolean;
}

/** One map (AND of conditions) split into its conditions on the dispatch fields and the others. */
interface MapParts {
  /** conditions on `kind` and DISPATCH_PATHS */
  dispatch: Test[];
  /** AND of the other conditions (memoised per event), null when there are none */
  rest: Test | null;
  /** a condition on a DISPATCH_PATHS field (not only `kind`) */
  refined: boolean;
}

/**
 * The residual of a selection (OR of `maps`) for an event's dispatch values: a map whose dispatch
 * conditions fail drops out, one whose conditions are all dispatch conditions and pass decides
 * true; what remains is the OR of the maps' other conditions (`whole` when every map remains).
 */
function residualOf(maps: MapParts[], whole: Test): (event: AccessEvent) => Residual {
  if (maps.length === 1) {
    const { dispatch, rest } = maps[0] as MapParts;
    return (event) => {
      for (const test of dispatch) if (!test(event)) return false;
      return rest ?? true;
    };
  }
  return (event) => {
    const live: Test[] = [];
    for (const map of maps) {
      if (!map.dispatch.every((test) => test(event))) continue;
      if (map.rest === null) return true;
      live.push(map.rest);
    }
    if (live.length === 0) return false;
    if (live.length === 1) return live[0] as Test;
    if (live.length === maps.length) return whole;
    return (event) => live.some((test) => test(event));
  };
}

/** `current` ∩ `restricted`, where null means "any kind". */
function intersect(current: ReadonlySet<string> | null, restricted: ReadonlySet<string>): Set<string> {
  const result = new Set<string>();
  for (const kind of restricted) if (current === null || current.has(kind)) result.add(kind);
  return result;
}

/**
 * A plain `kind:` equality with direct look-ups in front: an event whose `kind` is one of `kinds`
 * as is matches, one whose `kind` is another event kind as is (lower-case, `EVENT_KINDS`) does
 * not, both without the (lower-casing, memoised) field read; any other goes through `test`, so the
 * result is always `test`'s (`kinds` holds every value of the equality, all strings).
 */
function kindFirst(kinds: ReadonlySet<string>, test: Test): Test {
  const others = new Set(EVENT_KINDS.filter((kind) => !kinds.has(kind)));
  return (event) => {
    const kind = event.kind;
    if (kinds.has(kind)) return true;
    return others.has(kind) ? false : test(event);
  };
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
function memoise(test: Test): Test {
  let lastEvent: AccessEvent | null = null;
  let lastResult = false;
  return (event) => {
    if (event === lastEvent) return lastResult;
    lastResult = test(event);
    lastEvent = event;
    return lastResult;
  };
}
