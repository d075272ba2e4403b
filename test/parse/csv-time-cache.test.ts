import { describe, expect, it } from 'vitest';
import { createCachedTimestampParser } from '../../src/parse/csv-time-cache.js';
import { createTimestampParser } from '../../src/parse/timestamp-parser.js';

/** A cached parser of `timezone` over the real one, recording each text the real one was asked for. */
function countingCachedParser(timezone: string): { calls: string[]; parse: (text: string) => number | null } {
  const calls: string[] = [];
  const inner = createTimestampParser(timezone);
  const parse = createCachedTimestampParser((text) => {
    calls.push(text);
    return inner(text);
  });
  return { calls, parse };
}

describe('createCachedTimestampParser', () => {
  it('adds the seconds and milliseconds to the minute it converted once', () => {
    const { calls, parse } = countingCachedParser('UTC');
    expect(parse('2026-11-29 17:18:34.337 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 18, 34, 337));
    expect(parse('2026-11-29 17:18:35.002 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 18, 35, 2));
    expect(parse('2026-11-29 17:18:59.999 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 18, 59, 999));
    expect(parse('2026-11-29 17:19:00.000 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 19, 0, 0));
    expect(calls).toEqual(['2026-11-29 17:18:34.337 UTC', '2026-11-29 17:19:00.000 UTC']);
  });

  it('converts again when the zone text changes within a minute', () => {
    const parse = createCachedTimestampParser(createTimestampParser('UTC'));
    expect(parse('2026-11-29 17:18:34.337 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 18, 34, 337));
    expect(parse('2026-11-29 17:18:34.337 +07')).toBe(Date.UTC(2026, 10, 29, 10, 18, 34, 337));
    expect(parse('2026-11-29 17:18:34.337 -0330')).toBe(Date.UTC(2026, 10, 29, 20, 48, 34, 337));
  });

  it('gives null for a time whose seconds or milliseconds are not digits, even in a cached minute', () => {
    const parse = createCachedTimestampParser(createTimestampParser('UTC'));
    expect(parse('2026-11-29 17:18:34.337 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 18, 34, 337));
    expect(parse('2026-11-29 17:18:3x.337 UTC')).toBeNull();
    expect(parse('2026-11-29 17:18:34.3x7 UTC')).toBeNull();
    expect(parse('2026-11-29 17:18;34.337 UTC')).toBeNull();
    expect(parse('2026-11-29 17:18:34.337 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 18, 34, 337));
  });

  it('keeps a rejected minute rejected for its other seconds', () => {
    const parse = createCachedTimestampParser(createTimestampParser('UTC'));
    expect(parse('2026-11-29 17:18:34.337 U2C')).toBeNull();
    expect(parse('2026-11-29 17:18:35.337 U2C')).toBeNull();
    expect(parse('2026-11-29 17:18:35.337 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 18, 35, 337));
  });

  it('gives what the uncached parser gives for every second of a day with a DST change (Europe/Berlin)', () => {
    const inner = createTimestampParser('Europe/Berlin');
    const parse = createCachedTimestampParser(createTimestampParser('Europe/Berlin'));
    const mismatches: string[] = [];
    // 2026-03-29: clocks go from 02:00 CET to 03:00 CEST; 7 seconds apart over the whole day
    for (let s = 0; s < 86_400; s += 7) {
      const hh = String(Math.floor(s / 3600)).padStart(2, '0');
      const mm = String(Math.floor(s / 60) % 60).padStart(2, '0');
      const ss = String(s % 60).padStart(2, '0');
      const text = `2026-03-29 ${hh}:${mm}:${ss}.${String(s % 1000).padStart(3, '0')} ${s < 7200 ? 'CET' : 'CEST'}`;
      if (parse(text) !== inner(text)) mismatches.push(text);
    }
    expect(mismatches).toEqual([]);
  });

  it('caches texts without milliseconds whole', () => {
    const { calls, parse } = countingCachedParser('UTC');
    expect(parse('2026-11-29 17:17:16 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 17, 16));
    expect(parse('2026-11-29 17:17:16 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 17, 16));
    expect(calls).toEqual(['2026-11-29 17:17:16 UTC']);
  });
});
