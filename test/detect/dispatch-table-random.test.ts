/**
 * DispatchTable on random streams: the value returned is always the one computed for the event's
 * own combination (kind, audit class, command, object type, query flags; the kind alone for a kind
 * that is not refined), whatever the order of
 * the look-ups (hits reorder a command's combinations), and each cacheable combination is computed
 * exactly once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { DispatchTable } from '../../src/detect/dispatch-table.js';
import { audit, makeEvent } from './rule-fixtures.js';

/** the label of an event's combination, as the table must key it (absent = null) */
function label(event: AccessEvent): string {
  const flags = event.query === null ? null : (event.query.flags ?? null);
  return JSON.stringify([event.kind, event.audit?.class ?? null, event.audit?.command ?? null, event.audit?.object_type ?? null, flags]);
}

const anEvent = fc
  .record({
    kind: fc.constantFrom('audit', 'error', 'authorization'),
    auditClass: fc.constantFrom('READ', 'WRITE', 'MISC'),
    command: fc.constantFrom('SELECT', 'UPDATE', 'GRANT', 'COPY'),
    objectType: fc.constantFrom('TABLE', 'VIEW', null),
    hasAudit: fc.boolean(),
    flags: fc.option(fc.array(fc.constantFrom('has_where', 'copy_to', 'union_select', '', 'a'), { maxLength: 3 }), { nil: null }),
    hasQuery: fc.boolean(),
  })
  .map(({ kind, auditClass, command, objectType, hasAudit, flags, hasQuery }) =>
    makeEvent({
      kind: kind as AccessEvent['kind'],
      audit: hasAudit ? audit({ class: auditClass, command, object_type: objectType }) : null,
      query: hasQuery ? ({ fingerprint: 'f', normalized: 'x', relations: [], flags } as unknown as AccessEvent['query']) : null,
    }),
  );

describe('DispatchTable on random event streams', () => {
  it('returns each event its own combination value and computes each combination once', () => {
    fc.assert(
      fc.property(fc.array(anEvent, { minLength: 1, maxLength: 200 }), fc.boolean(), (events, errorsRefined) => {
        let calls = 0;
        const table = new DispatchTable<string>((event) => {
          calls++;
          return label(event);
        }, (kind) => kind === 'audit' || (errorsRefined && kind === 'error'));
        const keys = new Set<string>();
        const firstOfKind = new Map<string, string>();
        for (const event of events) {
          const refined = event.kind === 'audit' || (errorsRefined && event.kind === 'error');
          if (!firstOfKind.has(event.kind)) firstOfKind.set(event.kind, label(event));
          // a kind that is not refined is one combination whatever its other fields: its first event's value
          expect(table.get(event)).toBe(refined ? label(event) : firstOfKind.get(event.kind));
          keys.add(refined ? label(event) : event.kind);
        }
        expect(calls).toBe(keys.size);
      }),
      { numRuns: 500 },
    );
  });

  it('tells apart flags that differ in one element, in order or in length', () => {
    const table = new DispatchTable<string>(label, () => true);
    const withFlags = (flags: string[] | null): AccessEvent => makeEvent({ kind: 'audit', audit: audit({ command: 'SELECT' }), query: { fingerprint: 'f', normalized: 'x', relations: [], flags } as unknown as AccessEvent['query'] });
    const sets = [['a', 'b'], ['b', 'a'], ['a'], ['a', 'b', 'c'], [], null, ['a', 'b']];
    expect(sets.map((flags) => table.get(withFlags(flags)))).toEqual(sets.map((flags) => label(withFlags(flags))));
  });
});
