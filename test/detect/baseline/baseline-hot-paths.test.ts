/**
 * The per-event shortcuts of the baseline detectors keep what the full look-ups gave: breadth tries
 * the role's last session before its list and keeps a span's first table outside the list, volume
 * tries the role's last table entity before its list and reads its ring's size and lowest values
 * from the entity (restored as well), and closed spans come back empty when reused.
 */
import { describe, expect, it } from 'vitest';
import { BreadthBaselineDetector } from '../../../src/detect/baseline/breadth-baseline-detector.js';
import { contextPairHash } from '../../../src/detect/baseline/context-set.js';
import { VolumeBaselineDetector } from '../../../src/detect/baseline/volume-baseline-detector.js';
import type { BreadthParams, VolumeParams } from '../../../src/detect/baseline/baseline-params.js';
import type { CompiledRule, MatchContext } from '../../../src/detect/compiled-rule.js';
import { MONDAY_MS, readEvent, shippedBaselines } from './baseline-fixtures.js';

const HOUR_MS = 3_600_000;
const T = MONDAY_MS + 10 * HOUR_MS;
const table = (relation: string): number => contextPairHash('table', relation);
const session = (id: string): number => contextPairHash('session', id);
/** HistoryRing stores log1p values as Float32 */
const stored = (value: number): number => Math.fround(Math.log1p(value));

async function shipped<P>(type: string): Promise<{ rule: CompiledRule & { params: P }; context: MatchContext }> {
  const { rules, context } = await shippedBaselines();
  return { rule: rules.find((rule) => rule.type === type) as CompiledRule & { params: P }, context };
}

describe('baseline_breadth sessions and spans', () => {
  it('counts each session in its own span when a role switches between open sessions, tables in the order first read', async () => {
    const { rule, context } = await shipped<BreadthParams>('baseline_breadth');
    const detector = new BreadthBaselineDetector(rule);
    const reads: [string, string][] = [['sA', 'public.customers'], ['sB', 'public.payments'], ['sA', 'public.support_tickets'], ['sA', 'public.customers'], ['sB', 'public.customers']];
    reads.forEach(([id, relation], i) => detector.observe(readEvent('ana', relation, 1, T + i * 60_000, { session_id: id }), context));
    const [role] = (detector.snapshot() as { roles: unknown[][] }).roles as unknown[][];
    // [id, lastMs, flags, tables, firstMs]
    expect(role?.[4]).toEqual([T / HOUR_MS, T + 4 * 60_000, 0, [table('public.customers'), table('public.payments'), table('public.support_tickets')], T]);
    expect(role?.[5]).toEqual([
      [session('sA'), T + 3 * 60_000, 0, [table('public.customers'), table('public.support_tickets')], T],
      [session('sB'), T + 4 * 60_000, 0, [table('public.payments'), table('public.customers')], T + 60_000],
    ]);
  });

  it('opens an empty span for a session id that comes back after its session closed, and learns the closed counts', async () => {
    const { rule, context } = await shipped<BreadthParams>('baseline_breadth');
    const detector = new BreadthBaselineDetector(rule);
    detector.observe(readEvent('ana', 'public.customers', 1, T, { session_id: 'sA' }), context);
    detector.observe(readEvent('ana', 'public.payments', 1, T + 60_000, { session_id: 'sA' }), context);
    detector.advance(T + 3 * HOUR_MS);
    detector.observe(readEvent('ana', 'public.support_tickets', 1, T + 3 * HOUR_MS + 60_000, { session_id: 'sA' }), context);
    const [role] = (detector.snapshot() as { roles: unknown[][] }).roles as unknown[][];
    const later = T + 3 * HOUR_MS + 60_000;
    expect(role?.[4]).toEqual([T / HOUR_MS + 3, later, 0, [table('public.support_tickets')], later]);
    expect(role?.[5]).toEqual([[session('sA'), later, 0, [table('public.support_tickets')], later]]);
    expect(role?.[6]).toEqual([[T / HOUR_MS], [stored(2)], 1]);
    expect(role?.[7]).toEqual([[T / HOUR_MS], [stored(2)], 1]);
  });
});

describe('baseline_volume table entities and buckets', () => {
  it('keeps a role\'s tables apart when its reads alternate, and a table the bound dropped at once starts afresh', async () => {
    const { rule, context } = await shipped<VolumeParams>('baseline_volume');
    const everyTablePii: MatchContext = { lists: context.lists, classesOf: () => ['pii'] };
    const detector = new VolumeBaselineDetector(rule);
    const read = (relation: string, rows: number, timeMs: number): void => void detector.observe(readEvent('bo', relation, rows, timeMs), everyTablePii);
    read('public.t0', 5, T + 10_000);
    read('public.t1', 7, T + 20_000);
    read('public.t0', 11, T + 30_000);
    for (let i = 2; i < 32; i++) read(`public.t${i}`, 1, T + i * 10_000 + 20_000);
    // read earlier than every held table: the 33rd table is the least recently seen and dropped at once
    read('public.late', 3, T + 1_000);
    read('public.late', 4, T + 500_000);
    const entities = (detector.snapshot() as { entities: unknown[][] }).entities;
    const [roleEntity, ...tables] = entities;
    expect([roleEntity?.[2], roleEntity?.[9], roleEntity?.[10]]).toEqual([null, 5 + 7 + 11 + 30 + 3 + 4, 35]);
    expect(tables.map((e) => e[2])).toEqual(['public.t0', ...Array.from({ length: 30 }, (_, i) => `public.t${i + 2}`), 'public.late']);
    expect(tables[0]?.slice(9, 11)).toEqual([16, 2]);
    expect([tables[31]?.[5], tables[31]?.[9], tables[31]?.[10]]).toEqual([T + 500_000, 4, 1]);
  });

  it('snapshots an entity with no closed bucket as -2147483648 and restores it to the same state', async () => {
    const { rule, context } = await shipped<VolumeParams>('baseline_volume');
    const detector = new VolumeBaselineDetector(rule);
    detector.observe(readEvent('bo', 'public.customers', 5, T), context);
    const snapshot = JSON.parse(JSON.stringify(detector.snapshot())) as { entities: unknown[][] };
    expect(snapshot.entities.map((e) => [e[7], e[8]])).toEqual([[T / HOUR_MS, -2_147_483_648], [T / HOUR_MS, -2_147_483_648]]);
    detector.advance(T + 2 * HOUR_MS);
    const closed = JSON.parse(JSON.stringify(detector.snapshot())) as { entities: unknown[][] };
    expect(closed.entities.map((e) => [e[7], e[8]])).toEqual([[-2_147_483_648, T / HOUR_MS], [-2_147_483_648, T / HOUR_MS]]);
    const restored = new VolumeBaselineDetector(rule);
    restored.restore(closed);
    expect(restored.snapshot()).toEqual(closed);
  });
});
