/**
 * Lenient readers for the two ends of a flat JSON object line that was cut because it was too long
 * (jsonlog records are flat: string and number values only; PostgreSQL docs, runtime-config-logging,
 * "Using JSON-Format Log Output").
 */

/** A JSON number (no leading zeros: RFC 8259, section 6), `true`, `false` or `null` at the start of a text. */
const JSON_SCALAR = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/;

/**
 * Reads the key/value pairs at the start of a cut JSON object text (`{"a":"x","b":12,"c":"yy...`).
 * Complete pairs are kept; a string value cut by the end of the text is kept up to the cut (a cut
 * escape sequence dropped); a cut key or number is dropped. Reading stops at the first byte that
 * does not fit a flat object (`"a":011` keeps `a: 0` and stops at the `1`). Never throws.
 * @returns the pairs read, or null when the text does not start with `{`
 */
export function parseJsonObjectPrefix(text: string): Record<string, unknown> | null {
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return null;
  i++;
  const out: Record<string, unknown> = {};
  for (;;) {
    i = skipSpace(text, i);
    if (text[i] === ',') i = skipSpace(text, i + 1);
    if (text[i] !== '"') return out;
    const key = readString(text, i);
    if (!key.complete) return out;
    i = skipSpace(text, key.end);
    if (text[i] !== ':') return out;
    i = skipSpace(text, i + 1);
    if (text[i] === '"') {
      const value = readString(text, i);
      out[key.value] = value.value;
      if (!value.complete) return out;
      i = value.end;
      continue;
    }
    // JSON_SCALAR only matches valid JSON, so JSON.parse cannot throw (`011` reads as 0, then stops at `1`)
    const token = JSON_SCALAR.exec(text.slice(i, i + 64));
    if (!token || i + token[0].length >= text.length) return out;
    out[key.value] = JSON.parse(token[0]) as unknown;
    i += token[0].length;
  }
}

/**
 * Reads the complete key/value pairs at the end of a JSON object text that starts somewhere in
 * the middle (the last bytes of a cut line). It starts at the first `,"key":` sequence: an
 * unescaped quote after a comma and followed by a key and a colon can only open a key, never sit
 * inside a string.
 * @returns the pairs, or an empty object when no complete pair can be read
 */
export function parseJsonObjectSuffix(text: string): Record<string, unknown> {
  const boundary = /,"[A-Za-z_][A-Za-z0-9_]*"\s*:/.exec(text);
  if (!boundary) return {};
  const rest = text.slice(boundary.index + 1).trimEnd();
  try {
    const parsed: unknown = JSON.parse(`{${rest}`);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch (error) {
    if (error instanceof SyntaxError) return {};
    throw error;
  }
}

function skipSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) i++;
  return i;
}

/** Reads the JSON string starting at the quote `text[start]`; a cut string keeps what it has. */
function readString(text: string, start: number): { value: string; end: number; complete: boolean } {
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') return { value: decodeJsonString(text.slice(start + 1, i)), end: i + 1, complete: true };
    i += ch === '\\' ? 2 : 1;
  }
  let raw = text.slice(start + 1);
  // Drop a cut escape: a lone trailing backslash or an incomplete \uXXXX.
  const cutEscape = /\\(?:u[0-9A-Fa-f]{0,3})?$/.exec(raw);
  if (cutEscape && countTrailingBackslashes(raw, cutEscape.index + 1) % 2 === 1) raw = raw.slice(0, cutEscape.index);
  return { value: decodeJsonString(raw), end: text.length, complete: false };
}

/** Backslashes ending at `end` (exclusive), so an escaped backslash is not taken for an escape. */
function countTrailingBackslashes(text: string, end: number): number {
  let n = 0;
  for (let i = end - 1; i >= 0 && text[i] === '\\'; i--) n++;
  return n;
}

/** Decodes the escapes of a JSON string body; a body that is not valid JSON is kept as written. */
function decodeJsonString(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch (error) {
    if (error instanceof SyntaxError) return raw;
    throw error;
  }
}
