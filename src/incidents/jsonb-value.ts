/**
 * A JSON value as PostgreSQL gives it back from a `jsonb` column it was written to as
 * `JSON.stringify(value)`: what JSON.stringify keeps (no `undefined` members, `NaN` as null, dates as
 * text...), with every object's keys in jsonb's storage order, shorter keys first and keys of one length
 * by their UTF-8 bytes (PostgreSQL docs, datatype-json: "jsonb ... does not preserve the order of object
 * keys"; the order is that of `lengthCompareJsonbString` in src/backend/utils/adt/jsonb_util.c). Both
 * store drivers parse jsonb with JSON.parse, which keeps that order. Arrays keep their order.
 *
 * Used where code builds the value a jsonb column will hold without reading it back, so that its key
 * order (visible once serialised again, e.g. in a notification payload) is the stored one.
 *
 * Example: `jsonbValue({ zz: 1, a: { bb: 2, c: 3 }, u: undefined })` → `{ a: { c: 3, bb: 2 }, zz: 1 }`.
 * @returns a fresh value (never the argument); `undefined` for a value JSON.stringify drops (e.g. a function)
 */
export function jsonbValue(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : reorder(JSON.parse(text) as unknown);
}

function reorder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorder);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (!inJsonbOrder(keys)) keys.sort(compareKeys);
  const out: Record<string, unknown> = {};
  // defineProperty: a `__proto__` key (an own property after JSON.parse) must stay a plain key
  for (const key of keys) Object.defineProperty(out, key, { value: reorder(record[key]), enumerable: true, writable: true, configurable: true });
  return out;
}

function inJsonbOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (compareKeys(keys[i - 1]!, keys[i]!) > 0) return false;
  return true;
}

/** jsonb's key order: UTF-8 length, then bytes (for ASCII keys: length, then UTF-16 code units, the same order). */
function compareKeys(a: string, b: string): number {
  if (isAscii(a) && isAscii(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length - y.length || Buffer.compare(x, y);
}

/** Only ASCII characters: its UTF-8 byte length is its UTF-16 length. */
function isAscii(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') === text.length;
}
