/**
 * The baseline detectors' speed-ups keep results bit-identical: rings and context sets that grow
 * as they fill have the layout of full-size ones, the bound that skips a reference never skips
 * one that could fire, the shared role directory keeps GroupTable's order and eviction, and the
 * memoised classed tables are what eventRelations + the catalog give.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classedTables, tableClassesKey } from '../../../src/detect/baseline/classed-tables.js';
import { ContextRows } from '../../../src/detect/baseline/context-rows.js';
import { CONTEXT_SLOTS, contextPairHash, contextSetFromJson } from '../../../src/detect/baseline/context-set.js';
import { HISTORY_SLOTS, HistoryRing } from '../../../src/detect/baseline/history-ring.js';
import { RoleDirectory } from '../../../src/detect/baseline/role-directory.js';
import { RoleTable } from '../../../src/detect/baseline/role-table.js';
import { cannotReach, robustZ } from '../../../src/detect/baseline/robust-z.js';
import { GroupTable } from '../../../src/detect/group-table.js';
import { audit, makeEvent } from '../rule-fixtures.js';
import { shippedBaselines } from './baseline-fixtures.js';

const HOUR_MS = 3_600_000;
const MONDAY_10 = Date.parse('2026-01-05T10:00:00.000Z') / HOUR_MS;

describe('HistoryRing growing as it fills', () => {
  it('serialises like a full-size ring at every size, past the wrap, and restores a part-filled ring that keeps growing', () => {
    const ring = new HistoryRing(2);
    const sizes: number[] = [];
    for (let i = 0; i < HISTORY_SLOTS + 3; i++) {
      ring.push(MONDAY_10 + i, [i, 2 * i]);
      const [buckets, values, next] = ring.toJson();
      if (i === 4 || i === 40 || i === HISTORY_SLOTS + 2) sizes.push(buckets.length, values.length, next);
    }
    expect(sizes).toEqual([5, 10, 5, 41, 82, 41, HISTORY_SLOTS, 2 * HISTORY_SLOTS, 3]);
    expect(ring.toJson()[0].slice(0, 4)).toEqual([MONDAY_10 + 128, MONDAY_10 + 129, MONDAY_10 + 130, MONDAY_10 + 3]);
    const part = new HistoryRing(1);
    for (let i = 0; i < 6; i++) part.push(MONDAY_10 + i, [i]);
    const copy = HistoryRing.fromJson(JSON.parse(JSON.stringify(part.toJson())), 1, 'test');
    for (let i = 6; i < 20; i++) {
      part.push(MONDAY_10 + i, [i]);
      copy.push(MONDAY_10 + i, [i]);
    }
    expect(copy.toJson()).toEqual(part.toJson());
    expect(copy.reference(0, MONDAY_10 + 30, HOUR_MS, 7 * 24 * HOUR_MS)).toEqual(part.reference(0, MONDAY_10 + 30, HOUR_MS, 7 * 24 * HOUR_MS));
  });

  it('knows the smallest value of each measure, recomputed after a push', () => {
    const ring = new HistoryRing(2);
    expect(ring.lowest(0)).toBe(Number.NEGATIVE_INFINITY);
    ring.push(MONDAY_10, [100, 3]);
    ring.push(MONDAY_10 + 1, [10, 30]);
    expect([ring.lowest(0), ring.lowest(1)]).toEqual([Math.fround(Math.log1p(10)), Math.fround(Math.log1p(3))]);
    ring.push(MONDAY_10 + 2, [0, 0]);
    expect([ring.lowest(0), ring.lowest(1)]).toEqual([0, 0]);
  });
});

describe('cannotReach (the bound that skips computing a reference)', () => {
  it('holds only when the robust z of every reference of the ring stays below the threshold', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(5000), { minLength: 1, maxLength: 40 }),
        fc.nat(20_000),
        fc.integer({ min: 0, max: 300 }),
        fc.constantFrom(0.15, 0.25, 0.35, 1),
        fc.constantFrom(1, 3, 4, 5, 6),
        (history, value, judged, madFloor, threshold) => {
          const ring = new HistoryRing(1);
          for (const [i, rows] of history.entries()) ring.push(MONDAY_10 + i * 5, [rows]);
          const ref = ring.reference(0, MONDAY_10 + judged, HOUR_MS, 14 * 24 * HOUR_MS);
          if (ref === null) return false;
          const z = robustZ(value, ref, madFloor);
          return !cannotReach(value, ring.lowest(0), madFloor, threshold) || z < threshold;
        },
      ),
      { numRuns: 400, seed: 5 },
    );
  });

  it('lets the usual value through unjudged and a bulk read to the reference', () => {
    const ring = new HistoryRing(1);
    for (let i = 0; i < 20; i++) ring.push(MONDAY_10 + i, [3]);
    expect(cannotReach(4, ring.lowest(0), 0.35, 5)).toBe(true);
    expect(cannotReach(5000, ring.lowest(0), 0.35, 5)).toBe(false);
  });
});

describe('a role\'s context set (ContextRows) as it fills', () => {
  it('keeps the slot order and replaces the least recently seen once full; a snapshot\'s set loads back', () => {
    const rows = new ContextRows();
    const row = rows.alloc(0);
    for (let i = 0; i < CONTEXT_SLOTS; i++) rows.add(row, 1000 + i, 500 + i);
    rows.add(row, 1000, 900); // refresh: the oldest is now 1001
    rows.add(row, 7, 901);
    const [hashes, hours] = rows.toJson(row);
    expect([hashes.length, hashes[0], hashes[1], hashes[47], hours[0], hours[1]]).toEqual([CONTEXT_SLOTS, 1000, 7, 1047, 900, 901]);
    const copy = rows.alloc(0);
    rows.load(copy, 0, 0, 0, contextSetFromJson(JSON.parse(JSON.stringify(rows.toJson(rows.alloc(0)))), 'test'));
    rows.add(copy, 5, 1);
    expect([rows.has(copy, 5), rows.contexts(copy)]).toEqual([true, 1]);
    expect(() => contextSetFromJson([[1, 2], [3]], 'snap.roles[0].seen')).toThrow('snap.roles[0].seen: malformed context set');
    expect(() => contextSetFromJson({}, 'snap.roles[0].seen')).toThrow('snap.roles[0].seen: expected [hashes, hours]');
  });
});

describe('RoleTable on a shared RoleDirectory', () => {
  it('keeps the order and evictions GroupTable gives for the same sequence', () => {
    const directory = new RoleDirectory();
    const table = new RoleTable<{ ms: number }>(directory, 10, (s) => s.ms);
    const other = new RoleTable<{ ms: number }>(directory, 1000, (s) => s.ms);
    const group = new GroupTable<{ ms: number }>(10, (s) => s.ms);
    for (let i = 0; i < 40; i++) {
      const user = `u${(i * 7) % 23}`;
      const ms = (i * 37) % 101;
      if (table.get(user) === undefined) {
        table.set(user, { ms });
        group.set(user, { ms });
        other.set(user, { ms: -1 });
      }
    }
    expect([...table.entries()]).toEqual([...group.entries()]);
    expect(table.evicted).toBe(group.evicted);
    expect(other.size).toBe(23);
  });

  it('looks an event role up once for every table of the directory, and drops a card when no table holds the role', () => {
    const directory = new RoleDirectory();
    const a = new RoleTable<string>(directory, 10, () => 0);
    const b = new RoleTable<string>(directory, 10, () => 0);
    a.set('sari', 'a-state');
    const event = makeEvent({ user: 'sari' });
    expect([a.of(event), b.of(event)]).toEqual(['a-state', undefined]);
    b.set('sari', 'b-state');
    expect([a.of(event), b.of(event), directory.get('sari')?.held]).toEqual(['a-state', 'b-state', 2]);
    a.clear();
    b.clear();
    expect([a.of(event), b.of(event), directory.get('sari')]).toEqual([undefined, undefined, undefined]);
  });

  it('shares one directory per DetectorDeps.installation and none without it', () => {
    const installation = {};
    expect(RoleDirectory.of({ installation })).toBe(RoleDirectory.of({ installation }));
    expect(RoleDirectory.of({})).not.toBe(RoleDirectory.of({}));
  });
});

describe('classedTables', () => {
  it('gives the classed relations of audit.object_name and query.relations in order, with their table hashes', async () => {
    const { context } = await shippedBaselines();
    const pii = ['pii'];
    const key = tableClassesKey(pii);
    const single = makeEvent({ kind: 'audit', audit: audit({ object_name: 'Customers' }) });
    const several = makeEvent({ kind: 'audit', audit: audit({ object_name: 'public.orders' }), query: { relations: ['payments', 'public.customers'] } as never });
    const none = makeEvent({ kind: 'audit', audit: audit({ object_name: 'public.orders' }) });
    expect(classedTables(single, context, pii, key)).toEqual({ key, relations: ['public.customers'], hashes: [contextPairHash('table', 'public.customers')] });
    expect(classedTables(several, context, pii, key).relations).toEqual(['public.payments', 'public.customers']);
    expect(classedTables(none, context, pii, key).hashes).toEqual([]);
    expect(classedTables(single, context, pii, key)).toBe(classedTables(single, context, pii, key));
  });
});
