/**
 * parseIsoTimeMs reads its fast path two digits at a time: any character that is not a digit, at
 * any digit position, must send the time to Date.parse (the same result, NaN included), and every
 * well-formed time must equal Date.parse's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIsoTimeMs } from '../../src/detect/event-time.js';

const VALID = '2026-11-29T17:18:52.725Z';
/** positions of the digits in `YYYY-MM-DDTHH:MM:SS.mmmZ` */
const DIGIT_POSITIONS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];

describe('parseIsoTimeMs digit reading', () => {
  it('reads every digit position of a well-formed time', () => {
    expect(parseIsoTimeMs(VALID)).toBe(Date.UTC(2026, 10, 29, 17, 18, 52, 725));
    expect(parseIsoTimeMs('0000-01-01T00:00:00.000Z')).toBe(-62_167_219_200_000);
    expect(parseIsoTimeMs('0000-01-01T00:00:00.000Z')).toBe(Date.parse('0000-01-01T00:00:00.000Z'));
    expect(parseIsoTimeMs('9999-12-31T23:59:59.999Z')).toBe(Date.parse('9999-12-31T23:59:59.999Z'));
    expect(parseIsoTimeMs('1970-01-01T00:00:00.001Z')).toBe(1);
  });

  it('gives what Date.parse gives when any digit position holds a non-digit', () => {
    for (const position of DIGIT_POSITIONS) {
      for (const replacement of ['/', ':', 'a', ' ', '-', '\u0660']) {
        const time = VALID.slice(0, position) + replacement + VALID.slice(position + 1);
        expect(Object.is(parseIsoTimeMs(time), Date.parse(time)), `${time}`).toBe(true);
      }
    }
  });

  it('gives what Date.parse gives for out-of-range fields', () => {
    for (const time of ['2026-00-29T17:18:52.725Z', '2026-13-29T17:18:52.725Z', '2026-11-00T17:18:52.725Z', '2026-11-29T24:00:00.000Z', '2026-11-29T17:60:52.725Z', '2026-11-29T17:18:60.725Z']) {
      expect(Object.is(parseIsoTimeMs(time), Date.parse(time)), time).toBe(true);
    }
  });

  it('equals Date.parse on random 24-character strings over digits and the separators', () => {
    const alphabet = '0123456789-T:.Z';
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: VALID.length - 1 }), { minLength: 1, maxLength: 3 }), fc.array(fc.constantFrom(...alphabet), { minLength: 3, maxLength: 3 }), (positions, chars) => {
        let time = VALID;
        positions.forEach((position, i) => {
          time = time.slice(0, position) + (chars[i] as string) + time.slice(position + 1);
        });
        return Object.is(parseIsoTimeMs(time), Date.parse(time));
      }),
      { numRuns: 5000 },
    );
  });

  it('equals Date.parse on random instants (epoch ms between years 1 and 9999)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), (ms) => {
        const time = new Date(ms).toISOString();
        return parseIsoTimeMs(time) === ms && Date.parse(time) === ms;
      }),
      { numRuns: 5000 },
    );
  });
});
