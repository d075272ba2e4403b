/**
 * Converts the server's local timestamps to UTC epoch milliseconds.
 *
 * PostgreSQL writes `%m`/`%t`/`%s`, the csvlog `log_time` column and the jsonlog `timestamp`
 * key as `YYYY-MM-DD HH:MM:SS[.mmm] ZONE`, where ZONE is the abbreviation of its
 * `log_timezone` (`UTC`, `WIB`, `CET`, or a numeric one such as `+07` / `-0330`)
 * (PostgreSQL docs, runtime-config-logging, log_line_prefix; the zone is printed by
 * `pg_strftime` with `%Z`). Abbreviations are ambiguous, so the operator names the server's
 * IANA zone (default `UTC`) and the wall-clock time is converted with it. A numeric zone is
 * exact and used as it is; `UTC`/`GMT`/`Z` are always offset 0. Years 0000-0099 are the
 * years written (`Date.UTC` alone reads them as 1900-1999). Whether the zone text agrees with the
 * configured zone is checked once per source elsewhere (zone-text-check.ts), not per time.
 *
 * Offsets are cached per (date, hour, zone text) wall-clock key: DST changes at most once an hour.
 *
 * The repeated hour when DST ends (e.g. Europe/Berlin 2026-10-25 02:00-03:00 is first CEST, UTC+2,
 * then CET, UTC+1) is told apart by the zone text: first by the zone's short names that Intl knows
 * for each candidate instant (`SHORT_NAME_LOCALES`: the same answer for any parser), else by what
 * the parser learned from the times it converted outside such an hour (`CEST` from 01:59, `CET`
 * from 03:00; an abbreviation not learned yet takes the candidate no learned abbreviation claims),
 * else (a parser that starts inside the repeated hour of a zone Intl has no names for) the later,
 * standard-time offset.
 */
export type TimestampParser = (text: string) => number | null;

/**
 * Locales whose short zone names (CLDR, through Intl) are the tzdata abbreviations PostgreSQL prints
 * for the common zones with DST: en-US EST/EDT, CST/CDT, PST/PDT...; en-GB GMT/BST, CET/CEST,
 * EET/EEST; en-AU AEST/AEDT, NZST/NZDT; en-IE GMT/IST. Others print GMT+n, which no server writes.
 */
const SHORT_NAME_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-IE'];
/** Most zone abbreviations a parser learns (a server writes one or two; the rest is damaged input). */
const MAX_ABBREVIATIONS = 64;

const SHAPE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?: ([A-Za-z]+|[+-]\d{2}(?::?\d{2})?))?$/;

/** Days of each month (index 0 = January) in a common year. */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * True when the fields name a time a clock can show, as PostgreSQL prints them: month 1-12, day 1
 * to the days of that month (February 29 in Gregorian leap years), hour 0-23, minute 0-59, second
 * 0-59 (PostgreSQL never prints a leap second 60). `Date.UTC` would roll anything else over
 * (`2026-02-30` to March 2, `24:00:00` to the next day), so such text is not a log time.
 */
function isRealWallClock(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  if (day <= 28) return true;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (DAYS_IN_MONTH[month - 1] as number) + (leap ? 1 : 0);
}

/**
 * `Date.UTC` for a proleptic Gregorian wall-clock time (month 1-12) of any year: `Date.UTC` itself
 * reads years 0-99 as 1900-1999, so those take `setUTCFullYear`, which keeps the year as written
 * (`0099-12-31 23:59:59` -> `0099-12-31T23:59:59.000Z`).
 * @returns UTC epoch ms (NaN past the range of `Date`)
 */
function utcWallClockMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const date = new Date(Date.UTC(2000, 0, 1, hour, minute, second, ms));
  return date.setUTCFullYear(year, month - 1, day);
}

/**
 * Builds a parser for timestamps written by a server whose `log_timezone` is `ianaZone`.
 * Returns null for text that is not a PostgreSQL log timestamp, including text shaped like one
 * whose date or time cannot exist (`2026-13-45`, `2026-02-30`, `24:00:00`, `10:60:00`, `10:00:60`).
 * @throws RangeError when `ianaZone` is not a zone known to this Node (Intl).
 */
export function createTimestampParser(ianaZone = 'UTC'): TimestampParser {
  const zoneIsUtc = /^(UTC|Etc\/UTC|GMT|Etc\/GMT|Z|Zulu|UCT)$/i.test(ianaZone);
  // Validates the zone eagerly so a bad operator value fails at start-up.
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: ianaZone,
    hourCycle: 'h23',
    era: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const offsetCache = new Map<string, number>();

  /** Offset (ms, local minus UTC) of the zone at UTC instant `utcMs`. */
  const offsetAt = (utcMs: number): number => {
    const parts = format.formatToParts(new Date(utcMs));
    const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
    // Intl counts years before 1 as years of the era BC: 1 BC is year 0000, 2 BC is -0001
    const year = parts.find((p) => p.type === 'era')?.value === 'BC' ? 1 - get('year') : get('year');
    const asUtc = utcWallClockMs(year, get('month'), get('day'), get('hour'), get('minute'), get('second'), 0);
    return asUtc - Math.floor(utcMs / 1000) * 1000;
  };

  /** Offset for a wall-clock time (ms as if it were UTC): the standard two-pass resolution. */
  const offsetForWallClock = (wallMs: number): number => {
    const first = offsetAt(wallMs);
    const second = offsetAt(wallMs - first);
    return first === second ? first : offsetAt(wallMs - second);
  };

  let shortNameFormats: Intl.DateTimeFormat[] | null = null;
  /** The zone's short names at UTC instant `utcMs` in `SHORT_NAME_LOCALES` (made on first use: only the repeated hour asks). */
  const shortNamesAt = (utcMs: number): string[] => {
    shortNameFormats ??= SHORT_NAME_LOCALES.map((locale) => new Intl.DateTimeFormat(locale, { timeZone: ianaZone, timeZoneName: 'short' }));
    return shortNameFormats.map((f) => f.formatToParts(new Date(utcMs)).find((part) => part.type === 'timeZoneName')?.value ?? '');
  };

  /** offset (ms) each zone abbreviation stood for at a wall-clock time that only one offset fits */
  const abbreviationOffsets = new Map<string, number>();

  /**
   * Offset for the wall-clock time `wallMs` written with zone text `zone`: when two offsets fit (the
   * repeated hour at the end of DST; the zone's offsets 12 hours before and after are the
   * candidates), the one `zone` was learned to stand for, else the one no other learned abbreviation
   * stands for, else `offsetForWallClock`'s. Learns `zone` from a time only one offset fits.
   * @returns the offset and whether it may be cached under the (date, hour, zone) key
   */
  const offsetForZone = (wallMs: number, zone: string | undefined): { offset: number; cacheable: boolean } => {
    const before = offsetAt(wallMs - 43_200_000);
    const after = offsetAt(wallMs + 43_200_000);
    const fits = (offset: number): boolean => offsetAt(wallMs - offset) === offset;
    if (before !== after && fits(before) && fits(after)) {
      const named = zone === undefined ? undefined : [before, after].find((offset) => shortNamesAt(wallMs - offset).includes(zone));
      if (named !== undefined) return { offset: named, cacheable: true };
      const learned = zone === undefined ? undefined : abbreviationOffsets.get(zone);
      if (learned === before || learned === after) return { offset: learned, cacheable: true };
      const claimed = [...abbreviationOffsets.values()];
      if (zone !== undefined && claimed.includes(before) !== claimed.includes(after)) {
        return { offset: claimed.includes(before) ? after : before, cacheable: false };
      }
      return { offset: offsetForWallClock(wallMs), cacheable: false };
    }
    const offset = offsetForWallClock(wallMs);
    // learned only from a time that exists (not from inside the hour skipped when DST starts)
    if (zone !== undefined && fits(offset) && (abbreviationOffsets.size < MAX_ABBREVIATIONS || abbreviationOffsets.has(zone))) {
      abbreviationOffsets.set(zone, offset);
    }
    return { offset, cacheable: true };
  };

  return (text: string): number | null => {
    const m = SHAPE.exec(text);
    if (!m) return null;
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    const year = Number(y);
    const month = Number(mo);
    const day = Number(d);
    const hour = Number(h);
    const minute = Number(mi);
    const second = Number(s);
    if (!isRealWallClock(year, month, day, hour, minute, second)) return null;
    const fracMs = frac ? Math.floor(Number(frac.padEnd(3, '0').slice(0, 3))) : 0;
    const wallMs = utcWallClockMs(year, month, day, hour, minute, second, fracMs);
    if (Number.isNaN(wallMs)) return null;
    if (zone !== undefined && (zone[0] === '+' || zone[0] === '-')) {
      const digits = zone.slice(1).replace(':', '');
      const minutes = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2)) : 0);
      return wallMs - (zone[0] === '+' ? 1 : -1) * minutes * 60_000;
    }
    if (zoneIsUtc || (zone !== undefined && /^(UTC|GMT|Z|UCT)$/.test(zone))) return wallMs;
    const key = zone === undefined ? text.slice(0, 13) : `${text.slice(0, 13)} ${zone}`;
    let offset = offsetCache.get(key);
    if (offset === undefined) {
      const resolved = offsetForZone(wallMs, zone);
      offset = resolved.offset;
      if (resolved.cacheable) {
        if (offsetCache.size > 10_000) offsetCache.clear();
        offsetCache.set(key, offset);
      }
    }
    return wallMs - offset;
  };
}
