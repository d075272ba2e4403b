/**
 * The allocation-free paths of the baseline detectors give what the allocating ones gave: the
 * network hash without the network string, a ring push without the measures array and one Int32Array
 * per ring holding Float32 bits, the volume detector's table list (a Map before), the breadth
 * detector's reused spans, and `wants` being the rule's condition (DetectorModule `wants:
 * 'condition'`) with user-less or non-activity events ignored by `observe`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientNetwork, clientNetworkHash, contextPairHash } from '../../../src/detect/baseline/context-set.js';
import { HistoryRing } from '../../../src/detect/baseline/history-ring.js';
import { MAX_TABLES_PER_ROLE } from '../../../src/detect/baseline/volume-baseline-detector.js';
import { DetectionEngine } from '../../../src/detect/detection-engine.js';
import type { MatchContext } from '../../../src/detect/compiled-rule.js';
import { DETECTOR_REGISTRY } from '../../../src/detect/detector-registry.js';
import { makeEvent } from '../rule-fixtures.js';
import { MONDAY_MS, readEvent, shippedBaselines } from './baseline-fixtures.js';

const HOUR_MS = 3_600_000;
const MONDAY_10 = Date.parse('2026-01-05T10:00:00.000Z') / HOUR_MS;

describe('clientNetworkHash', () => {
  it('is contextPairHash of the /24 or /48 network for addresses of every shape, null when there is no network', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 999 }).map(String), fc.constantFrom('', '0001', 'x'));
    const dotted = fc.array(octet, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.'));
    fc.assert(
      fc.property(fc.oneof(dotted, fc.string(), fc.constantFrom('::1', 'fe80::1:2', '2001:db8:1:2::5', '[local]')), (address) => {
        const network = clientNetwork(address);
        expect(clientNetworkHash(address)).toBe(network === null ? null : contextPairHash('client_net', network));
      }),
      { numRuns: 3000 },
    );
    expect(clientNetworkHash('10.1.2.3')).toBe(contextPairHash('client_net', '10.1.2.0/24'));
    expect(clientNetworkHash('local')).toBeNull();
  });
});

describe('HistoryRing in one Int32Array', () => {
  it('pushValues stores what push stores, values rounded to Float32 exactly as a Float32Array rounds them', () => {
    const byArray = new HistoryRing(2);
    const byValues = new HistoryRing(2);
    const single = new HistoryRing(1);
    for (let i = 0; i < 140; i++) {
      const rows = i * 1.37 + (i % 5) * 1e6;
      byArray.push(MONDAY_10 + i, [rows, i % 3]);
      byValues.pushValues(MONDAY_10 + i, rows, i % 3);
      single.pushValues(MONDAY_10 + i, rows, 99);
    }
    expect(byValues.toJson()).toEqual(byArray.toJson());
    const [, values] = byArray.toJson();
    const rounded = Float32Array.from(Array.from({ length: 140 }, (_, i) => [Math.log1p(i * 1.37 + (i % 5) * 1e6), Math.log1p(i % 3)]).flat());
    // the ring keeps the last 128 buckets from slot 12 on (next = 140 % 128)
    expect(values.slice(0, 24)).toEqual(Array.from(rounded.subarray(256, 280)));
    expect(values.slice(24)).toEqual(Array.from(rounded.subarray(24, 256)));
    expect(single.toJson()[1].slice(0, 3)).toEqual(Array.from(Float32Array.from([128, 129, 130].map((i) => Math.log1p(i * 1.37 + (i % 5) * 1e6)))));
    expect(byArray.reference(0, MONDAY_10 + 140, HOUR_MS, 14 * 24 * HOUR_MS)).toEqual(HistoryRing.fromJson(JSON.parse(JSON.stringify(byArray.toJson())), 2, 'test').reference(0, MONDAY_10 + 140, HOUR_MS, 14 * 24 * HOUR_MS));
  });
});

describe('baseline detectors decided by their rule condition', () => {
  it('declare wants: condition, and observe ignores user-less events and (time of week) non-activity kinds without learning them', async () => {
    const { rules, context } = await shippedBaselines();
    for (const rule of rules) expect([rule.id, DETECTOR_REGISTRY.get(rule.type)?.wants]).toEqual([rule.id, 'condition']);
    const engine = new DetectionEngine(rules, context);
    const userless = readEvent('nobody', 'public.customers', 5, MONDAY_MS + 10 * HOUR_MS, { user: null });
    const failure = makeEvent({ id: 'test:noauth', time: new Date(MONDAY_MS + 10 * HOUR_MS).toISOString(), kind: 'error', user: null, sqlstate: '42501', client_addr: null });
    expect([...engine.process(userless), ...engine.process(failure)]).toEqual([]);
    const held = Object.values(engine.snapshot().detectors).map(({ state }) => {
      const { entities, roles, firstEventMs } = state as { entities?: unknown[]; roles?: unknown[]; firstEventMs?: unknown };
      return [(entities ?? roles)?.length, firstEventMs ?? null];
    });
    expect(held).toEqual([[0, null], [0, null], [0, null], [0, null], [0, null]]);
    const tow = rules.find((rule) => rule.type === 'baseline_time_of_week');
    const detector = DETECTOR_REGISTRY.get('baseline_time_of_week')?.create(tow as never, {});
    const error = makeEvent({ id: 'test:err', time: new Date(MONDAY_MS + 3 * HOUR_MS).toISOString(), kind: 'error', user: 'ops', sqlstate: '42501' });
    expect(detector?.observe(error, context)).toEqual([]);
    expect(detector?.snapshot()).toEqual({ roles: [] });
  });
});

describe('volume table entities in a list', () => {
  it('drops the least recently read table past MAX_TABLES_PER_ROLE and keeps the others in first-read order', async () => {
    const { rules, context } = await shippedBaselines();
    const volume = rules.find((rule) => rule.type === 'baseline_volume');
    const detector = DETECTOR_REGISTRY.get('baseline_volume')?.create(volume as never, {});
    const everyTablePii: MatchContext = { lists: context.lists, classesOf: () => ['pii'] };
    const read = (table: string, minute: number): void => void detector?.observe(readEvent('ana', table, 3, MONDAY_MS + minute * 60_000), everyTablePii);
    for (let i = 0; i < MAX_TABLES_PER_ROLE; i++) read(`t${i}`, i);
    read('T0', 40); // the same table as t0 (qualified lower-case): now the most recently read
    read('t32', 41); // drops t1
    read('t33', 42); // drops t2
    const tables = (detector?.snapshot() as { entities: unknown[][] }).entities.filter((e) => e[0] === 1).map((e) => e[2]);
    expect(tables).toEqual(['public.t0', ...Array.from({ length: 31 }, (_, i) => `public.t${i + 3}`)]);
  });
});

describe('breadth spans reused across buckets', () => {
  it('counts a reused span from zero: a bucket after one of three tables holds only its own table', async () => {
    const { rules, context } = await shippedBaselines();
    const breadth = rules.find((rule) => rule.type === 'baseline_breadth');
    const detector = DETECTOR_REGISTRY.get('baseline_breadth')?.create(breadth as never, {});
    const at = MONDAY_MS + 10 * HOUR_MS;
    for (const [i, table] of ['public.customers', 'public.payments', 'public.support_tickets'].entries()) detector?.observe(readEvent('ana', table, 1, at + i * 60_000, { pid: 7, session_id: 's7' }), context);
    detector?.advance(at + 3 * HOUR_MS);
    detector?.observe(readEvent('ana', 'public.payments', 1, at + 3 * HOUR_MS + 60_000, { pid: 8, session_id: 's8' }), context);
    const [role] = (detector?.snapshot() as { roles: unknown[][] }).roles;
    const [bucket, sessions, hours, sessionHistory] = (role as unknown[]).slice(4);
    expect((bucket as unknown[])[3]).toHaveLength(1);
    expect((sessions as unknown[][]).map((span) => (span[3] as unknown[]).length)).toEqual([1]);
    expect((hours as number[][])[1]).toEqual([Math.fround(Math.log1p(3))]);
    expect((sessionHistory as number[][])[1]).toEqual([Math.fround(Math.log1p(3))]);
  });
});
