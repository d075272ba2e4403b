import { digitsAt } from './text-at.js';
import type { TimestampParser } from './timestamp-parser.js';

/** Longest time text whose minute is kept (`YYYY-MM-DD HH:MM:SS.mmm ` plus a zone name). */
const MAX_TIME_CHARS = 64;
/** Where the seconds start in `YYYY-MM-DD HH:MM:SS.mmm ZONE`, and where the zone starts. */
const SECONDS_AT = 17;
const ZONE_AT = 23;

/**
 * Reads a PostgreSQL log time (`YYYY-MM-DD HH:MM:SS.mmm ZONE`, PostgreSQL docs,
 * runtime-config-logging, csvlog `log_time`) where it stands in a record's text, without cutting
 * a string while the minute and zone repeat: the minute is converted once by `parse` and the
 * seconds and milliseconds added (as `createCachedTimestampParser` does; the zone's offset changes
 * on whole minutes at most). The kept minute and zone are character codes, compared with the
 * record's own text. Any other text is cut and given to `parse`.
 */
export class LogTimeAt {
  /** character codes of the last minute converted: `YYYY-MM-DD HH:MM:` then ` ZONE` */
  private readonly codes = new Uint16Array(MAX_TIME_CHARS);
  /** length of the last time text converted (0 at first) */
  private length = 0;
  /** its minute's first millisecond (UTC epoch ms), or null when `parse` rejected it */
  private minuteMs: number | null = null;

  /** @param parse converts a whole time text to UTC epoch ms, or null */
  constructor(private readonly parse: TimestampParser) {}

  /**
   * `parse(text.slice(start, end))`. Never throws.
   * @returns UTC epoch ms, or null when the text is not a time
   */
  at(text: string, start: number, end: number): number | null {
    const n = end - start;
    if (n > ZONE_AT + 1 && n <= MAX_TIME_CHARS && text.charCodeAt(start + 19) === 0x2e && text.charCodeAt(start + ZONE_AT) === 0x20) {
      const seconds = digitsAt(text, start + SECONDS_AT, 2);
      const millis = digitsAt(text, start + 20, 3);
      // seconds 60-99 take the uncached way: `parse` rejects them (no rollover into the next minute)
      if (seconds >= 0 && seconds < 60 && millis >= 0) {
        const within = seconds * 1000 + millis;
        if (n !== this.length || !this.sameMinute(text, start, n)) {
          const ms = this.parse(text.slice(start, end));
          this.minuteMs = ms === null ? null : ms - within;
          const codes = this.codes;
          for (let i = 0; i < n; i++) codes[i] = text.charCodeAt(start + i);
          this.length = n;
        }
        return this.minuteMs === null ? null : this.minuteMs + within;
      }
    }
    return this.parse(text.slice(start, end));
  }

  /** True when `text[start, start + n)` has the kept minute and zone (its length is the kept one). */
  private sameMinute(text: string, start: number, n: number): boolean {
    const codes = this.codes;
    for (let i = 0; i < SECONDS_AT; i++) if (text.charCodeAt(start + i) !== codes[i]) return false;
    for (let i = ZONE_AT; i < n; i++) if (text.charCodeAt(start + i) !== codes[i]) return false;
    return true;
  }
}
