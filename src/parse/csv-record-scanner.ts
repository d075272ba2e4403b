/**
 * The hot loop of the csvlog framer: finds where a record ends (a newline outside quotes) and
 * notes its unquoted commas on the way, so the record can be cut into columns without a second
 * scan. Quoting rules: PostgreSQL docs, runtime-config-logging, "Using CSV-Format Log Output".
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

/** Commas remembered per record; a record with more has a wrong column count anyway. */
export const MAX_COMMAS = 32;

/**
 * Scan state kept between pushes: quote state and unquoted commas of the current record
 * (`commas[k]` = position of the k-th comma from the record start, for k < MAX_COMMAS).
 */
export interface ScanState {
  inQuote: boolean;
  commaCount: number;
  readonly commas: Int32Array;
}

/**
 * Scans `b[from, stop)` for the newline that ends the record starting at `recordStart`, updating
 * `state` (kept apart from the framer's other work so the hot loop stays small).
 * @returns the newline's index, or `stop` when the record does not end before it
 */
export function scanRecordEnd(b: Buffer, from: number, stop: number, recordStart: number, state: ScanState): number {
  const commas = state.commas;
  let nc = state.commaCount;
  let i = from;
  if (state.inQuote) {
    // Resume inside a quoted field: jump to its closing quote.
    const close = findQuote(b, i, stop);
    if (close < 0) return stop;
    i = close + 1;
    state.inQuote = false;
  }
  for (; i < stop; i++) {
    const c = b[i];
    if (c === QUOTE) {
      // Quoted text holds no record end: jump to the closing quote (memchr beats a byte loop).
      const close = findQuote(b, i + 1, stop);
      if (close < 0) {
        state.inQuote = true;
        state.commaCount = nc;
        return stop;
      }
      i = close;
    } else if (c === COMMA) {
      if (nc < MAX_COMMAS) commas[nc] = i - recordStart;
      nc++;
    } else if (c === NEWLINE) break;
  }
  state.commaCount = nc;
  return i;
}

/**
 * Index of the first `"` in `b[from, stop)`, or -1. Short ranges are looped over: `indexOf` has
 * no end bound and would also search the unused capacity of a held buffer.
 */
function findQuote(b: Buffer, from: number, stop: number): number {
  if (stop - from <= 256) {
    for (let i = from; i < stop; i++) if (b[i] === QUOTE) return i;
    return -1;
  }
  const at = b.indexOf(QUOTE, from);
  return at >= 0 && at < stop ? at : -1;
}
