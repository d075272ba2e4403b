/**
 * PLAIN_FIELD_READERS: one reader per stored field path, each equal to a read segment by segment
 * (absent → null, a parent that is null or not an object → null), so swapping the generic reader
 * for these changes no value a selection, group key or sum field sees.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { FIELD_PATHS, VIRTUAL_FIELDS } from '../../src/detect/field-paths.js';
import { PLAIN_FIELD_READERS } from '../../src/detect/plain-field-readers.js';
import { audit, makeEvent } from './rule-fixtures.js';

const STORED_PATHS = [...FIELD_PATHS.keys()].filter((path) => !VIRTUAL_FIELDS.has(path));

/** the reference: the path's segments read one after the other */
function readBySegments(event: unknown, path: string): unknown {
  let current = event;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return null;
    current = (current as Record<string, unknown>)[segment];
  }
  return current ?? null;
}

describe('PLAIN_FIELD_READERS', () => {
  it('has a reader for every stored field path and none for the virtual ones', () => {
    expect([...PLAIN_FIELD_READERS.keys()].sort()).toEqual([...STORED_PATHS].sort());
    for (const path of VIRTUAL_FIELDS) expect(PLAIN_FIELD_READERS.has(path)).toBe(false);
  });

  it('reads the values of a full audit event', () => {
    const event = makeEvent({
      kind: 'audit',
      user: 'app_web',
      audit: audit({ class: 'READ', command: 'SELECT', object_name: 'public.customers', rows: 5000 }),
      query: { fingerprint: 'f1', normalized: 'SELECT 1', relations: ['customers'], flags: ['has_where'] },
    });
    const read = (path: string): unknown => (PLAIN_FIELD_READERS.get(path) as (e: AccessEvent) => unknown)(event);
    expect(read('user')).toBe('app_web');
    expect(read('audit.rows')).toBe(5000);
    expect(read('audit.object_name')).toBe('public.customers');
    expect(read('query.flags')).toEqual(['has_where']);
    expect(read('app.action')).toBeNull();
    expect(read('kind')).toBe('audit');
  });

  it('equals the segment-by-segment read on events with absent, null and non-object parents', () => {
    const parent = fc.oneof(fc.constant(null), fc.constant(undefined), fc.constant('text'), fc.constant(7), fc.constant([]), fc.dictionary(fc.constantFrom('id', 'file', 'offset', 'class', 'rows', 'flags', 'action', 'detail', 'relations'), fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined))));
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
    const event = fc.record({
      id: scalar, time: scalar, server: scalar, kind: scalar, user: scalar, client_addr: scalar, application_name: scalar, sqlstate: scalar, message: scalar, truncated: scalar,
      source: parent, audit: parent, query: parent, app: parent,
    }, { requiredKeys: [] });
    fc.assert(
      fc.property(event, (value) => STORED_PATHS.every((path) => Object.is((PLAIN_FIELD_READERS.get(path) as (e: AccessEvent) => unknown)(value as unknown as AccessEvent), readBySegments(value, path)))),
      { numRuns: 2000 },
    );
  });
});
