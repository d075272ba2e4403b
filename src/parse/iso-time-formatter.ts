/**
 * Formats event times (UTC epoch ms) as `Date.prototype.toISOString` does
 * (`YYYY-MM-DDTHH:mm:ss.sssZ`; ECMA-262, "Date Time String Format"), caching the part up to the
 * second: consecutive log records mostly share their second, so only the milliseconds change; a
 * new second of the same minute takes the cached minute part (`Date` is asked once a minute).
 *
 * Integer times of years 1970-9999 take the cached path; anything else (negative, fractional,
 * beyond year 9999, where `toISOString` prints `+YYYYYY`) goes through `Date` unchanged.
 */
export type IsoTimeFormatter = (timeMs: number) => string | null;

/** First ms of year 10000: `toISOString` switches to the six-digit year form there. */
const YEAR_10000_MS = 253_402_300_800_000;

/** `ss.` for every second value 0-59. */
const SECOND_PART: readonly string[] = Array.from({ length: 60 }, (_, second) => `${String(second).padStart(2, '0')}.`);

/** `sss` + `Z` for every millisecond value 0-999. */
const MILLIS_SUFFIX: readonly string[] = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, '0')}Z`);

/**
 * Creates a formatter with its own one-second cache.
 * @returns `(timeMs) => ISO string`, or null when `new Date(timeMs)` is an invalid date (|timeMs| > 8.64e15,
 *   NaN, infinite), the same cases where `toISOString` would throw. Never throws.
 */
export function createIsoTimeFormatter(): IsoTimeFormatter {
  // [last time formatted, its second, its minute], ms: a typed array, since V8 boxes a double held in a
  // closure variable afresh at every assignment. NaN equals nothing: the first call never takes the cached answers
  const times = new Float64Array([Number.NaN, Number.NaN, Number.NaN]);
  let lastText = '';
  /** `YYYY-MM-DDTHH:mm:ss.` of the second times[1] */
  let secondPrefix = '';
  /** `YYYY-MM-DDTHH:mm:` of the minute times[2] */
  let minutePrefix = '';
  return (timeMs: number): string | null => {
    if (timeMs === times[0]) return lastText;
    if (Number.isInteger(timeMs) && timeMs >= 0 && timeMs < YEAR_10000_MS) {
      // floor division rather than `%`, which on doubles (times past 2^31) is a call out to fmod
      const second = Math.floor(timeMs / 1000) * 1000;
      const millis = timeMs - second;
      if (second !== times[1]) {
        // Unix time has no leap seconds: every minute is 60,000 ms
        const minute = Math.floor(timeMs / 60_000) * 60_000;
        if (minute !== times[2]) {
          minutePrefix = new Date(minute).toISOString().slice(0, 17);
          times[2] = minute;
        }
        secondPrefix = minutePrefix + (SECOND_PART[(second - minute) / 1000] as string);
        times[1] = second;
      }
      times[0] = timeMs;
      lastText = secondPrefix + (MILLIS_SUFFIX[millis] as string);
      return lastText;
    }
    const date = new Date(timeMs);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  };
}
