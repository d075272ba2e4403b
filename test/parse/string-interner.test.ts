import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StringInterner } from '../../src/parse/string-interner.js';

describe('StringInterner', () => {
  it('keeps one value per distinct text and gives it back for equal text', () => {
    const interner = new StringInterner();
    expect(interner.intern('app_web')).toBe('app_web');
    expect(interner.intern(['app', 'web'].join('_'))).toBe('app_web');
    expect(interner.internSlice('user=app_web db=crm', 5, 12)).toBe('app_web');
    expect(interner.internSlice('db=crm', 3, 6)).toBe('crm');
    expect(interner.size).toBe(2);
  });

  it('stops keeping new values at maxValues but still gives every value back unchanged', () => {
    const interner = new StringInterner(3);
    for (const value of ['a', 'b', 'c', 'd', 'e', 'a', 'd']) expect(interner.intern(value)).toBe(value);
    expect(interner.size).toBe(3);
    expect(interner.internSlice('xdx', 1, 2)).toBe('d');
    expect(interner.size).toBe(3);
  });

  it('does not keep values longer than maxChars', () => {
    const interner = new StringInterner(10, 4);
    expect(interner.intern('abcde')).toBe('abcde');
    expect(interner.internSlice('abcde', 0, 5)).toBe('abcde');
    expect(interner.size).toBe(0);
    expect(interner.intern('abcd')).toBe('abcd');
    expect(interner.size).toBe(1);
  });

  it('gives empty text back without keeping it', () => {
    const interner = new StringInterner();
    expect(interner.intern('')).toBe('');
    expect(interner.internSlice('abc', 2, 2)).toBe('');
    expect(interner.size).toBe(0);
  });

  it('tells apart values sharing a recent slot (same length, first and last character)', () => {
    const interner = new StringInterner();
    for (let round = 0; round < 3; round++) {
      expect(interner.internSlice('public.orders', 0, 13)).toBe('public.orders');
      expect(interner.internSlice('public.olders', 0, 13)).toBe('public.olders');
      expect(interner.intern('public.orders')).toBe('public.orders');
    }
    expect(interner.size).toBe(2);
  });

  it('keeps lone surrogates and other code units exactly', () => {
    const interner = new StringInterner();
    expect(interner.intern('a\ud800b')).toBe('a\ud800b');
    expect(interner.intern('a\ud800b')).toBe('a\ud800b');
    expect(interner.intern('x\u0000"\\y')).toBe('x\u0000"\\y');
  });

  it('is the identity on values, whatever the order and the bounds (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.nat(), fc.nat())), fc.integer({ min: 1, max: 8 }), (inputs, maxValues) => {
        const interner = new StringInterner(maxValues, 6);
        for (const [text, a, b] of inputs) {
          const start = Math.min(a % (text.length + 1), b % (text.length + 1));
          const end = Math.max(a % (text.length + 1), b % (text.length + 1));
          expect(interner.intern(text)).toBe(text);
          expect(interner.internSlice(text, start, end)).toBe(text.slice(start, end));
        }
        expect(interner.size).toBeLessThanOrEqual(maxValues);
      }),
    );
  });
});
