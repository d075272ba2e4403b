import { describe, expect, it } from 'vitest';
import { parseCalendarTime } from '../../src/lib/calendar-time.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

describe('parseCalendarTime: years 0000-0099 are the years written (Date.parse reads some as 1950-2049)', () => {
  it('reads every form of those years exactly', () => {
    expect(iso(parseCalendarTime('0099-12-31', 'day'))).toBe('0099-12-31T00:00:00.000Z');
    expect(iso(parseCalendarTime('0050-01-01T10:00:00Z', 'date-time'))).toBe('0050-01-01T10:00:00.000Z');
    // not strict ISO: Date.parse alone gives 1950-01-01T10:00Z, 2001-05-01T10:00Z and 1999-12-31T23:59:59Z
    expect(iso(parseCalendarTime('0050-01-01 10:00Z', 'date-first'))).toBe('0050-01-01T10:00:00.000Z');
    expect(iso(parseCalendarTime('0005-01-01 10:00Z', 'date-first'))).toBe('0005-01-01T10:00:00.000Z');
    expect(iso(parseCalendarTime('0099-12-31 23:59:59Z', 'date-first'))).toBe('0099-12-31T23:59:59.000Z');
    expect(iso(parseCalendarTime('0000-02-29T12:00:00+02:00', 'date-first'))).toBe('0000-02-29T10:00:00.000Z');
  });

  it('still refuses days those years never had, and leaves year 0100 on as before', () => {
    expect(parseCalendarTime('0001-02-29', 'day')).toBeNull();
    expect(parseCalendarTime('0050-01-01 nonsense', 'date-first')).toBeNull();
    expect(iso(parseCalendarTime('0100-01-01 00:00Z', 'date-first'))).toBe('0100-01-01T00:00:00.000Z');
    expect(iso(parseCalendarTime('2026-11-30 10:00Z', 'date-first'))).toBe('2026-11-30T10:00:00.000Z');
  });
});
