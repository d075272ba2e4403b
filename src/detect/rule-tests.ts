import { suggestionSuffix } from '../lib/did-you-mean.js';
import { describe, type PathProblem } from '../lib/zod-problems.js';
import type { RuleTest } from './compiled-rule.js';
import { EVENT_KINDS, FIELD_PATHS } from './field-paths.js';
import { parseCalendarTime } from '../lib/calendar-time.js';

/** Keys a test event may hold at the top level, and inside `audit:`, `query:`, `app:`, `source:`. */
const EVENT_KEYS = keysUnder('');
const NESTED_KEYS: Record<string, string[]> = { audit: keysUnder('audit.'), query: keysUnder('query.'), app: keysUnder('app.'), source: keysUnder('source.') };

function keysUnder(prefix: string): string[] {
  return [...FIELD_PATHS.keys()].filter((path) => path.startsWith(prefix) && !path.slice(prefix.length).includes('.')).map((path) => path.slice(prefix.length)).filter((key) => !['relations', 'data_classes', 'hour_of_day', 'day_of_week'].includes(key) || prefix !== '');
}

/** What `compileRuleTests` found. */
export interface RuleTestsResult {
  tests: RuleTest[];
  problems: PathProblem[];
  /** some test expects detections > 0 */
  hasFiring: boolean;
  /** some test expects detections: 0 */
  hasQuiet: boolean;
}

/**
 * Checks a rule's inline tests beyond their schema and expands `repeat`: test events may only
 * name AccessEvent fields (nested `audit:` / `query:` / `app:` / `source:` maps included;
 * `app.detail` is free-form), need an ISO `time`, and a `kind` must be an event kind;
 * `expect.groups` may only name `group_by` fields. `repeat: N` becomes N copies of the events,
 * copy k shifted k seconds later (copy 0 as written), so runners see plain event lists.
 *
 * @param tests the `tests:` value as written (entries that are not maps are skipped: the schema reports them)
 */
export function compileRuleTests(tests: unknown, groupBy: readonly string[]): RuleTestsResult {
  const result: RuleTestsResult = { tests: [], problems: [], hasFiring: false, hasQuiet: false };
  if (!Array.isArray(tests)) return result;
  tests.forEach((test: unknown, index) => {
    if (test === null || typeof test !== 'object') return;
    const { name, events, repeat, expect, advance_to: advanceTo } = test as Record<string, unknown>;
    const before = result.problems.length;
    if (Array.isArray(events)) events.forEach((event, eventIndex) => checkEvent(event, ['tests', index, 'events', eventIndex], result.problems));
    const expected = expect !== null && typeof expect === 'object' ? (expect as Record<string, unknown>) : {};
    if (Array.isArray(expected.groups)) {
      expected.groups.forEach((group, groupIndex) => {
        if (group === null || typeof group !== 'object') return;
        for (const key of Object.keys(group)) {
          if (!groupBy.includes(key)) result.problems.push({ path: ['tests', index, 'expect', 'groups', groupIndex, key], message: `"${key}" is not a group_by field (group_by: ${groupBy.length > 0 ? groupBy.join(', ') : 'none'})` });
        }
      });
    }
    if (typeof expected.detections === 'number') {
      if (expected.detections > 0) result.hasFiring = true;
      else result.hasQuiet = true;
    }
    if (result.problems.length > before || typeof name !== 'string' || !Array.isArray(events) || typeof expected.detections !== 'number') return;
    const copies = typeof repeat === 'number' && repeat > 1 ? repeat : 1;
    const expanded: Record<string, unknown>[] = [];
    for (let copy = 0; copy < copies; copy++) {
      for (const event of events as Record<string, unknown>[]) expanded.push(copy === 0 ? event : { ...event, time: new Date(Date.parse(event.time as string) + copy * 1000).toISOString() });
    }
    const compiled: RuleTest = { name, events: expanded, expect: { detections: expected.detections } };
    if (Array.isArray(expected.groups)) compiled.expect.groups = expected.groups as Record<string, string | number | null>[];
    if (typeof advanceTo === 'string') compiled.advance_to = advanceTo;
    result.tests.push(compiled);
  });
  return result;
}

function checkEvent(event: unknown, path: (string | number)[], problems: PathProblem[]): void {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return;
  const record = event as Record<string, unknown>;
  const time = record.time;
  if (typeof time !== 'string' || parseCalendarTime(time, 'date-first') === null) {
    problems.push({ path: [...path, 'time'], message: time === undefined ? 'a test event needs a time' : `expected an ISO-8601 time, got ${describe(time)}` });
  }
  for (const [key, value] of Object.entries(record)) {
    if (!EVENT_KEYS.includes(key)) {
      problems.push({ path: [...path, key], message: `unknown event field "${key}"${suggestionSuffix(key, EVENT_KEYS)}` });
      continue;
    }
    const nested = NESTED_KEYS[key];
    if (nested !== undefined && value !== null) {
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push({ path: [...path, key], message: `expected a map, got ${describe(value)}` });
        continue;
      }
      for (const inner of Object.keys(value)) {
        if (!nested.includes(inner)) problems.push({ path: [...path, key, inner], message: `unknown event field "${key}.${inner}"${suggestionSuffix(inner, nested)}` });
      }
    }
    if (key === 'kind' && (typeof value !== 'string' || !EVENT_KINDS.includes(value))) {
      problems.push({ path: [...path, key], message: `unknown event kind ${describe(value)}${typeof value === 'string' ? suggestionSuffix(value, EVENT_KINDS) : ''}` });
    }
  }
}
