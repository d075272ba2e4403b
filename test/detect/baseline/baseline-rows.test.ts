/**
 * The row-based state of the baseline detectors: NumberRows (time fields in one shared
 * Float64Array), the RoleDirectory's cards as rows of one flat array, and rows freed by the
 * `max_entities` bound being reused without carrying the dropped role's values.
 */
import { describe, expect, it } from 'vitest';
import { NumberRows } from '../../../src/detect/baseline/number-rows.js';
import { RoleDirectory } from '../../../src/detect/baseline/role-directory.js';
import { DetectionEngine } from '../../../src/detect/detection-engine.js';
import { makeEvent } from '../rule-fixtures.js';
import { MONDAY_MS, readEvent, shippedBaselines } from './baseline-fixtures.js';

const HOUR_MS = 3_600_000;

describe('NumberRows', () => {
  it('keeps every row through growth, reuses freed rows zeroed, and clear frees them all', () => {
    const rows = new NumberRows(3);
    const taken = Array.from({ length: 200 }, () => rows.alloc());
    for (const row of taken) rows.data.set([row, row + 0.5, -row], row * 3);
    expect(taken.slice(0, 3)).toEqual([0, 1, 2]);
    expect(Array.from(rows.data.subarray(199 * 3, 200 * 3))).toEqual([199, 199.5, -199]);
    expect(Array.from(rows.data.subarray(63 * 3, 65 * 3))).toEqual([63, 63.5, -63, 64, 64.5, -64]);
    rows.free(7);
    rows.free(9);
    expect(rows.size).toBe(198);
    expect(rows.alloc()).toBe(9);
    expect(Array.from(rows.data.subarray(27, 30))).toEqual([0, 0, 0]);
    expect(rows.alloc()).toBe(7);
    expect(rows.alloc()).toBe(200);
    rows.clear();
    expect([rows.size, rows.alloc(), rows.data[1]]).toEqual([0, 0, 0]);
  });
});

describe('NumberRows.add', () => {
  it('writes the given values from the first column, zeros after them, also in a reused row', () => {
    const rows = new NumberRows(3);
    const a = rows.add([1.5, 2]);
    expect(Array.from(rows.data.subarray(a * 3, a * 3 + 3))).toEqual([1.5, 2, 0]);
    rows.data[a * 3 + 2] = 9;
    rows.free(a);
    const b = rows.add([7]);
    expect(b).toBe(a);
    expect(Array.from(rows.data.subarray(b * 3, b * 3 + 3))).toEqual([7, 0, 0]);
  });
});

describe('RoleDirectory rows', () => {
  it('reuses the row of a dropped card with empty slots, and a slot registered after cards exist widens them', () => {
    const directory = new RoleDirectory();
    const a = directory.register();
    directory.put('ana', a, 'ana-a');
    directory.put('bo', a, 'bo-a');
    const b = directory.register();
    directory.put('bo', b, 'bo-b');
    expect([directory.get('ana'), directory.get('bo')]).toEqual([
      { user: 'ana', states: ['ana-a', undefined], held: 1 },
      { user: 'bo', states: ['bo-a', 'bo-b'], held: 2 },
    ]);
    directory.remove('ana', a);
    directory.put('cy', b, 'cy-b');
    expect([directory.get('ana'), directory.get('cy'), directory.get('bo')?.states]).toEqual([undefined, { user: 'cy', states: [undefined, 'cy-b'], held: 1 }, ['bo-a', 'bo-b']]);
    expect(directory.stateOf(makeEvent({ user: 'cy' }), a)).toBeUndefined();
    expect(directory.stateOf(makeEvent({ user: 'cy' }), b)).toBe('cy-b');
  });
});

describe('rows freed by max_entities', () => {
  it('give a later role its own first and last seen times and an empty profile, for each role-keyed baseline', async () => {
    const { rules, context } = await shippedBaselines();
    const bounded = rules.map((rule) => ({ ...rule, params: { ...rule.params, max_entities: 2 } }));
    const engine = new DetectionEngine(bounded, context);
    const at = (minute: number): number => MONDAY_MS + 9 * HOUR_MS + minute * 60_000;
    // each new role past two drops the least recently seen one: ana, then bo; dee takes a freed row
    for (const [minute, user] of [[0, 'ana'], [1, 'bo'], [2, 'cy'], [3, 'dee']] as const) engine.process(readEvent(user, 'public.customers', 5, at(minute), { client_addr: '10.0.0.9' }));
    const detectors = engine.snapshot().detectors as Record<string, { type: string; state: Record<string, unknown[][]> }>;
    const dee = (type: string, list: string, userAt: number): unknown[] => {
      const state = Object.values(detectors).find((d) => d.type === type)?.state;
      const entries = (state?.[list] ?? []).filter((entry) => entry[userAt] === 'dee');
      expect(entries.length).toBeGreaterThan(0);
      return entries[0] as unknown[];
    };
    const users = (type: string, list: string, userAt: number): unknown[] => (Object.values(detectors).find((d) => d.type === type)?.state[list] ?? []).map((entry) => entry[userAt]);
    const volume = dee('baseline_volume', 'entities', 1);
    const week = dee('baseline_time_of_week', 'roles', 0);
    const fresh = dee('baseline_new_context', 'roles', 0);
    const breadth = dee('baseline_breadth', 'roles', 0);
    expect([...new Set(users('baseline_volume', 'entities', 1))]).toEqual(['cy', 'dee']);
    expect(users('baseline_time_of_week', 'roles', 0)).toEqual(['cy', 'dee']);
    expect(users('baseline_new_context', 'roles', 0)).toEqual(['cy', 'dee']);
    expect(users('baseline_breadth', 'roles', 0)).toEqual(['cy', 'dee']);
    expect(volume.slice(5, 7)).toEqual([at(3), at(3)]);
    expect(week.slice(2, 7)).toEqual([at(3), at(3), at(3), Math.floor(at(3) / HOUR_MS), -1]);
    expect((week[7] as number[]).reduce((sum, n) => sum + n, 0)).toBe(1);
    expect(fresh.slice(2, 5)).toEqual([at(3), at(3), 1]);
    expect(breadth.slice(2, 4)).toEqual([at(3), at(3)]);
  });
});
