import { describe, expect, it } from 'vitest';
import { createCachedTimestampParser } from '../../src/parse/csv-time-cache.js';
import { cachedTimeParser } from '../../src/parse/cached-time-parser.js';
import { createTimestampParser } from '../../src/parse/timestamp-parser.js';

/** `YYYY-MM-DD HH:MM:SS.mmm ZONE` of UTC instant `utcMs` on a clock `offsetMs` ahead of UTC. */
function logTime(utcMs: number, offsetMs: number, zone: string): string {
  const local = new Date(utcMs + offsetMs).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 23)} ${zone}`;
}

describe('createTimestampParser: the repeated hour when DST ends', () => {
  it('places CEST and CET times of Europe/Berlin 2026-10-25 02:00-03:00 one hour apart, as written', () => {
    const parse = createTimestampParser('Europe/Berlin');
    expect(parse('2026-10-25 01:59:59.000 CEST')).toBe(Date.UTC(2026, 9, 24, 23, 59, 59));
    expect(parse('2026-10-25 02:30:00.000 CEST')).toBe(Date.UTC(2026, 9, 25, 0, 30, 0));
    expect(parse('2026-10-25 02:30:05.000 CET')).toBe(Date.UTC(2026, 9, 25, 1, 30, 5));
    expect(parse('2026-10-25 02:59:59.999 CEST')).toBe(Date.UTC(2026, 9, 25, 0, 59, 59, 999));
    expect(parse('2026-10-25 03:00:00.000 CET')).toBe(Date.UTC(2026, 9, 25, 2, 0, 0));
  });

  it('gives the same answer to a parser that starts inside the repeated hour (names from Intl)', () => {
    expect(createTimestampParser('Europe/Berlin')('2026-10-25 02:30:00.000 CEST')).toBe(Date.UTC(2026, 9, 25, 0, 30, 0));
    expect(createTimestampParser('Europe/Berlin')('2026-10-25 02:30:00.000 CET')).toBe(Date.UTC(2026, 9, 25, 1, 30, 0));
  });

  // Asia/Jerusalem: Intl knows no IDT/IST names (GMT+3/GMT+2); its DST ends 2026-10-25 02:00 IDT -> 01:00 IST
  it('learns abbreviations Intl has no names for from the times outside the repeated hour', () => {
    const parse = createTimestampParser('Asia/Jerusalem');
    expect(parse('2026-10-25 00:59:00.000 IDT')).toBe(Date.UTC(2026, 9, 24, 21, 59, 0));
    expect(parse('2026-10-25 01:30:00.000 IDT')).toBe(Date.UTC(2026, 9, 24, 22, 30, 0));
    expect(parse('2026-10-25 01:30:00.000 IST')).toBe(Date.UTC(2026, 9, 24, 23, 30, 0));
  });

  it('gives an abbreviation it has not learned the offset no learned abbreviation claims', () => {
    const learnedSummer = createTimestampParser('Asia/Jerusalem');
    learnedSummer('2026-10-25 00:10:00.000 IDT');
    expect(learnedSummer('2026-10-25 01:10:00.000 IST')).toBe(Date.UTC(2026, 9, 24, 23, 10, 0));
    const learnedWinter = createTimestampParser('Asia/Jerusalem');
    learnedWinter('2026-10-25 02:10:00.000 IST');
    expect(learnedWinter('2026-10-25 01:10:00.000 IDT')).toBe(Date.UTC(2026, 9, 24, 22, 10, 0));
  });

  it('takes the standard-time offset when it has learned nothing and Intl has no names', () => {
    expect(createTimestampParser('Asia/Jerusalem')('2026-10-25 01:30:00.000 IDT')).toBe(Date.UTC(2026, 9, 24, 23, 30, 0));
  });

  it('does the same for America/New_York (EDT, EST) on 2026-11-01', () => {
    const parse = createTimestampParser('America/New_York');
    expect(parse('2026-11-01 00:59:00.000 EDT')).toBe(Date.UTC(2026, 10, 1, 4, 59, 0));
    expect(parse('2026-11-01 01:30:00.000 EDT')).toBe(Date.UTC(2026, 10, 1, 5, 30, 0));
    expect(parse('2026-11-01 01:30:00.000 EST')).toBe(Date.UTC(2026, 10, 1, 6, 30, 0));
  });

  it('gives every instant of the night back, through the csvlog/jsonlog and stderr caches too (7 s apart)', () => {
    const plain = createTimestampParser('Europe/Berlin');
    const csv = createCachedTimestampParser(createTimestampParser('Europe/Berlin'));
    const stderr = cachedTimeParser(createTimestampParser('Europe/Berlin'));
    const end = Date.UTC(2026, 9, 25, 1, 0, 0);
    const wrong: string[] = [];
    for (let utcMs = Date.UTC(2026, 9, 24, 22, 0, 0); utcMs < Date.UTC(2026, 9, 25, 3, 0, 0); utcMs += 7_013) {
      const text = utcMs < end ? logTime(utcMs, 7_200_000, 'CEST') : logTime(utcMs, 3_600_000, 'CET');
      if (plain(text) !== utcMs || csv(text) !== utcMs || stderr(text) !== utcMs) wrong.push(text);
    }
    expect(wrong).toEqual([]);
  });
});
