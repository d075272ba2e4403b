import { describe, expect, it } from 'vitest';
import { isCalendarDay, parseCalendarTime } from '../../src/lib/calendar-time.js';

describe('parseCalendarTime', () => {
  it('reads a day as midnight UTC, including the last day of a year and a leap day', () => {
    expect(parseCalendarTime('2026-12-31', 'day')).toBe(Date.UTC(2026, 11, 31));
    expect(parseCalendarTime('2028-02-29', 'day')).toBe(Date.UTC(2028, 1, 29));
    expect(parseCalendarTime('2026-01-01', 'day')).toBe(1_767_225_600_000);
  });

  it('refuses impossible days that Date.parse rolls over, and months or days out of range', () => {
    for (const text of ['2026-02-30', '2026-02-29', '2027-02-29', '2026-11-31', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '2026-01-32', '2100-02-29']) {
      expect([text, parseCalendarTime(text, 'day')]).toEqual([text, null]);
    }
    expect(parseCalendarTime('2000-02-29', 'day')).toBe(Date.UTC(2000, 1, 29));
  });

  it('keeps the day shape exact: no time, no short fields, no extended year', () => {
    for (const text of ['2026-01-01T00:00:00Z', '2026-1-01', '+002026-01-01', ' 2026-01-01', '2026-01-01 ', '']) expect(parseCalendarTime(text, 'day')).toBeNull();
  });

  it('reads date-time and date-first texts as Date.parse does when the day exists', () => {
    expect(parseCalendarTime('2028-02-29T23:59:59.999Z', 'date-time')).toBe(Date.UTC(2028, 1, 29, 23, 59, 59, 999));
    expect(parseCalendarTime('2026-12-31T10:00:00+02:00', 'date-time')).toBe(Date.UTC(2026, 11, 31, 8));
    expect(parseCalendarTime('2026-12-31T24:00:00Z', 'date-time')).toBe(Date.UTC(2027, 0, 1));
    expect(parseCalendarTime('2026-12-31', 'date-first')).toBe(Date.UTC(2026, 11, 31));
    expect(parseCalendarTime('2026-12-31T00:00:00Z', 'date-first')).toBe(Date.UTC(2026, 11, 31));
    expect(parseCalendarTime('2026-12-31 10:00 UTC', 'date-first')).toBe(Date.UTC(2026, 11, 31, 10));
  });

  it('refuses impossible days, unreadable times and other shapes in date-time and date-first form', () => {
    for (const text of ['2026-02-30T00:00:00Z', '2026-11-31T12:00:00+01:00', '2027-02-29T00:00:00Z', '2026-01-01T25:00:00Z', '2026-01-01Tnoon']) {
      expect([text, parseCalendarTime(text, 'date-time'), parseCalendarTime(text, 'date-first')]).toEqual([text, null, null]);
    }
    expect(parseCalendarTime('2026-01-01', 'date-time')).toBeNull();
    expect(parseCalendarTime('2026-02-30', 'date-first')).toBeNull();
    expect(parseCalendarTime('2026-02-30 10:00', 'date-first')).toBeNull();
    expect(parseCalendarTime('yesterday', 'date-first')).toBeNull();
    expect(parseCalendarTime('2026-01-01 foo', 'date-first')).toBeNull();
  });
});

describe('isCalendarDay', () => {
  it('knows month lengths and Gregorian leap years, also for years 0-99', () => {
    expect([isCalendarDay(2026, 2, 28), isCalendarDay(2026, 2, 29), isCalendarDay(2024, 2, 29), isCalendarDay(1900, 2, 29), isCalendarDay(2000, 2, 29)]).toEqual([true, false, true, false, true]);
    expect([isCalendarDay(2026, 11, 30), isCalendarDay(2026, 11, 31), isCalendarDay(2026, 12, 31), isCalendarDay(2026, 13, 1), isCalendarDay(2026, 0, 1)]).toEqual([true, false, true, false, false]);
    expect([isCalendarDay(4, 2, 29), isCalendarDay(99, 2, 29), isCalendarDay(0, 2, 29)]).toEqual([true, false, true]);
  });
});
