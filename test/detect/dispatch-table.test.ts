import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { DispatchTable, MAX_DISPATCH_ENTRIES } from '../../src/detect/dispatch-table.js';
import { audit, makeEvent } from './rule-fixtures.js';

/** An audit event with the given command and query flags (null = no query object). */
function auditEvent(command: string, flags: string[] | null, objectType: string | null = 'TABLE'): AccessEvent {
  return makeEvent({
    kind: 'audit',
    audit: audit({ command, object_type: objectType }),
    query: flags === null ? null : { fingerprint: 'f', normalized: 'SELECT 1', relations: [], flags },
  });
}

/** A table whose value is a label of the combination, counting the calls of `compute`. */
function countingTable(refined: (kind: unknown) => boolean): { table: DispatchTable<string>; calls: () => number } {
  let calls = 0;
  const table = new DispatchTable<string>((event) => {
    calls++;
    return `${event.kind}|${event.audit?.class ?? '-'}|${event.audit?.command ?? '-'}|${event.audit?.object_type ?? '-'}|${JSON.stringify(event.query?.flags ?? null)}`;
  }, refined);
  return { table, calls: () => calls };
}

describe('DispatchTable', () => {
  it('computes the value once per combination of kind, class, command, object type and flags', () => {
    const { table, calls } = countingTable(() => true);
    const events = [auditEvent('SELECT', ['has_where']), auditEvent('SELECT', ['has_where']), auditEvent('UPDATE', ['has_where']), auditEvent('SELECT', ['has_where'], 'VIEW'), auditEvent('SELECT', ['has_where'])];
    expect(events.map((event) => table.get(event))).toEqual([
      'audit|READ|SELECT|TABLE|["has_where"]',
      'audit|READ|SELECT|TABLE|["has_where"]',
      'audit|READ|UPDATE|TABLE|["has_where"]',
      'audit|READ|SELECT|VIEW|["has_where"]',
      'audit|READ|SELECT|TABLE|["has_where"]',
    ]);
    expect(calls()).toBe(3);
  });

  it('keys absent, empty, one-flag and several-flag query.flags apart', () => {
    const { table, calls } = countingTable(() => true);
    const values = [auditEvent('SELECT', null), auditEvent('SELECT', []), auditEvent('SELECT', ['']), auditEvent('SELECT', ['a', 'b']), auditEvent('SELECT', ['a']), auditEvent('SELECT', ['ab']), auditEvent('SELECT', ['a', 'b'])].map((event) => table.get(event));
    expect(values).toEqual([
      'audit|READ|SELECT|TABLE|null',
      'audit|READ|SELECT|TABLE|[]',
      'audit|READ|SELECT|TABLE|[""]',
      'audit|READ|SELECT|TABLE|["a","b"]',
      'audit|READ|SELECT|TABLE|["a"]',
      'audit|READ|SELECT|TABLE|["ab"]',
      'audit|READ|SELECT|TABLE|["a","b"]',
    ]);
    expect(calls()).toBe(6);
  });

  it('computes every time, never caching, flags it cannot key exactly (not strings, or holding U+0000)', () => {
    const { table, calls } = countingTable(() => true);
    const odd = auditEvent('SELECT', ['a\u0000b']);
    const numeric = { ...auditEvent('SELECT', null), query: { fingerprint: 'f', normalized: 'x', relations: [], flags: [1] } } as unknown as AccessEvent;
    for (let i = 0; i < 3; i++) {
      table.get(odd);
      table.get(numeric);
    }
    expect(calls()).toBe(6);
  });

  it('reads only the kind of a kind that is not refined: one value per kind', () => {
    const { table, calls } = countingTable((kind) => kind === 'audit');
    const login = makeEvent({ kind: 'authorization' });
    const loginWithAudit = makeEvent({ kind: 'authorization', audit: audit({ command: 'GRANT' }) });
    expect(table.get(login)).toBe('authorization|-|-|-|null');
    expect(table.get(loginWithAudit)).toBe('authorization|-|-|-|null');
    table.get(auditEvent('SELECT', []));
    table.get(auditEvent('GRANT', []));
    expect(calls()).toBe(3);
  });

  it(`starts over past ${MAX_DISPATCH_ENTRIES} combinations, still returning each event's own value`, () => {
    const { table, calls } = countingTable(() => true);
    for (let i = 0; i <= MAX_DISPATCH_ENTRIES + 1; i++) expect(table.get(auditEvent(`CMD${i}`, []))).toBe(`audit|READ|CMD${i}|TABLE|[]`);
    const before = calls();
    // the first commands were forgotten when the table started over: computed again
    expect(table.get(auditEvent('CMD0', []))).toBe('audit|READ|CMD0|TABLE|[]');
    expect(calls()).toBe(before + 1);
  });

  it('clear forgets every combination', () => {
    const { table, calls } = countingTable(() => true);
    table.get(auditEvent('SELECT', []));
    table.clear();
    table.get(auditEvent('SELECT', []));
    expect(calls()).toBe(2);
  });
});
