/**
 * weightedMedian orders short histories by insertion sort: the result must equal the lower
 * weighted median computed with the Array#sort comparator (value, then index) for every input,
 * ties and equal weights included, on both sides of the insertion-sort bound.
 */
import fc from 'fast-check';
import { median } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { weightedMedian } from '../../../src/detect/baseline/weighted-median.js';

/** the definition: equal weights → simple-statistics median; else sort indices by (value, index) and take the first reaching half the weight */
function reference(values: number[], weights: number[]): number {
  if (weights.every((w) => w === weights[0])) return median(values);
  const order = values.map((_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
  const total = weights.reduce((sum, w) => sum + w, 0);
  let cumulative = 0;
  for (const i of order) {
    cumulative += weights[i] as number;
    if (cumulative >= total / 2) return values[i] as number;
  }
  return values[order[order.length - 1] as number] as number;
}

describe('weightedMedian ordering', () => {
  it('picks the lower weighted median with ties broken by position', () => {
    // values 2, 1, 2, 1 with weights 1, 1, 1, 2: total 5, half 2.5; order 1(i1) 1(i3) 2(i0) 2(i2): cumulative 1, 3 → 1
    expect(weightedMedian(Float64Array.from([2, 1, 2, 1]), Float64Array.from([1, 1, 1, 2]), 4)).toBe(1);
    expect(weightedMedian(Float64Array.from([5, 3, 4]), Float64Array.from([0.25, 0.5, 1]), 3)).toBe(4);
  });

  it('equals the Array#sort definition for histories of 1 to 80 entries', () => {
    const entry = fc.record({ value: fc.oneof(fc.integer({ min: 0, max: 6 }).map((n) => n / 2), fc.double({ min: 0, max: 20, noNaN: true })), weight: fc.oneof(fc.constant(1), fc.double({ min: 0.01, max: 1, noNaN: true })) });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 80 }), (entries) => {
        const values = entries.map((e) => e.value);
        const weights = entries.map((e) => e.weight);
        return Object.is(weightedMedian(Float64Array.from(values), Float64Array.from(weights), values.length), reference(values, weights));
      }),
      { numRuns: 3000 },
    );
  });
});
