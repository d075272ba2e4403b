/**
 * Strict parsing of dates and times given as arguments or query parameters.
 *
 * `Date.parse` rolls impossible calendar days over (`2026-02-30` becomes 2 March), so every
 * caller that takes a date from a user goes through `parseCalendarTime`, which also checks that
 * the written year, month and day name a day that exists.
 */

/**
 * Which texts `parseCalendarTime` accepts:
 * - `day`: exactly `YYYY-MM-DD`, read as midnight UTC (e.g. `jaga report access --until`);
 * - `date-time`: `YYYY-MM-DDT` followed by a time, e.g. `2026-01-01T00:00:00Z` (silence `starts_at`/`ends_at`);
 * - `date-first`: `YYYY-MM-DD` followed by anything `Date.parse` reads, e.g. `2026-01-01`,
 *   `2026-01-01T00:00:00+02:00`, `2026-01-01 10:00` (`jaga incidents list --since`, API `since`/`until`).
 */
export type CalendarTimeForm = 'day' | 'date-time' | 'date-first';

const SHAPES: Readonly<Record<CalendarTimeForm, RegExp>> = {
  day: /^(\d{4})-(\d{2})-(\d{2})$/,
  'date-time': /^(\d{4})-(\d{2})-(\d{2})T/,
  'date-first': /^(\d{4})-(\d{2})-(\d{2})/,
};

/** 400 Gregorian years: 146,097 days, ms. */
const FOUR_CENTURIES_MS = 146_097 * 86_400_000;

/**
 * Parses a date or time written as `form` describes.
 *
 * @param text the text as the user wrote it
 * @param form which shapes are accepted (see `CalendarTimeForm`)
 * @returns milliseconds since the epoch (UTC), or null when `text` does not have that shape, `Date.parse`
 *   cannot read it, or its `YYYY-MM-DD` names a day that does not exist (`2026-02-30`, `2026-11-31`,
 *   `2027-02-29`, `2026-13-01`). Years 0000-0099 are the years written. Never throws.
 */
export function parseCalendarTime(text: string, form: CalendarTimeForm): number | null {
  const match = SHAPES[form].exec(text);
  if (match === null) return null;
  const year = Number(match[1]);
  if (!isCalendarDay(year, Number(match[2]), Number(match[3]))) return null;
  const written = form === 'day' ? `${text}T00:00:00Z` : text;
  // Date.parse reads the year of a text that is not strict ISO (`0050-01-01 10:00`) as 1950, and of some
  // (`0005-01-01 10:00Z`) as 2001: years 0-99 are read 400 years later (the Gregorian calendar repeats
  // every 146,097 days) and moved back
  const ms = year >= 100 ? Date.parse(written) : Date.parse(`0${year + 400}${written.slice(4)}`) - FOUR_CENTURIES_MS;
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Whether `year`-`month`-`day` (month 1..12, day 1..31, proleptic Gregorian calendar) is a day that
 * exists: the fields must come back unchanged from a UTC date built from them, so 2026-02-30 (rolled
 * over to 2 March) is false and 2028-02-29 is true.
 */
export function isCalendarDay(year: number, month: number, day: number): boolean {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
