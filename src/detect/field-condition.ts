import { BlockList, isIP } from 'node:net';
import type { AccessEvent } from '../domain/access-event.js';
import { suggestionSuffix } from '../lib/did-you-mean.js';
import { describe, type PathProblem } from '../lib/zod-problems.js';
import type { DataCatalog } from './data-catalog.js';
import type { FieldAccessor, FieldAccessors } from './field-accessors.js';
import { type FieldKey, parseFieldKey } from './field-key.js';
import { EVENT_KINDS } from './field-paths.js';
import { parseCalendarTime } from '../lib/calendar-time.js';

/** What compiling a field condition may consult: shared accessors, the catalog, the named lists. */
export interface ConditionEnv {
  accessors: FieldAccessors;
  catalog: DataCatalog;
  /** named lists, values as written (strings) */
  lists: ReadonlyMap<string, readonly string[]>;
}

/** A compiled field condition: a plain closure over the event, plus the `kind`s it restricts to. */
export interface CompiledFieldCondition {
  /** pure: its result depends only on the value of `path` in the event (and the lists and catalog) */
  test: (event: AccessEvent) => boolean;
  /** event kinds this condition can match (from a plain `kind:` equality), null = any kind */
  kinds: ReadonlySet<string> | null;
  /** the field path the condition reads (`audit.command`) */
  path: string;
}

/**
 * Operators whose test costs more than a Set look-up (regular expressions, substring scans over
 * list values, CIDR checks, catalog look-ups): their result is remembered per string value.
 */
const VALUE_CACHED_OPERATORS: ReadonlySet<string> = new Set(['contains', 'startswith', 'endswith', 're', 'cidr', 'object_class']);
/** Most values remembered per condition before its cache starts over. */
export const MAX_CACHED_VALUES = 1024;
/** Longer string values are tested every time (bounds the memory a cache holds, chars). */
export const MAX_CACHED_VALUE_LENGTH = 512;

type Scalar = string | number | boolean | null;
type ElementTest = (element: unknown) => boolean;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Compiles one selection entry `field|mod|mod: value(s)` (rules-design.md "Modifiers") to a closure.
 * A list of values is OR (AND with `|all`); an array field matches when any element matches;
 * string comparisons are case-insensitive unless `|cased`; `null` matches null/absent.
 *
 * @returns the compiled condition, or problems whose paths are relative to the entry (`[]` or `[index]`)
 */
export function compileFieldCondition(key: string, value: unknown, env: ConditionEnv): CompiledFieldCondition | { problems: PathProblem[] } {
  const parsed = parseFieldKey(key);
  if ('problem' in parsed) return { problems: [{ path: [], message: parsed.problem }] };
  const values = Array.isArray(value) ? (value as unknown[]) : [value];
  const problems: PathProblem[] = [];
  values.forEach((item, index) => {
    if (item !== null && typeof item === 'object') problems.push({ path: Array.isArray(value) ? [index] : [], message: `expected a value or a list of values, got ${describe(item)}` });
  });
  if (values.length === 0) problems.push({ path: [], message: 'needs at least one value' });
  if (problems.length > 0) return { problems };
  const scalars = values as Scalar[];
  const accessor = env.accessors.get(parsed.path);
  const result = compileOperator(parsed, scalars, accessor, env, Array.isArray(value));
  if ('problems' in result) return result;
  const test = VALUE_CACHED_OPERATORS.has(parsed.operator) ? cachedByValue(accessor.read, result.test) : result.test;
  return { test, kinds: kindsOf(parsed, scalars), path: parsed.path };
}

/**
 * `test` with its result remembered per string value of the field (`read`): a field condition is a
 * pure function of that value, and values such as application names, client addresses and
 * normalised statements repeat endlessly in a log. Non-string values and strings longer than
 * MAX_CACHED_VALUE_LENGTH are tested every time; the cache starts over past MAX_CACHED_VALUES.
 */
function cachedByValue(read: (event: AccessEvent) => unknown, test: (event: AccessEvent) => boolean): (event: AccessEvent) => boolean {
  const cache = new Map<string, boolean>();
  return (event) => {
    const value = read(event);
    if (typeof value !== 'string' || value.length > MAX_CACHED_VALUE_LENGTH) return test(event);
    const known = cache.get(value);
    if (known !== undefined) return known;
    const result = test(event);
    if (cache.size >= MAX_CACHED_VALUES) cache.clear();
    cache.set(value, result);
    return result;
  };
}

function compileOperator(key: FieldKey, values: Scalar[], accessor: FieldAccessor, env: ConditionEnv, listed: boolean): { test: (event: AccessEvent) => boolean } | { problems: PathProblem[] } {
  const at = (index: number): (string | number)[] => (listed ? [index] : []);
  if (key.operator === 'exists') {
    if (values.length !== 1 || typeof values[0] !== 'boolean') return { problems: [{ path: [], message: 'exists takes true or false' }] };
    const wanted = values[0];
    return { test: (event) => isPresent(accessor.read(event)) === wanted };
  }
  let operands: Scalar[] = values;
  if (key.inList) {
    const problems: PathProblem[] = [];
    operands = [];
    values.forEach((name, index) => {
      const list = typeof name === 'string' ? env.lists.get(name) : undefined;
      if (list === undefined) problems.push({ path: at(index), message: `unknown list ${describe(name)}${typeof name === 'string' ? suggestionSuffix(name, env.lists.keys()) : ''}` });
      else operands.push(...list);
    });
    if (problems.length > 0) return { problems };
  }
  if (key.path === 'kind' && key.operator === 'eq' && !key.inList) {
    const problems: PathProblem[] = [];
    values.forEach((v, index) => {
      if (typeof v !== 'string' || !EVENT_KINDS.includes(v.toLowerCase())) problems.push({ path: at(index), message: `unknown event kind ${describe(v)}${typeof v === 'string' ? suggestionSuffix(v, EVENT_KINDS) : ''}; kinds: ${EVENT_KINDS.join(', ')}` });
    });
    if (problems.length > 0) return { problems };
  }
  const built = elementTests(key, operands, accessor, env, key.inList ? () => [] : at);
  if ('problems' in built) return built;
  const { tests, lower, epoch } = built;
  const read = epoch ? accessor.readEpochMs : lower ? accessor.readLower : accessor.read;
  if (key.operator === 'eq' && operands.some((v) => v === null)) {
    const others = tests;
    if (key.all) return { test: (event) => read(event) === null && others.length === 0 };
    return { test: (event) => {
      const v = read(event);
      return v === null || (others.length > 0 && anyElement(v, others));
    } };
  }
  if (key.all) return { test: (event) => {
    const v = read(event);
    if (v === null) return false;
    for (const test of tests) if (!(Array.isArray(v) ? v.some(test) : test(v))) return false;
    return true;
  } };
  const single = tests.length === 1 ? (tests[0] as ElementTest) : (element: unknown) => tests.some((test) => test(element));
  const stringSet = built.stringSet;
  if (stringSet !== undefined) {
    // plain equality: a string value is one Set look-up (what `single` does for it), no closure call
    return { test: (event) => {
      const v = read(event);
      if (v === null) return false;
      if (typeof v === 'string') return stringSet.has(v);
      return Array.isArray(v) ? v.some(single) : single(v);
    } };
  }
  return { test: (event) => {
    const v = read(event);
    if (v === null) return false;
    return Array.isArray(v) ? v.some(single) : single(v);
  } };
}

function anyElement(value: unknown, tests: ElementTest[]): boolean {
  const one = (element: unknown): boolean => tests.some((test) => test(element));
  return Array.isArray(value) ? value.some(one) : one(value);
}

/** null, absent and empty lists are "not present" for `exists`. */
function isPresent(value: unknown): boolean {
  return value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0);
}

/**
 * One test per value (after list expansion), except equality without `all`, which folds every
 * value into one Set lookup. `lower`: the tests expect lower-cased strings; `epoch`: epoch ms.
 */
function elementTests(
  key: FieldKey,
  values: Scalar[],
  accessor: FieldAccessor,
  env: ConditionEnv,
  at: (index: number) => (string | number)[],
): { tests: ElementTest[]; lower: boolean; epoch: boolean; stringSet?: ReadonlySet<unknown> } | { problems: PathProblem[] } {
  const nonNull = values.filter((v): v is string | number | boolean => v !== null);
  const problems: PathProblem[] = [];
  const fold = (s: string): string => (key.cased ? s : s.toLowerCase());
  switch (key.operator) {
    case 'eq': {
      const setOf = (items: (string | number | boolean)[]): Set<unknown> => {
        const set = new Set<unknown>();
        for (const v of items) {
          if (typeof v === 'string') set.add(fold(v));
          else {
            set.add(v);
            if (typeof v === 'number') set.add(String(v));
          }
        }
        return set;
      };
      const testOf = (set: Set<unknown>): ElementTest => (element) => set.has(element) || (typeof element === 'number' && set.has(String(element)));
      const tests = key.all ? nonNull.map((v) => testOf(setOf([v]))) : nonNull.length > 0 ? [testOf(setOf(nonNull))] : [];
      return { tests, lower: !key.cased, epoch: false, stringSet: !key.all && nonNull.length > 0 ? setOf(nonNull) : undefined };
    }
    case 'contains':
    case 'startswith':
    case 'endswith': {
      const needles = nonNull.map((v) => fold(String(v)));
      const op = key.operator;
      const tests = needles.map((needle): ElementTest =>
        op === 'contains' ? (e) => typeof e === 'string' && e.includes(needle) : op === 'startswith' ? (e) => typeof e === 'string' && e.startsWith(needle) : (e) => typeof e === 'string' && e.endsWith(needle),
      );
      return { tests, lower: !key.cased, epoch: false };
    }
    case 're': {
      const tests: ElementTest[] = [];
      nonNull.forEach((pattern, index) => {
        try {
          const re = new RegExp(String(pattern), key.cased ? '' : 'i');
          tests.push((e) => typeof e === 'string' && re.test(e));
        } catch (error) {
          problems.push({ path: at(index), message: `invalid regular expression ${describe(String(pattern))}: ${(error as Error).message}` });
        }
      });
      return problems.length > 0 ? { problems } : { tests, lower: false, epoch: false };
    }
    case 'cidr': {
      const lists: BlockList[] = [];
      nonNull.forEach((network, index) => {
        const block = key.all || lists.length === 0 ? new BlockList() : (lists[0] as BlockList);
        const problem = addNetwork(block, String(network));
        if (problem !== null) problems.push({ path: at(index), message: problem });
        else if (key.all || lists.length === 0) lists.push(block);
      });
      if (problems.length > 0) return { problems };
      return { tests: lists.map((block) => (e) => typeof e === 'string' && inBlock(block, e)), lower: false, epoch: false };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const compare = COMPARATORS[key.operator];
      const timeField = accessor.type === 'time';
      const tests: ElementTest[] = [];
      nonNull.forEach((bound, index) => {
        if (timeField) {
          const ms = typeof bound === 'string' && ISO_TIME.test(bound) ? (parseCalendarTime(bound, 'date-first') ?? Number.NaN) : Number.NaN;
          if (Number.isNaN(ms)) problems.push({ path: at(index), message: `${key.operator} on ${key.path} needs an ISO time, got ${describe(bound)}` });
          else tests.push((e) => typeof e === 'number' && compare(e, ms));
        } else if (accessor.type !== 'number' && accessor.type !== 'string') {
          problems.push({ path: at(index), message: `${key.operator} needs a numeric or time field; ${key.path} is ${accessor.type}` });
        } else if (typeof bound !== 'number') {
          problems.push({ path: at(index), message: `${key.operator} needs a number, got ${describe(bound)}` });
        } else if (accessor.type === 'string' && !accessor.path.startsWith('app.detail.')) {
          problems.push({ path: at(index), message: `${key.operator} needs a numeric or time field; ${key.path} is a string` });
        } else tests.push((e) => typeof e === 'number' && compare(e, bound));
      });
      return problems.length > 0 ? { problems } : { tests, lower: false, epoch: timeField };
    }
    case 'object_class': {
      const catalog: DataCatalog = env.catalog;
      const tests = nonNull.map((cls): ElementTest => {
        const wanted = String(cls).toLowerCase();
        return (e) => typeof e === 'string' && catalog.classesOf(e).includes(wanted);
      });
      return { tests, lower: false, epoch: false };
    }
  }
  return { problems: [{ path: [], message: `unsupported modifier ${key.operator}` }] };
}

const COMPARATORS: Record<'gt' | 'gte' | 'lt' | 'lte', (a: number, b: number) => boolean> = {
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
};

/** Adds `10.0.0.0/8`, `::1/128` or a single address to `block`; returns a problem or null. */
function addNetwork(block: BlockList, network: string): string | null {
  const [address = '', prefixText, extra] = network.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return `invalid CIDR ${describe(network)}: expected an IPv4 or IPv6 address with an optional /prefix`;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) {
    block.addAddress(address, type);
    return null;
  }
  const prefix = Number(prefixText);
  if (!/^\d+$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) return `invalid CIDR ${describe(network)}: bad prefix length`;
  block.addSubnet(address, prefix, type);
  return null;
}

/** IPv4, IPv6, and IPv4-mapped IPv6 (`::ffff:10.0.0.5`, checked as IPv4 too); anything else is outside. */
function inBlock(block: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 4) return block.check(address, 'ipv4');
  if (family !== 6) return false;
  if (block.check(address, 'ipv6')) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped !== null && block.check(mapped[1] as string, 'ipv4');
}

/** A plain `kind:` equality restricts the event kinds the condition can match. */
function kindsOf(key: FieldKey, values: Scalar[]): ReadonlySet<string> | null {
  if (key.path !== 'kind' || key.operator !== 'eq' || key.inList || key.all) return null;
  if (!values.every((v) => typeof v === 'string')) return null;
  return new Set(values.map((v) => (key.cased ? (v as string) : (v as string).toLowerCase())));
}
