import { parseCsvTime, splitCsvRecords } from './corpus-templates.js';

/** One csvlog record after the shift: its text (ending with a newline) and its shifted log_time. */
export interface ShiftedCsvRecord {
  /** the whole record, columns re-joined unchanged except the two times, ending with `\n` */
  text: string;
  /** shifted log_time, epoch ms UTC (NaN when the record's log_time did not parse: it is kept unshifted) */
  timeMs: number;
}

/**
 * Moves csvlog records in time by one constant offset, so that recorded traffic (the bundled
 * corpus run, the synthetic history) replays as if it happened now. Only the two time columns
 * change (PostgreSQL docs, runtime-config-logging, "Using CSV-Format Log Output"): column 0
 * `log_time` (`2026-11-29 17:17:16.517 UTC`) and column 8 `session_start_time`
 * (`2026-11-29 17:17:16 UTC`, whole seconds: shifted then truncated to the second). Both must be
 * in `UTC` (the corpus's log_timezone); a time that does not parse is left as it was. Every other
 * byte of a record (quotes, embedded newlines, messages that mention times) is kept.
 *
 * @example new DemoTimeShift(86_400_000).records('2026-11-29 17:17:16.517 UTC,...\n') // one record, a day later
 */
export class DemoTimeShift {
  /** @param offsetMs added to every time, ms (may be negative) */
  constructor(readonly offsetMs: number) {}

  /**
   * Splits csvlog text (whole records; a trailing partial record is taken as one) and shifts each.
   * @returns records in file order
   */
  records(text: string): ShiftedCsvRecord[] {
    const out: ShiftedCsvRecord[] = [];
    for (const fields of splitCsvRecords(text)) out.push(this.shift(fields));
    return out;
  }

  private shift(fields: string[]): ShiftedCsvRecord {
    const logMs = parseCsvTime(fields[0] ?? '');
    let timeMs = Number.NaN;
    if (!Number.isNaN(logMs)) {
      timeMs = logMs + this.offsetMs;
      fields[0] = formatUtc(timeMs, true);
    }
    const startMs = fields.length > 8 ? parseCsvTime(fields[8] as string) : Number.NaN;
    if (!Number.isNaN(startMs)) fields[8] = formatUtc(startMs + this.offsetMs, false);
    return { text: `${fields.join(',')}\n`, timeMs };
  }
}

/** epoch ms → `2026-11-29 17:17:16.517 UTC` (withMs) or `2026-11-29 17:17:16 UTC` (truncated to the second). */
function formatUtc(ms: number, withMs: boolean): string {
  const iso = new Date(withMs ? ms : Math.floor(ms / 1000) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, withMs ? 23 : 19)} UTC`;
}
