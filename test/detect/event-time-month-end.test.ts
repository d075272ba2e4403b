/**
 * parseIsoTimeMs reads days 29-31 on its fast path when the month has them (a log written on the
 * 29th-31st no longer pays Date.parse per event): every result must equal Date.parse's, including
 * leap days and days past a month's end (which Date.parse still decides).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIsoTimeMs } from '../../src/detect/event-time.js';

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

describe('parseIsoTimeMs at month ends', () => {
  it('reads the corpus day, leap days and the last day of each month', () => {
    expect(parseIsoTimeMs('2026-11-29T17:18:52.725Z')).toBe(Date.UTC(2026, 10, 29, 17, 18, 52, 725));
    expect(parseIsoTimeMs('2024-02-29T00:00:00.000Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoTimeMs('2000-02-29T12:00:00.000Z')).toBe(Date.UTC(2000, 1, 29, 12));
    expect(parseIsoTimeMs('2026-12-31T23:59:59.999Z')).toBe(Date.UTC(2026, 11, 31, 23, 59, 59, 999));
    expect(parseIsoTimeMs('2026-04-30T08:00:00.000Z')).toBe(Date.UTC(2026, 3, 30, 8));
  });

  it('gives what Date.parse gives for days past the month end', () => {
    for (const time of ['2026-02-29T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '2026-04-31T00:00:00.000Z', '2026-06-31T10:00:00.000Z', '2026-02-30T00:00:00.000Z']) {
      expect(Object.is(parseIsoTimeMs(time), Date.parse(time))).toBe(true);
    }
  });

  it('equals Date.parse for any year, month, day 1-31 and time of day', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 999 }),
        (year, month, day, hour, minute, second, milli) => {
          const time = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${pad(milli, 3)}Z`;
          return Object.is(parseIsoTimeMs(time), Date.parse(time));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
