import type { TimestampParser } from './timestamp-parser.js';
import { digitsAt, textAt } from './text-at.js';

/**
 * Wraps a `TimestampParser` with a cache for PostgreSQL log times
 * (`YYYY-MM-DD HH:MM:SS.mmm ZONE`, PostgreSQL docs, runtime-config-logging, csvlog `log_time` and
 * jsonlog `timestamp`): consecutive records mostly share their minute, so the minute is converted
 * once and the seconds and milliseconds added (the zone's offset changes on whole minutes at most:
 * the offset of `parse` is per date and hour, or the numeric zone's own); texts without
 * milliseconds (`session_start_time`) are cached whole. At most `maxEntries` (default 4,096) such
 * texts are kept; the cache is then cleared.
 * @returns a parser giving the same results as `parse`
 */
export function createCachedTimestampParser(parse: TimestampParser, maxEntries = 4096): TimestampParser {
  const cache = new Map<string, number | null>();
  /** `YYYY-MM-DD HH:MM:` and ` ZONE` of the last time converted ('' at first) */
  let lastMinute = '';
  let lastZone = '';
  /** its minute's first millisecond (UTC epoch ms), or null when `parse` rejected it */
  let minuteMs: number | null = null;
  return (text: string): number | null => {
    if (text.length > 24 && text.charCodeAt(19) === 0x2e && text.charCodeAt(23) === 0x20) {
      const seconds = digitsAt(text, 17, 2);
      const millis = digitsAt(text, 20, 3);
      // seconds 60-99 take the uncached way: `parse` rejects them (no rollover into the next minute)
      if (seconds >= 0 && seconds < 60 && millis >= 0) {
        const within = seconds * 1000 + millis;
        if (text.length !== lastMinute.length + lastZone.length + 6 || !textAt(text, 0, lastMinute) || !textAt(text, 23, lastZone)) {
          lastMinute = text.slice(0, 17);
          lastZone = text.slice(23);
          const ms = parse(text);
          minuteMs = ms === null ? null : ms - within;
        }
        return minuteMs === null ? null : minuteMs + within;
      }
    }
    let ms = cache.get(text);
    if (ms === undefined) {
      ms = parse(text);
      if (cache.size >= maxEntries) cache.clear();
      cache.set(text, ms);
    }
    return ms;
  };
}
