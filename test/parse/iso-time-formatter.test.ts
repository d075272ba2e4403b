import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createIsoTimeFormatter } from '../../src/parse/iso-time-formatter.js';

describe('createIsoTimeFormatter', () => {
  it('formats like toISOString, across a second, minute, day and year boundary', () => {
    const format = createIsoTimeFormatter();
    expect(format(1795972636517)).toBe('2026-11-29T17:17:16.517Z');
    expect(format(1795972636517)).toBe('2026-11-29T17:17:16.517Z');
    expect(format(1795972636000)).toBe('2026-11-29T17:17:16.000Z');
    expect(format(1795972636999)).toBe('2026-11-29T17:17:16.999Z');
    expect(format(1795972637005)).toBe('2026-11-29T17:17:17.005Z');
    expect(format(Date.UTC(2026, 11, 31, 23, 59, 59, 999))).toBe('2026-12-31T23:59:59.999Z');
    expect(format(Date.UTC(2027, 0, 1, 0, 0, 0, 0))).toBe('2027-01-01T00:00:00.000Z');
    expect(format(0)).toBe('1970-01-01T00:00:00.000Z');
  });

  it('takes a new second of the cached minute from that minute, and a minute left and come back to afresh', () => {
    const format = createIsoTimeFormatter();
    expect(format(Date.UTC(2026, 10, 29, 17, 17, 0, 0))).toBe('2026-11-29T17:17:00.000Z');
    expect(format(Date.UTC(2026, 10, 29, 17, 17, 9, 1))).toBe('2026-11-29T17:17:09.001Z');
    expect(format(Date.UTC(2026, 10, 29, 17, 17, 59, 999))).toBe('2026-11-29T17:17:59.999Z');
    expect(format(Date.UTC(2026, 10, 29, 17, 18, 0, 0))).toBe('2026-11-29T17:18:00.000Z');
    expect(format(Date.UTC(2026, 10, 29, 17, 17, 30, 500))).toBe('2026-11-29T17:17:30.500Z');
    expect(format(Date.UTC(2026, 10, 29, 17, 17, 30, 501))).toBe('2026-11-29T17:17:30.501Z');
  });

  it('falls back to Date for times it does not cache: negative, fractional, six-digit years', () => {
    const format = createIsoTimeFormatter();
    expect(format(-1)).toBe('1969-12-31T23:59:59.999Z');
    expect(format(1795972636517.9)).toBe('2026-11-29T17:17:16.517Z');
    expect(format(253402300800000)).toBe('+010000-01-01T00:00:00.000Z');
    expect(format(253402300799999)).toBe('9999-12-31T23:59:59.999Z');
  });

  it('gives null where toISOString would throw (an invalid Date)', () => {
    const format = createIsoTimeFormatter();
    expect(format(Number.NaN)).toBeNull();
    expect(format(Number.POSITIVE_INFINITY)).toBeNull();
    expect(format(8.64e15 + 1)).toBeNull();
    expect(format(8.64e15)).toBe('+275760-09-13T00:00:00.000Z');
  });

  it('agrees with toISOString on any sequence of valid times', () => {
    // near one another (the cached second is reused) or anywhere in Date's range
    const near = fc.tuple(fc.integer({ min: 1_795_972_630, max: 1_795_972_640 }), fc.integer({ min: 0, max: 999 })).map(([s, ms]) => s * 1000 + ms);
    // within a few minutes: new seconds of a cached minute, and minutes left and come back to
    const minutes = fc.integer({ min: 1_795_972_500_000, max: 1_795_972_800_000 });
    const anywhere = fc
      .tuple(fc.integer({ min: -8_640_000, max: 8_640_000 }), fc.integer({ min: 0, max: 999_999_999 }))
      .map(([high, low]) => high * 1e9 + low)
      .filter((t) => Math.abs(t) <= 8.64e15);
    const time = fc.oneof(near, minutes, anywhere);
    fc.assert(
      fc.property(fc.array(time, { minLength: 1, maxLength: 20 }), (times) => {
        const format = createIsoTimeFormatter();
        for (const t of times) expect(format(t)).toBe(new Date(t).toISOString());
      }),
    );
  });
});
