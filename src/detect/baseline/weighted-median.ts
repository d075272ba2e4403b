import { median } from 'simple-statistics';

const order: number[] = [];
/** Up to this many entries `order` is put in order by insertion sort (no comparator calls), beyond by Array#sort. */
const INSERTION_SORT_MAX = 32;

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
  if (n <= INSERTION_SORT_MAX) insertionSort(values, n);
  else order.sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
  let cumulative = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k] as number;
    cumulative += weights[i] as number;
    if (cumulative >= total / 2) return values[i] as number;
  }
  return values[order[n - 1] as number] as number;
}

/**
 * Sorts `order[0..n)` by value, then index: the same total order as the Array#sort comparator,
 * hence the same result. Histories are short (a few same-hour buckets), where this is faster.
 */
function insertionSort(values: Float64Array, n: number): void {
  for (let k = 1; k < n; k++) {
    const i = order[k] as number;
    const value = values[i] as number;
    let j = k - 1;
    while (j >= 0) {
      const other = order[j] as number;
      if (((values[other] as number) - value || other - i) <= 0) break; // the Array#sort comparator
      order[j + 1] = other;
      j--;
    }
    order[j + 1] = i;
  }
}
