import type { AccessEvent } from '../domain/access-event.js';

let lastEvent: AccessEvent | null = null;
/** the last event's time, ms (a typed array slot: V8 boxes a module-level double afresh at every assignment) */
const lastTimeMs = new Float64Array([Number.NaN]);

/**
 * The event time of `event` in epoch ms, or NaN when the time does not parse. AccessEvent times
 * are ISO-8601 UTC with milliseconds (`2026-11-29T17:18:52.725Z`), read by a fast path; any
 * other shape goes through `Date.parse`. Remembers the last event asked about, so the engine and
 * every detector that sees the same event parse its time once.
 */
export function eventTimeMs(event: AccessEvent): number {
  if (event !== lastEvent) {
    lastEvent = event;
    lastTimeMs[0] = parseIsoTimeMs(event.time);
  }
  return lastTimeMs[0] as number;
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` → epoch ms without allocating; other shapes → `Date.parse`. */
export function parseIsoTimeMs(time: string): number {
  if (
    time.length !== 24 ||
    time.charCodeAt(4) !== 45 ||
    time.charCodeAt(7) !== 45 ||
    time.charCodeAt(10) !== 84 ||
    time.charCodeAt(13) !== 58 ||
    time.charCodeAt(16) !== 58 ||
    time.charCodeAt(19) !== 46 ||
    time.charCodeAt(23) !== 90
  ) {
    return Date.parse(time);
  }
  const century = twoDigits(time, 0);
  const yearOfCentury = twoDigits(time, 2);
  const month = twoDigits(time, 5);
  const day = twoDigits(time, 8);
  const hour = twoDigits(time, 11);
  const minute = twoDigits(time, 14);
  const second = twoDigits(time, 17);
  const centiseconds = twoDigits(time, 20);
  const lastDigit = time.charCodeAt(22) - 48;
  // a non-digit reads as -1, so one OR of the fields is negative when any is
  if ((century | yearOfCentury | month | day | hour | minute | second | centiseconds | lastDigit) < 0 || lastDigit > 9) return Date.parse(time);
  const year = century * 100 + yearOfCentury;
  if (month < 1 || month > 12 || day < 1 || (day > 28 && day > daysInMonth(year, month)) || hour > 23 || minute > 59 || second > 59) {
    // a day past the month's end and anything odd: Date.parse decides
    return Date.parse(time);
  }
  return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + centiseconds * 10 + lastDigit;
}

/** Days in `month` (1-12) of the proleptic Gregorian `year`. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days from 1970-01-01 to the proleptic Gregorian date `year-month-day` (month 1-12), by plain
 * integer arithmetic (H. Hinnant's `days_from_civil`): `Date.UTC` costs ~300 ns a call.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** the two-digit decimal number at `from`, or -1 when one of the two is not a digit (ASCII arithmetic: no slicing) */
function twoDigits(text: string, from: number): number {
  const tens = text.charCodeAt(from) - 48;
  const ones = text.charCodeAt(from + 1) - 48;
  return tens < 0 || tens > 9 || ones < 0 || ones > 9 ? -1 : tens * 10 + ones;
}
