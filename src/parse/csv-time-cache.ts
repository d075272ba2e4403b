import type { TimestampParser } from './timestamp-parser.js';
import { textAt } from './text-at.js';

/**
 * Wraps a `TimestampParser` with a cache for PostgreSQL log times
 * (`YYYY-MM-DD HH:MM:SS.mmm ZONE`, PostgreSQL docs, runtime-config-logging, csvlog `log_time` and
 * jsonlog `timestamp`): consecutive records mostly share their second, so the second is converted
 * once and the milliseconds added; texts without milliseconds (`session_start_time`) are cached
 * whole. At most `maxEntries` (default 4,096) texts are kept; the cache is then cleared.
 * @returns a parser giving the same results as `parse`
 */
export function createCachedTimestampParser(parse: TimestampParser, maxEntries = 4096): TimestampParser {
  const cache = new Map<string, number | null>();
  let lastSecond = '';
  let lastZone = '';
  let lastMs: number | null = null;
  return (text: string): number | null => {
    if (text.length > 24 && text.charCodeAt(19) === 0x2e && text.charCodeAt(23) === 0x20) {
      const millis = threeDigits(text, 20);
      if (millis >= 0) {
        if (text.length !== lastSecond.length + lastZone.length + 4 || !textAt(text, 0, lastSecond) || !textAt(text, text.length - lastZone.length, lastZone)) {
          lastSecond = text.slice(0, 19);
          lastZone = text.slice(23);
          lastMs = parse(lastSecond + lastZone);
        }
        return lastMs === null ? null : lastMs + millis;
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

/** Value of three ASCII digits at `text[at]`, or -1. */
function threeDigits(text: string, at: number): number {
  let value = 0;
  for (let i = at; i < at + 3; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}
