/** HistoryRing: bounded, decayed robust references by hour of week, exact JSON round trip. */
import { describe, expect, it } from 'vitest';
import { HISTORY_SLOTS, HistoryRing } from '../../../src/detect/baseline/history-ring.js';
import { hourOfWeek, hourOfWeekLabel } from '../../../src/detect/baseline/hour-of-week.js';
import { weightedMedian } from '../../../src/detect/baseline/weighted-median.js';

const HOUR_MS = 3_600_000;
/** bucket number (1 h buckets) of 2026-01-05T10:00Z, a Monday */
const MONDAY_10 = Date.parse('2026-01-05T10:00:00.000Z') / HOUR_MS;

describe('hour of week', () => {
  it('counts from Monday 00:00 UTC', () => {
    expect(hourOfWeek(Date.parse('2026-01-05T00:30:00Z'))).toBe(0);
    expect(hourOfWeek(Date.parse('2026-11-29T17:21:02Z'))).toBe(161);
    expect(hourOfWeekLabel(161)).toBe('sun 17:00');
  });
});

describe('weightedMedian', () => {
  it('is the plain median for equal weights and the lower weighted median otherwise', () => {
    expect(weightedMedian(Float64Array.from([1, 9, 3, 7]), Float64Array.from([1, 1, 1, 1]), 4)).toBe(5);
    expect(weightedMedian(Float64Array.from([1, 9, 3]), Float64Array.from([0.1, 5, 0.1]), 3)).toBe(9);
    expect(Number.isNaN(weightedMedian(new Float64Array(0), new Float64Array(0), 0))).toBe(true);
  });
});

describe('HistoryRing', () => {
  it('uses the same hour of week once three buckets of it are held, else every bucket', () => {
    const ring = new HistoryRing(1);
    for (let day = 0; day < 14; day++) ring.push(MONDAY_10 + day * 24 + 4, [1000]); // 14:00 daily: 1000 rows
    ring.push(MONDAY_10 - 7 * 24, [10]);
    ring.push(MONDAY_10 - 14 * 24, [10]);
    const two = ring.reference(0, MONDAY_10 + 14 * 24, 3_600_000, 14 * 24 * HOUR_MS);
    expect([two?.hourOfWeek, two?.size, Math.round(Math.expm1(two!.median))]).toEqual([false, 16, 1000]);
    ring.push(MONDAY_10 - 21 * 24, [10]);
    const three = ring.reference(0, MONDAY_10 + 14 * 24, 3_600_000, 14 * 24 * HOUR_MS);
    expect([three?.hourOfWeek, three?.size, Math.round(Math.expm1(three!.median)), three?.mad, three?.periodMs]).toEqual([true, 3, 10, 0, 35 * 24 * HOUR_MS]);
  });

  it('keeps the newest 128 buckets and round-trips through JSON bit for bit', () => {
    const ring = new HistoryRing(2);
    for (let i = 0; i < HISTORY_SLOTS + 5; i++) ring.push(MONDAY_10 + i, [i, i * 2]);
    expect(ring.size).toBe(HISTORY_SLOTS);
    const copy = HistoryRing.fromJson(JSON.parse(JSON.stringify(ring.toJson())), 2, 'test');
    expect(copy.reference(1, MONDAY_10 + 200, HOUR_MS, 7 * 24 * HOUR_MS)).toEqual(ring.reference(1, MONDAY_10 + 200, HOUR_MS, 7 * 24 * HOUR_MS));
    expect(() => HistoryRing.fromJson([[1], [1], 0], 2, 'state')).toThrow('state: malformed history ring');
  });
});
