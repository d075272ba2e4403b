import { describe, expect, it } from 'vitest';
import { digitsAt, textAt } from '../../src/parse/text-at.js';

describe('textAt', () => {
  it('is startsWith at a position', () => {
    expect(textAt('LOG:  AUDIT: SESSION', 6, 'AUDIT: ')).toBe(true);
    expect(textAt('LOG:  AUDIT: SESSION', 5, 'AUDIT: ')).toBe(false);
    expect(textAt('abc', 1, 'bc')).toBe(true);
    expect(textAt('abc', 1, 'bcd')).toBe(false);
    expect(textAt('abc', 3, '')).toBe(true);
    expect(textAt('abc', 4, 'x')).toBe(false);
  });

  it('compares UTF-16 code units, so surrogate pairs and accents must match exactly', () => {
    expect(textAt('x 🙏 y', 2, '🙏')).toBe(true);
    expect(textAt('café', 3, 'é')).toBe(true);
    expect(textAt('café', 3, 'e')).toBe(false);
  });
});

describe('digitsAt', () => {
  it('reads the seconds and milliseconds of a log time in place, -1 for a non-digit or past the end', () => {
    const time = '2026-11-29 17:18:52.725 WIB';
    expect(digitsAt(time, 17, 2)).toBe(52);
    expect(digitsAt(time, 20, 3)).toBe(725);
    expect(digitsAt(time, 0, 4)).toBe(2026);
    expect(digitsAt(time, 18, 3)).toBe(-1);
    expect(digitsAt('12', 1, 2)).toBe(-1);
    expect(digitsAt('09', 0, 2)).toBe(9);
  });
});
