import { describe, expect, it } from 'vitest';
import { cachedTimeParser } from '../../src/parse/cached-time-parser.js';
import { createCachedTimestampParser } from '../../src/parse/csv-time-cache.js';
import { createTimestampParser } from '../../src/parse/timestamp-parser.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

describe('createTimestampParser: years 0000-0099 are the years written (Date.UTC would read 1900-1999)', () => {
  it('converts UTC times of years 0000-0100 exactly', () => {
    const parse = createTimestampParser('UTC');
    expect(iso(parse('0099-12-31 23:59:59 UTC'))).toBe('0099-12-31T23:59:59.000Z');
    expect(parse('0099-12-31 23:59:59 UTC')).toBe(-59_011_459_201_000);
    expect(iso(parse('0000-01-01 00:00:00.000 UTC'))).toBe('0000-01-01T00:00:00.000Z');
    expect(iso(parse('0001-06-15 12:30:45.678 UTC'))).toBe('0001-06-15T12:30:45.678Z');
    expect(iso(parse('0100-01-01 00:00:00 UTC'))).toBe('0100-01-01T00:00:00.000Z');
  });

  it('keeps February 29 of the leap years 0000 and 0004 (1900 is not one) and refuses it in 0001 and 0100', () => {
    const parse = createTimestampParser('UTC');
    expect(iso(parse('0000-02-29 12:00:00 UTC'))).toBe('0000-02-29T12:00:00.000Z');
    expect(iso(parse('0004-02-29 00:00:00.500 UTC'))).toBe('0004-02-29T00:00:00.500Z');
    expect(parse('0001-02-29 00:00:00 UTC')).toBeNull();
    expect(parse('0100-02-29 00:00:00 UTC')).toBeNull();
  });

  it('applies numeric zones and named zones (their local mean time then) to years 0000-0099', () => {
    expect(iso(createTimestampParser('UTC')('0000-01-01 00:00:00 +07'))).toBe('-000001-12-31T17:00:00.000Z');
    expect(iso(createTimestampParser('UTC')('0050-03-01 00:00:00 -03:30'))).toBe('0050-03-01T03:30:00.000Z');
    // tzdata: Asia/Jakarta is UTC+07:07:12 before 1867, Europe/Berlin UTC+00:53:28 before 1893
    expect(iso(createTimestampParser('Asia/Jakarta')('0050-06-01 07:07:12 WIB'))).toBe('0050-06-01T00:00:00.000Z');
    expect(iso(createTimestampParser('Asia/Jakarta')('0000-01-01 00:00:00'))).toBe('-000001-12-31T16:52:48.000Z');
    expect(iso(createTimestampParser('Europe/Berlin')('0099-07-01 12:00:00 CEST'))).toBe('0099-07-01T11:06:32.000Z');
  });

  it('gives the same through the stderr and csvlog/jsonlog minute caches', () => {
    const stderr = cachedTimeParser(createTimestampParser('UTC'));
    const csv = createCachedTimestampParser(createTimestampParser('UTC'));
    for (const parse of [stderr, csv]) {
      expect(iso(parse('0099-12-31 23:59:58.250 UTC'))).toBe('0099-12-31T23:59:58.250Z');
      expect(iso(parse('0099-12-31 23:59:59.999 UTC'))).toBe('0099-12-31T23:59:59.999Z');
    }
  });

  it('leaves years from 0100 on as before', () => {
    const parse = createTimestampParser('Asia/Jakarta');
    expect(iso(parse('2026-11-29 17:18:34.337 WIB'))).toBe('2026-11-29T10:18:34.337Z');
    expect(iso(parse('1970-01-01 07:00:00 WIB'))).toBe('1970-01-01T00:00:00.000Z');
  });
});
