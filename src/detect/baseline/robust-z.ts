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
