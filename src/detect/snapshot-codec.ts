/**
 * Small helpers shared by the detectors' `snapshot`/`restore`: JSON has no -Infinity, so unset
 * times are written as null; restore checks shapes and throws plain Errors naming what is wrong.
 */

/** `-Infinity` (unset) → null, other numbers unchanged. */
export function timeToJson(ms: number): number | null {
  return Number.isFinite(ms) ? ms : null;
}

/** null → `-Infinity` (unset); @throws Error naming `where` when `value` is neither null nor a finite number */
export function timeFromJson(value: unknown, where: string): number {
  if (value === null) return Number.NEGATIVE_INFINITY;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new Error(`${where}: expected a time in ms or null`);
}

/** @throws Error naming `where` when `value` is not a plain object */
export function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where}: expected an object`);
  return value as Record<string, unknown>;
}

/** @throws Error naming `where` when `value` is not an array */
export function asArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: expected an array`);
  return value;
}
