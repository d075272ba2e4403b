import { median } from 'simple-statistics';

const order: number[] = [];

/**
 * The weighted median of `values[0..n)` with `weights[0..n)` (> 0): the smallest value at which the
 * cumulative weight reaches half the total (lower weighted median). With equal weights it is
 * simple-statistics' `median` (used then, so decay-free histories give the textbook value).
 * Returns NaN for n = 0. Allocation-free apart from a shared index array.
 */
export function weightedMedian(values: Float64Array, weights: Float64Array, n: number): number {
  if (n === 0) return Number.NaN;
  let equal = true;
  for (let i = 1; i < n && equal; i++) if (weights[i] !== weights[0]) equal = false;
  if (equal) return median(Array.from(values.subarray(0, n)));
  order.length = n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    total += weights[i] as number;
  }
  order.sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
  let cumulative = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k] as number;
    cumulative += weights[i] as number;
    if (cumulative >= total / 2) return values[i] as number;
  }
  return values[order[n - 1] as number] as number;
}
