import type { AccessEvent } from '../domain/access-event.js';

let lastEvent: AccessEvent | null = null;
let lastTimeMs = Number.NaN;

/**
 * The event time of `event` in epoch ms, or NaN when the time does not parse. AccessEvent times
 * are ISO-8601 UTC with milliseconds (`2026-11-29T17:18:52.725Z`), read by a fast path; any
 * other shape goes through `Date.parse`. Remembers the last event asked about, so the engine and
 * every detector that sees the same event parse its time once.
 */
export function eventTimeMs(event: AccessEvent): number {
  if (event !== lastEvent) {
    lastEvent = event;
    lastTimeMs = parseIsoTimeMs(event.time);
  }
  return lastTimeMs;
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
  const year = digits(time, 0, 4);
  const month = digits(time, 5, 2);
  const day = digits(time, 8, 2);
  const hour = digits(time, 11, 2);
  const minute = digits(time, 14, 2);
  const second = digits(time, 17, 2);
  const milli = digits(time, 20, 3);
  if (year < 0 || month < 1 || month > 12 || day < 1 || (day > 28 && day > daysInMonth(year, month)) || hour > 23 || minute > 59 || second > 59 || milli < 0 || hour < 0 || minute < 0 || second < 0) {
    // a day past the month's end and anything odd: Date.parse decides
    return Date.parse(time);
  }
  return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli;
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

/** the decimal number of `length` digits at `from`, or -1 when one is not a digit */
function digits(text: string, from: number, length: number): number {
  let value = 0;
  for (let i = from; i < from + length; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return -1;
    value = value * 10 + code;
  }
  return value;
}
