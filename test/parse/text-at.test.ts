import { describe, expect, it } from 'vitest';
import { textAt } from '../../src/parse/text-at.js';

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
