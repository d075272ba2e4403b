/**
 * Byte-level recogniser of the csvlog record start `YYYY-MM-DD HH:MM:SS.mmm ZONE,`, used to
 * resynchronise after a damaged record.
 *
 * Source of truth: PostgreSQL docs, runtime-config-logging, "Using CSV-Format Log Output": the
 * first column `log_time` is written with milliseconds and the `log_timezone` abbreviation
 * (`UTC`, `WIB`, or a numeric one such as `+07` / `-0330` when the zone has no abbreviation).
 */

/** Outcome of `matchLogTimeAt`: 1 = a record start, 0 = not one, -1 = undecided (more bytes needed). */
export type LogTimeMatch = 1 | 0 | -1;

const DIGIT = 1;
const LITERAL = 2;
// Template of the fixed part: D = digit, other characters are literal.
const TEMPLATE = 'DDDD-DD-DD DD:DD:DD.DDD ';
const KINDS = [...TEMPLATE].map((ch) => (ch === 'D' ? DIGIT : LITERAL));
const CODES = [...TEMPLATE].map((ch) => ch.charCodeAt(0));
const MAX_ZONE_LETTERS = 10;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/**
 * Tells whether `buf[pos..]` starts with a csvlog `log_time` column followed by its comma.
 * Reads at most 36 bytes (24 of time, a zone of up to 10 letters, the comma), never at or past `end`.
 * @param atEof true when no byte will ever follow `end` (then the answer is never -1)
 * @returns 1 when it does, 0 when it does not, -1 when the bytes before `end` are a prefix of one
 */
export function matchLogTimeAt(buf: Uint8Array, pos: number, end: number, atEof: boolean): LogTimeMatch {
  const undecided: LogTimeMatch = atEof ? 0 : -1;
  let i = pos;
  for (let k = 0; k < KINDS.length; k++, i++) {
    if (i >= end) return undecided;
    const c = buf[i] as number;
    if (KINDS[k] === DIGIT ? !isDigit(c) : c !== CODES[k]) return 0;
  }
  if (i >= end) return undecided;
  const first = buf[i] as number;
  if (first === 0x2b || first === 0x2d) {
    // numeric zone: +HH or +HHMM
    let digits = 0;
    for (i++; i < end && isDigit(buf[i] as number); i++) digits++;
    if (i >= end) return digits <= 4 ? undecided : 0;
    return (digits === 2 || digits === 4) && buf[i] === 0x2c ? 1 : 0;
  }
  let letters = 0;
  for (; i < end && isLetter(buf[i] as number); i++) {
    if (++letters > MAX_ZONE_LETTERS) return 0;
  }
  if (i >= end) return undecided;
  return letters > 0 && buf[i] === 0x2c ? 1 : 0;
}

/**
 * First position in `[from, end)` where a csvlog `log_time` column starts (anywhere, not only at a
 * line start: a record cut by a crash has the next record glued right after it).
 * @returns the byte index, or -1 when there is none wholly inside `[from, end)`
 */
export function findLogTimeStart(buf: Uint8Array, from: number, end: number): number {
  // Anchor on the first '-' of `YYYY-`: it sits 4 bytes after the start.
  for (let dash = from + 4; dash < end; dash++) {
    if (buf[dash] === 0x2d && matchLogTimeAt(buf, dash - 4, end, true) === 1) return dash - 4;
  }
  return -1;
}
