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
