import type { RobustReference } from './history-ring.js';

/** The consistency constant that makes a MAD estimate a normal standard deviation. */
export const MAD_TO_SIGMA = 1.4826;

/**
 * Robust z-score of a raw value against a log1p reference: (log1p(x) - median) / (1.4826 x
 * max(MAD, madFloor)). The floor (log1p units, > 0) stands for the MAD of a constant history
 * (MAD 0 would make any change infinite): with 0.25, a history of exactly 100 rows per bucket
 * judges 700 rows (log1p +1.94) as z = 5.2.
 */
export function robustZ(value: number, reference: RobustReference, madFloor: number): number {
  return (Math.log1p(Math.max(0, value)) - reference.median) / (MAD_TO_SIGMA * Math.max(reference.mad, madFloor));
}

/** Relative margin that keeps `cannotReach` safe from rounding (the z it stands for is computed in floating point). */
const BOUND_MARGIN = 1 - 1e-9;

/**
 * true when no reference whose median is at least `lowest` (log1p units; HistoryRing `lowest`)
 * can give `value` a robust z of `threshold` or more: z <= (log1p(x) - lowest) / (1.4826 x
 * madFloor), as the median is >= `lowest` and the MAD floor bounds the divisor from below. Lets a
 * detector skip computing the reference (a weighted median and MAD over the ring) for the common
 * event that cannot fire. `threshold` and `madFloor` > 0.
 */
export function cannotReach(value: number, lowest: number, madFloor: number, threshold: number): boolean {
  return Math.log1p(Math.max(0, value)) - lowest < threshold * MAD_TO_SIGMA * madFloor * BOUND_MARGIN;
}
