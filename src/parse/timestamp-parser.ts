/**
 * Converts the server's local timestamps to UTC epoch milliseconds.
 *
 * PostgreSQL writes `%m`/`%t`/`%s`, the csvlog `log_time` column and the jsonlog `timestamp`
 * key as `YYYY-MM-DD HH:MM:SS[.mmm] ZONE`, where ZONE is the abbreviation of its
 * `log_timezone` (`UTC`, `WIB`, `CET`, or a numeric one such as `+07` / `-0330`)
 * (PostgreSQL docs, runtime-config-logging, log_line_prefix; the zone is printed by
 * `pg_strftime` with `%Z`). Abbreviations are ambiguous, so the operator names the server's
 * IANA zone (default `UTC`) and the wall-clock time is converted with it. A numeric zone is
 * exact and used as it is; `UTC`/`GMT`/`Z` are always offset 0.
 *
 * Offsets are cached per (date, hour) wall-clock key: DST changes at most once an hour.
 */
export type TimestampParser = (text: string) => number | null;

const SHAPE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?: ([A-Za-z]+|[+-]\d{2}(?::?\d{2})?))?$/;

/**
 * Builds a parser for timestamps written by a server whose `log_timezone` is `ianaZone`.
 * Returns null for text that is not a PostgreSQL log timestamp.
 * @throws RangeError when `ianaZone` is not a zone known to this Node (Intl).
 */
export function createTimestampParser(ianaZone = 'UTC'): TimestampParser {
  const zoneIsUtc = /^(UTC|Etc\/UTC|GMT|Etc\/GMT|Z|Zulu|UCT)$/i.test(ianaZone);
  // Validates the zone eagerly so a bad operator value fails at start-up.
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: ianaZone,
    hourCycle: 'h23',
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
    const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return asUtc - Math.floor(utcMs / 1000) * 1000;
  };

  /** Offset for a wall-clock time (ms as if it were UTC): the standard two-pass resolution. */
  const offsetForWallClock = (wallMs: number): number => {
    const first = offsetAt(wallMs);
    const second = offsetAt(wallMs - first);
    return first === second ? first : offsetAt(wallMs - second);
  };

  return (text: string): number | null => {
    const m = SHAPE.exec(text);
    if (!m) return null;
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    const fracMs = frac ? Math.floor(Number(frac.padEnd(3, '0').slice(0, 3))) : 0;
    const wallMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), fracMs);
    if (Number.isNaN(wallMs)) return null;
    if (zone !== undefined && (zone[0] === '+' || zone[0] === '-')) {
      const digits = zone.slice(1).replace(':', '');
      const minutes = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2)) : 0);
      return wallMs - (zone[0] === '+' ? 1 : -1) * minutes * 60_000;
    }
    if (zoneIsUtc || (zone !== undefined && /^(UTC|GMT|Z|UCT)$/.test(zone))) return wallMs;
    const key = text.slice(0, 13);
    let offset = offsetCache.get(key);
    if (offset === undefined) {
      offset = offsetForWallClock(wallMs);
      if (offsetCache.size > 10_000) offsetCache.clear();
      offsetCache.set(key, offset);
    }
    return wallMs - offset;
  };
}
