import type { TimestampParser } from './timestamp-parser.js';
import { textAt } from './text-at.js';

/**
 * Wraps `parseTime` for values already shaped like `%m`/`%t`/`%s` (`YYYY-MM-DD HH:MM:SS[.mmm] ZONE`):
 * consecutive lines share the minute and zone, so only the seconds and millis are recomputed.
 * Used by the stderr prefix matcher for `%m %t %s` captures (their RegExp guarantees the shape).
 * Only a minute `parseTime` accepted is kept, so an impossible date, hour or minute is rejected by
 * `parseTime` itself; seconds 60-99 are rejected here.
 * @returns a parser giving the same UTC epoch ms (or null) as `parseTime`; never throws
 */
export function cachedTimeParser(parseTime: TimestampParser): TimestampParser {
  let minute = '';
  let zone = '';
  let base = 0;
  return (value: string): number | null => {
    // seconds 60-99: not a time (`parseTime` says null); the kept minute must not turn them into the next minute
    if (value.charCodeAt(17) > 53) return null;
    const hasMillis = value.charCodeAt(19) === 46;
    const zoneAt = hasMillis ? 24 : 20;
    const within =
      ((value.charCodeAt(17) - 48) * 10 + value.charCodeAt(18) - 48) * 1000 +
      (hasMillis ? (value.charCodeAt(20) - 48) * 100 + (value.charCodeAt(21) - 48) * 10 + value.charCodeAt(22) - 48 : 0);
    if (minute !== '' && value.length - zoneAt === zone.length && textAt(value, 0, minute) && textAt(value, zoneAt, zone)) {
      return base + within;
    }
    const ms = parseTime(value);
    if (ms === null) return null;
    minute = value.slice(0, 16);
    zone = value.slice(zoneAt);
    base = ms - within;
    return ms;
  };
}
