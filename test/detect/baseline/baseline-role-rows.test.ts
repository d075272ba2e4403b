/**
 * ContextRows (a role's known contexts in one fixed row of shared storage) behaving as a plain
 * bounded set (the model below), and the volume detector's per-role state across restores that list a role's table
 * entities before (or without) its role entity, and `entities: [role_table]` evicting by the
 * role's last event (what the entities built by `entityOf` keep).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContextRows } from '../../../src/detect/baseline/context-rows.js';
import { CONTEXT_SLOTS } from '../../../src/detect/baseline/context-set.js';
import { DETECTOR_REGISTRY } from '../../../src/detect/detector-registry.js';
import type { Detector } from '../../../src/detect/detector.js';
import { MONDAY_MS, readEvent, shippedBaselines } from './baseline-fixtures.js';

const HOUR_MS = 3_600_000;

/** The set semantics ContextRows keeps, on plain arrays: add or refresh; when full, replace the least recently seen (first of equals). */
class ModelSet {
  readonly hashes: number[] = [];
  readonly hours: number[] = [];
  get size(): number {
    return this.hashes.length;
  }
  has(hash: number): boolean {
    return this.hashes.includes(hash);
  }
  add(hash: number, hour: number): void {
    const at = this.hashes.indexOf(hash);
    if (at >= 0) {
      this.hours[at] = Math.max(this.hours[at] as number, hour);
      return;
    }
    let slot = this.size;
    if (slot === CONTEXT_SLOTS) slot = this.hours.indexOf(Math.min(...this.hours));
    this.hashes[slot] = hash;
    this.hours[slot] = hour;
  }
  toJson(): [number[], number[]] {
    return [[...this.hashes], [...this.hours]];
  }
}

describe('ContextRows', () => {
  it('gives each row what the model set given the same adds holds (slots, hours, replacement when full), across chunks', () => {
    const op = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 500 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const rows = new ContextRows();
        // rows 0, 1 and 1500 (a second chunk); the rows between are taken and left empty
        const taken = Array.from({ length: 1501 }, (_, i) => rows.alloc(i));
        const watched = [taken[0], taken[1], taken[1500]] as number[];
        const sets = watched.map(() => new ModelSet());
        for (const [which, hash, hour] of ops) {
          rows.add(watched[which] as number, hash - 35, hour);
          (sets[which] as ModelSet).add(hash - 35, hour);
        }
        for (const [i, row] of watched.entries()) {
          const set = sets[i] as ModelSet;
          expect(rows.toJson(row)).toEqual(set.toJson());
          expect(rows.contexts(row)).toBe(set.size);
          for (let hash = -36; hash <= 36; hash++) expect(rows.has(row, hash)).toBe(set.has(hash));
        }
        expect(rows.toJson(taken[2] as number)).toEqual([[], []]);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps times and event counts per row, and a freed row comes back empty with the new times', () => {
    const rows = new ContextRows();
    const a = rows.alloc(1000);
    const b = rows.alloc(2000);
    for (let i = 0; i < CONTEXT_SLOTS + 2; i++) rows.add(a, i, 10 + i);
    rows.countEvent(a, 1500);
    rows.countEvent(a, 1200);
    rows.countEvent(b, 2500);
    expect([rows.firstSeenMs(a), rows.lastSeenMs(a), rows.events(a), rows.contexts(a), rows.has(a, 0), rows.has(a, 49)]).toEqual([1000, 1500, 2, CONTEXT_SLOTS, false, true]);
    expect([rows.firstSeenMs(b), rows.lastSeenMs(b), rows.events(b), rows.contexts(b), rows.size]).toEqual([2000, 2500, 1, 0, 2]);
    rows.free(a);
    const c = rows.alloc(3000);
    expect([c, rows.firstSeenMs(c), rows.lastSeenMs(c), rows.events(c), rows.contexts(c), rows.has(c, 49), rows.toJson(c)]).toEqual([a, 3000, 3000, 0, 0, false, [[], []]]);
    rows.load(c, 5, 6, 7, [[11, 12], [100, 101]]);
    expect([rows.firstSeenMs(c), rows.lastSeenMs(c), rows.events(c), rows.toJson(c)]).toEqual([5, 6, 7, [[11, 12], [100, 101]]]);
    rows.clear();
    expect([rows.size, rows.alloc(1)]).toEqual([0, 0]);
  });
});

/** the shipped baseline.volume detector, its params changed by `params` */
async function volumeDetector(params: Record<string, unknown> = {}): Promise<{ detector: Detector; context: Awaited<ReturnType<typeof shippedBaselines>>['context'] }> {
  const { rules, context } = await shippedBaselines();
  const rule = rules.find((r) => r.type === 'baseline_volume');
  const detector = DETECTOR_REGISTRY.get('baseline_volume')?.create({ ...rule, params: { ...rule?.params, ...params } } as never, {}) as Detector;
  return { detector, context };
}

type Entities = unknown[][];

describe('volume per-role state', () => {
  it('restores a snapshot listing a role entity after its tables: the tables are kept, in order, and the role is judged on', async () => {
    const { detector, context } = await volumeDetector({ min_history: HOUR_MS, min_samples: 1 });
    const at = MONDAY_MS + 9 * HOUR_MS;
    detector.observe(readEvent('ana', 'public.customers', 3, at), context);
    detector.observe(readEvent('ana', 'public.payments', 4, at + 60_000), context);
    const entities = (detector.snapshot() as { entities: Entities }).entities;
    expect(entities.map((e) => [e[0], e[2]])).toEqual([[0, null], [1, 'public.customers'], [1, 'public.payments']]);
    const reordered = { ...(detector.snapshot() as object), entities: [entities[1], entities[2], entities[0]] };
    const { detector: restored } = await volumeDetector({ min_history: HOUR_MS, min_samples: 1 });
    restored.restore(JSON.parse(JSON.stringify(reordered)));
    expect((restored.snapshot() as { entities: Entities }).entities).toEqual(entities);
    restored.observe(readEvent('ana', 'public.customers', 5, at + HOUR_MS), context);
    const after = (restored.snapshot() as { entities: Entities }).entities;
    // the role entity and customers count the read of the next hour (rows 5, statements 1); payments keeps its hour
    const hour = Math.floor(at / HOUR_MS);
    expect(after.map((e) => [e[2], e[7], e[9], e[10]])).toEqual([[null, hour + 1, 5, 1], ['public.customers', hour + 1, 5, 1], ['public.payments', hour, 4, 1]]);
  });

  it('restores tables without a role entity and starts the role entity at its next event, first seen then', async () => {
    const { detector, context } = await volumeDetector();
    const at = MONDAY_MS + 9 * HOUR_MS;
    detector.observe(readEvent('bo', 'public.customers', 3, at), context);
    const tablesOnly = (detector.snapshot() as { nextSweepMs: unknown; entities: Entities }).entities.filter((e) => e[0] === 1);
    const { detector: restored } = await volumeDetector();
    restored.restore({ nextSweepMs: null, entities: JSON.parse(JSON.stringify(tablesOnly)) });
    expect((restored.snapshot() as { entities: Entities }).entities).toEqual(tablesOnly);
    restored.observe(readEvent('bo', 'public.customers', 2, at + 2 * HOUR_MS, { server: 'db2' }), context);
    const after = (restored.snapshot() as { entities: Entities }).entities;
    expect(after.map((e) => [e[0], e[4], e[5], e[6]])).toEqual([[0, 'db2', at + 2 * HOUR_MS, at + 2 * HOUR_MS], [1, tablesOnly[0]?.[4], at, at + 2 * HOUR_MS]]);
  });

  it('with entities [role_table], evicts by the role last seen, counting its reads of tables outside table_classes', async () => {
    const { detector, context } = await volumeDetector({ entities: ['role_table'], max_entities: 2 });
    const at = (minute: number): number => MONDAY_MS + 9 * HOUR_MS + minute * 60_000;
    detector.observe(readEvent('ana', 'public.customers', 1, at(0)), context);
    detector.observe(readEvent('bo', 'public.customers', 1, at(1)), context);
    // ana's read of a table that is not pii makes her the more recently seen role: bo is dropped for cy
    detector.observe(readEvent('ana', 'public.products', 1, at(2)), context);
    detector.observe(readEvent('cy', 'public.customers', 1, at(3)), context);
    const entities = (detector.snapshot() as { entities: Entities }).entities;
    expect(entities.map((e) => [e[0], e[1], e[2], e[6]])).toEqual([[1, 'ana', 'public.customers', at(0)], [1, 'cy', 'public.customers', at(3)]]);
  });
});
