/**
 * True when `text` holds `value` at UTF-16 index `at` (`text.startsWith(value, at)` for
 * `at >= 0`), compared code unit by code unit: for the short values the parsers compare on every
 * record (a repeated column, a timestamp's minute) this loop beats the generic built-in.
 * Never throws; an `at` past the end gives false unless `value` is empty.
 */
export function textAt(text: string, at: number, value: string): boolean {
  const n = value.length;
  if (at + n > text.length) return false;
  for (let i = 0; i < n; i++) if (text.charCodeAt(at + i) !== value.charCodeAt(i)) return false;
  return true;
}

/**
 * Value of the `count` ASCII digits at UTF-16 index `at` of `text` (e.g. a timestamp's seconds),
 * read code unit by code unit without cutting a string.
 * @returns the number, or -1 when one of them is not a digit (or past the end)
 */
export function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 0x30;
    // NaN past the end fails both tests
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}
