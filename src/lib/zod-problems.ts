import type { ZodType, core } from 'zod';
import { suggestionSuffix } from './did-you-mean.js';

/** One validation problem: where (a path into the validated value) and what, in words. */
export interface PathProblem {
  path: (string | number)[];
  message: string;
  /** set for a key the schema does not allow there (the value is otherwise unchecked) */
  unknownKey?: true;
}

/**
 * Turns zod issues into precise problems (CONVENTIONS.md rule 5: every problem with its path):
 * an unknown key becomes one problem per key with a "did you mean" among the keys `schema` allows
 * there; an invalid enum value suggests the closest allowed value; a union reports the branch the
 * input was meant for. Parse with `{ reportInput: true }` so messages can show the offending value.
 *
 * @param issues `result.error.issues` of `schema.safeParse(value, { reportInput: true })`
 * @param schema the schema that produced them (walked to find the allowed keys of a map)
 */
export function zodProblems(issues: readonly core.$ZodIssue[], schema: ZodType, prefix: (string | number)[] = []): PathProblem[] {
  const problems: PathProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    switch (issue.code) {
      case 'unrecognized_keys': {
        const { allowed, elsewhere } = objectKeysAt(schema, path.slice(prefix.length), issue.input);
        for (const key of issue.keys) {
          // a key of another branch of a union (a `url` on a console receiver): say what this one takes
          const hint = elsewhere.has(key) ? ` (allowed here: ${allowed.join(', ')})` : suggestionSuffix(key, allowed);
          problems.push({ path: [...path, key], message: `unknown key "${key}"${hint}`, unknownKey: true });
        }
        break;
      }
      case 'invalid_type':
        // a schema's own description of what it wants (e.g. a duration) wins over the bare type name
        problems.push({ path, message: issue.input === undefined ? 'missing required key' : `expected ${issue.message.startsWith('Invalid') ? typeName(issue.expected) : issue.message}, got ${describe(issue.input)}` });
        break;
      case 'invalid_value': {
        const allowed = issue.values.map((v) => String(v));
        const got = issue.input === undefined ? '' : `, got ${describe(issue.input)}${typeof issue.input === 'string' ? suggestionSuffix(issue.input, allowed) : ''}`;
        problems.push({ path, message: allowed.length === 1 ? `expected ${JSON.stringify(issue.values[0])}${got}` : `expected one of ${allowed.join(', ')}${got}` });
        break;
      }
      case 'too_small':
        problems.push({ path, message: sizeMessage('at least', issue.origin, Number(issue.minimum), issue.inclusive !== false) });
        break;
      case 'too_big':
        problems.push({ path, message: sizeMessage('at most', issue.origin, Number(issue.maximum), issue.inclusive !== false) });
        break;
      case 'invalid_format':
        problems.push({ path, message: formatMessage(issue) });
        break;
      case 'invalid_key': {
        const key = path[path.length - 1];
        const why = issue.issues.map((inner) => inner.message).join('; ');
        problems.push({ path, message: `invalid key ${JSON.stringify(key)}: ${why}` });
        break;
      }
      case 'invalid_union':
        problems.push(...unionProblems(issue, schema, path, prefix));
        break;
      default:
        problems.push({ path, message: issue.message });
    }
  }
  return problems;
}

/** `match.sel[1].application_name|in_list`: how problems print a path. Empty path → `(document)`. */
export function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(document)';
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text;
}

/** A short description of a value for messages: strings quoted, maps and lists by kind. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

/** A custom message (set on the schema) wins over the generic "must match /re/". */
function formatMessage(issue: core.$ZodIssueInvalidStringFormat): string {
  const custom = !issue.message.startsWith('Invalid');
  if (custom) return `invalid ${describe(issue.input)}: ${issue.message}`;
  return issue.format === 'regex' && issue.pattern ? `${describe(issue.input)} must match ${issue.pattern}` : `must be a valid ${issue.format}`;
}

function typeName(expected: string): string {
  if (expected === 'object' || expected === 'record') return 'a map';
  if (expected === 'array') return 'a list';
  return expected;
}

function sizeMessage(bound: string, origin: string, limit: number, inclusive: boolean): string {
  if (origin === 'array' || origin === 'set') return `needs ${bound} ${limit} item${limit === 1 ? '' : 's'}`;
  if (origin === 'string') return limit === 1 && bound === 'at least' ? 'must not be empty' : `needs ${bound} ${limit} characters`;
  const op = bound === 'at least' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
  return `must be ${op} ${limit}`;
}

/** The branch whose issues go deeper than a type mismatch is the one the input was meant for. */
function unionProblems(issue: core.$ZodIssueInvalidUnion, schema: ZodType, path: (string | number)[], prefix: (string | number)[]): PathProblem[] {
  const branches: core.$ZodIssue[][] = issue.errors;
  const deep = branches.filter((issues) => issues.some((i) => i.path.length > 0 || i.code !== 'invalid_type'));
  if (deep.length === 1) {
    const branchIndex = branches.indexOf(deep[0] as core.$ZodIssue[]);
    const branchSchema = unionOptionAt(schema, path.slice(prefix.length), branchIndex);
    return zodProblems(deep[0] as core.$ZodIssue[], branchSchema ?? schema, path);
  }
  const expected = branches
    .flatMap((issues) => issues.filter((i) => i.code === 'invalid_type' && i.path.length === 0).map((i) => typeName((i as core.$ZodIssueInvalidType).expected)))
    .filter((v, i, all) => all.indexOf(v) === i);
  const got = issue.input === undefined ? 'nothing' : describe(issue.input);
  if (issue.message && issue.message !== 'Invalid input') return [{ path, message: `${issue.message}, got ${got}` }];
  return [{ path, message: expected.length > 0 ? `expected ${expected.join(' or ')}, got ${got}` : 'does not match any allowed shape' }];
}

type AnyDef = { type: string; shape?: Record<string, ZodType>; element?: ZodType; innerType?: ZodType; valueType?: ZodType; in?: ZodType; options?: ZodType[]; values?: unknown[] };

function defOf(schema: ZodType): AnyDef {
  return (schema as unknown as { _zod: { def: AnyDef } })._zod.def;
}

/** Peels optional/default/nullable/pipe wrappers. */
function unwrap(schema: ZodType): ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

/** The schema that validates the value at `path` (first union branch that has the path), or null. */
function schemaAt(schema: ZodType, path: readonly (string | number)[]): ZodType | null {
  let current: ZodType | null = unwrap(schema);
  for (const segment of path) {
    if (current === null) return null;
    const def = defOf(current);
    if (def.type === 'object' && def.shape) current = typeof segment === 'string' ? (def.shape[segment] ?? null) : null;
    else if (def.type === 'array' && def.element) current = def.element;
    else if (def.type === 'record' && def.valueType) current = def.valueType;
    else if (def.type === 'union' && def.options) {
      const options: ZodType[] = def.options;
      current = options.map((o) => schemaAt(o, [segment])).find((s) => s !== null) ?? null;
    } else return null;
    if (current !== null) current = unwrap(current);
  }
  return current;
}

function unionOptionAt(schema: ZodType, path: readonly (string | number)[], index: number): ZodType | null {
  const union = schemaAt(schema, path);
  if (union === null) return null;
  const def = defOf(union);
  return def.type === 'union' && def.options ? (def.options[index] ?? null) : null;
}

/**
 * The keys an object schema at `path` allows (for "did you mean"); empty when not an object. For a
 * union, only the branches whose literal keys (e.g. `type: console`) match `input` count, when any
 * does; `elsewhere` holds the keys only the other branches allow.
 */
function objectKeysAt(schema: ZodType, path: readonly (string | number)[], input?: unknown): { allowed: string[]; elsewhere: Set<string> } {
  const target = schemaAt(schema, path);
  const none = { allowed: [], elsewhere: new Set<string>() };
  if (target === null) return none;
  const def = defOf(target);
  if (def.type === 'object' && def.shape) return { allowed: Object.keys(def.shape), elsewhere: new Set() };
  if (def.type === 'union' && def.options) {
    const keysOf = (o: ZodType): string[] => {
      const d = defOf(unwrap(o));
      return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
    };
    const matching = def.options.filter((o) => literalsMatch(o, input));
    const chosen = matching.length > 0 ? matching : def.options;
    const allowed = [...new Set(chosen.flatMap(keysOf))];
    const elsewhere = new Set(def.options.filter((o) => !chosen.includes(o)).flatMap(keysOf).filter((k) => !allowed.includes(k)));
    return { allowed, elsewhere };
  }
  return none;
}

/** True when `option` is an object schema whose literal-valued keys all hold one of their values in `input` (a map). */
function literalsMatch(option: ZodType, input: unknown): boolean {
  const def = defOf(unwrap(option));
  if (def.type !== 'object' || !def.shape || input === null || typeof input !== 'object' || Array.isArray(input)) return false;
  let literals = 0;
  for (const [key, value] of Object.entries(def.shape)) {
    const inner = defOf(unwrap(value));
    if (inner.type !== 'literal' || !inner.values) continue;
    literals++;
    if (!inner.values.includes((input as Record<string, unknown>)[key])) return false;
  }
  return literals > 0;
}

/**
 * The keys an object schema accepts (through optional/default/pipe wrappers), or null when the
 * schema is not an object schema (then its keys cannot be known without parsing).
 */
export function schemaKeys(schema: ZodType): string[] | null {
  const def = defOf(unwrap(schema));
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : null;
}
