import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cachedTimeParser } from '../../src/parse/cached-time-parser.js';
import { createTimestampParser } from '../../src/parse/timestamp-parser.js';

describe('cachedTimeParser', () => {
  it('gives the parser\'s answer within a minute, across minutes and when only the zone changes', () => {
    const parse = createTimestampParser('Asia/Jakarta');
    const cached = cachedTimeParser(parse);
    const texts = [
      '2026-11-29 17:17:16.517 WIB',
      '2026-11-29 17:17:59.999 WIB',
      '2026-11-29 17:18:00.000 WIB',
      '2026-11-29 17:18:00.000 +07',
      '2026-11-29 17:18:00.000 UTC',
      '2026-11-29 17:18:00 UTC',
      '2026-11-29 17:18:01 UTC',
      '2026-11-30 17:18:01 UTC',
    ];
    for (const text of texts) expect(cached(text)).toBe(parse(text));
    expect(cached('2026-11-29 17:17:16.517 UTC')).toBe(Date.UTC(2026, 10, 29, 17, 17, 16, 517));
  });

  it('equals the parser on any sequence of shaped times (property)', () => {
    const time = fc
      .tuple(
        fc.integer({ min: 2025, max: 2027 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 0, max: 1 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 59 }),
        fc.option(fc.integer({ min: 0, max: 999 })),
        fc.constantFrom('UTC', 'CET', '+07', '-0330'),
      )
      .map(([y, mo, d, h, mi, s, ms, zone]) => {
        const two = (n: number): string => String(n).padStart(2, '0');
        const millis = ms === null ? '' : `.${String(ms).padStart(3, '0')}`;
        return `${y}-${two(mo)}-${two(d)} ${two(h)}:${two(mi)}:${two(s)}${millis} ${zone}`;
      });
    fc.assert(
      fc.property(fc.array(time, { maxLength: 30 }), (texts) => {
        const parse = createTimestampParser('Europe/Berlin');
        const cached = cachedTimeParser(parse);
        for (const text of texts) expect(cached(text)).toBe(parse(text));
      }),
    );
  });
});
