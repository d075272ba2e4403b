/**
 * A string JSON.stringify would not write as `"` + itself + `"`: it holds `"`, `\`, a control
 * character (escaped) or a surrogate (a lone one is escaped; a pair is matched too, harmlessly).
 * ECMA-262, "QuoteJSONString". U+2028/2029 and U+007F are written as they are.
 */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify(text)` (ECMA-262 QuoteJSONString), without its call for the (usual) text that
 * needs no escape. The JSON helpers of `EventJsonSerializer` live here too.
 */
export function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** `JSON.stringify(text)` for a string or null. */
export function quoteOrNull(text: string | null): string {
  return text === null ? 'null' : quote(text);
}

/** `JSON.stringify(value)` for a number or null: `null` for NaN and the infinities too. */
export function numberOrNull(value: number | null): string {
  return value !== null && Number.isFinite(value) ? `${value}` : 'null';
}

/** `JSON.stringify(values)` for an array of strings. */
export function quoteArray(values: readonly string[]): string {
  if (values.length === 0) return '[]';
  let json = `[${quote(values[0] as string)}`;
  for (let i = 1; i < values.length; i++) json += `,${quote(values[i] as string)}`;
  return `${json}]`;
}
