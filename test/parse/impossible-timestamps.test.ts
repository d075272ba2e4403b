import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cachedTimeParser } from '../../src/parse/cached-time-parser.js';
import { createCachedTimestampParser } from '../../src/parse/csv-time-cache.js';
import { createCsvlogFramer } from '../../src/parse/csvlog-framer.js';
import { createJsonlogFramer } from '../../src/parse/jsonlog-framer.js';
import { compileLogLinePrefix } from '../../src/parse/log-line-prefix.js';
import type { LogRecord } from '../../src/parse/log-record.js';
import { LogTimeAt } from '../../src/parse/log-time-at.js';
import { isFramingFailure, type FramedRecord, type RecordFramer } from '../../src/parse/record-framer.js';
import { createStderrFramer } from '../../src/parse/stderr-framer.js';
import { createTimestampParser } from '../../src/parse/timestamp-parser.js';

// PostgreSQL never prints these: each must be a parse failure, never a rolled-over time.
const IMPOSSIBLE: Array<[string, string]> = [
  ['month 13, day 45, 99:99:99', '2026-13-45 99:99:99.000 UTC'],
  ['month 00', '2026-00-10 10:00:00.000 UTC'],
  ['day 00', '2026-11-00 10:00:00.000 UTC'],
  ['February 30', '2026-02-30 10:00:00.000 UTC'],
  ['February 29 of a common year', '2027-02-29 10:00:00.000 UTC'],
  ['February 29 of a century that is no leap year', '2100-02-29 10:00:00.000 UTC'],
  ['April 31', '2026-04-31 10:00:00.000 UTC'],
  ['hour 24', '2026-11-29 24:00:00.000 UTC'],
  ['minute 60', '2026-11-29 10:60:00.000 UTC'],
  ['second 60', '2026-11-29 10:00:60.000 UTC'],
];

// The edges that exist, with their UTC epoch ms.
const VALID: Array<[string, string, number]> = [
  ['February 29 of a leap year', '2028-02-29 12:00:00.000 UTC', Date.UTC(2028, 1, 29, 12, 0, 0, 0)],
  ['February 29 of a leap century', '2000-02-29 12:00:00.000 UTC', Date.UTC(2000, 1, 29, 12, 0, 0, 0)],
  ['the last millisecond of a year', '2026-12-31 23:59:59.999 UTC', Date.UTC(2026, 11, 31, 23, 59, 59, 999)],
  ['midnight', '2026-11-29 00:00:00.000 UTC', Date.UTC(2026, 10, 29, 0, 0, 0, 0)],
];

const layout = (out: FramedRecord[]): string[] =>
  out.map((r) => (isFramingFailure(r) ? `${r.failure}@${r.offset}:${r.byteLength}` : `${r.offset}:${r.byteLength}`));

function run(framer: RecordFramer, data: Buffer, chunkBytes: number): FramedRecord[] {
  const out: FramedRecord[] = [];
  for (let i = 0; i < data.length; i += chunkBytes) out.push(...framer.push(data.subarray(i, i + chunkBytes)));
  out.push(...framer.end());
  return out;
}

describe('createTimestampParser: impossible dates and times', () => {
  it.each(IMPOSSIBLE)('rejects %s', (_what, text) => {
    expect(createTimestampParser('UTC')(text)).toBeNull();
    expect(createTimestampParser('Europe/Berlin')(text.replace(' UTC', ' CET'))).toBeNull();
    expect(createTimestampParser('UTC')(text.replace('.000 UTC', ' +07'))).toBeNull();
  });

  it.each(VALID)('accepts %s', (_what, text, ms) => {
    expect(createTimestampParser('UTC')(text)).toBe(ms);
  });

  it('accepts the last day of every month of 2026 and 2028', () => {
    const parse = createTimestampParser('UTC');
    const last = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    for (const year of [2026, 2028]) {
      for (let month = 1; month <= 12; month++) {
        const day = (last[month - 1] as number) + (year === 2028 && month === 2 ? 1 : 0);
        const text = `${year}-${String(month).padStart(2, '0')}-${day} 23:59:59.999 UTC`;
        expect(parse(text)).toBe(Date.UTC(year, month - 1, day, 23, 59, 59, 999));
        expect(parse(text.replace(`-${day} `, `-${day + 1} `))).toBeNull();
      }
    }
  });
});

describe('the minute caches: second 60-99 of a minute already converted', () => {
  it('cachedTimeParser (stderr %m/%t) rejects it and keeps the minute', () => {
    const parse = cachedTimeParser(createTimestampParser('UTC'));
    expect(parse('2026-11-29 10:00:59.500 UTC')).toBe(Date.UTC(2026, 10, 29, 10, 0, 59, 500));
    expect(parse('2026-11-29 10:00:60.000 UTC')).toBeNull();
    expect(parse('2026-11-29 10:00:99 UTC')).toBeNull();
    expect(parse('2026-11-29 10:00:01.000 UTC')).toBe(Date.UTC(2026, 10, 29, 10, 0, 1, 0));
  });

  it('createCachedTimestampParser (csvlog, jsonlog) rejects it and keeps the minute', () => {
    const parse = createCachedTimestampParser(createTimestampParser('UTC'));
    expect(parse('2026-11-29 10:00:59.500 UTC')).toBe(Date.UTC(2026, 10, 29, 10, 0, 59, 500));
    expect(parse('2026-11-29 10:00:60.000 UTC')).toBeNull();
    expect(parse('2026-11-29 10:00:01.000 UTC')).toBe(Date.UTC(2026, 10, 29, 10, 0, 1, 0));
  });

  it('LogTimeAt (csvlog columns) rejects it and keeps the minute', () => {
    const times = new LogTimeAt(createTimestampParser('UTC'));
    const at = (text: string): number | null => times.at(`x,${text},y`, 2, 2 + text.length);
    expect(at('2026-11-29 10:00:59.500 UTC')).toBe(Date.UTC(2026, 10, 29, 10, 0, 59, 500));
    expect(at('2026-11-29 10:00:60.000 UTC')).toBeNull();
    expect(at('2026-11-29 10:00:01.000 UTC')).toBe(Date.UTC(2026, 10, 29, 10, 0, 1, 0));
  });
});

describe('compileLogLinePrefix: badTime', () => {
  it('marks an impossible %m and %t, and a %n past the largest Date, with a null timeMs', () => {
    const m = compileLogLinePrefix('%m [%p] ').match('2026-02-30 10:00:00.000 UTC [7] LOG:  x');
    expect([m?.timeMs, m?.badTime, m?.pid]).toEqual([null, true, 7]);
    const t = compileLogLinePrefix('%t [%p] ').match('2026-11-29 24:00:00 UTC [7] LOG:  x');
    expect([t?.timeMs, t?.badTime]).toEqual([null, true]);
    const n = compileLogLinePrefix('%n [%p] ').match('9000000000000.000 [7] LOG:  x');
    expect([n?.timeMs, n?.badTime]).toEqual([null, true]);
    const good = compileLogLinePrefix('%n [%p] ').match('8640000000000.000 [7] LOG:  x');
    expect([good?.timeMs, good?.badTime]).toEqual([8.64e15, false]);
  });

  it('leaves badTime false for a prefix without a time and for an impossible %s (session start only)', () => {
    const none = compileLogLinePrefix('[%p] ').match('[7] LOG:  x');
    expect([none?.timeMs, none?.badTime]).toEqual([null, false]);
    const s = compileLogLinePrefix('%m %s [%p] ').match('2026-11-29 10:00:00.000 UTC 2026-02-30 10:00:00 UTC [7] LOG:  x');
    expect([s?.timeMs, s?.sessionStartMs, s?.badTime]).toEqual([Date.UTC(2026, 10, 29, 10), null, false]);
  });
});

describe('createStderrFramer: a line with an impossible time', () => {
  const frame = (text: string, prefix = '%m [%p] ', chunkBytes = 1 << 16): FramedRecord[] =>
    run(createStderrFramer({ logLinePrefix: prefix }), Buffer.from(text), chunkBytes);

  const good = '2026-11-29 10:00:00.000 UTC [7] LOG:  first\n'; // 44 bytes
  const next = '2026-11-29 10:00:01.000 UTC [8] LOG:  next\n'; // 43 bytes

  it.each(IMPOSSIBLE)('is a bad_timestamp failure covering its line: %s', (_what, time) => {
    const bad = `${time} [7] LOG:  bad\n`;
    const data = good + bad + next;
    for (const chunk of [1 << 16, 5]) {
      const out = frame(data, '%m [%p] ', chunk);
      expect(layout(out)).toEqual(['0:44', `bad_timestamp@44:${bad.length}`, `${44 + bad.length}:43`]);
      expect((out[0] as LogRecord).message).toBe('first');
      expect((out[2] as LogRecord).message).toBe('next');
    }
  });

  it('takes its TAB continuation lines and its own DETAIL/STATEMENT lines, never the previous record', () => {
    const bad =
      '2026-02-30 10:00:00.000 UTC [7] ERROR:  bad\n' + // 44
      '\tsecond line of the message\n' + // 28
      '2026-11-29 10:00:00.000 UTC [7] STATEMENT:  select 1\n'; // 53
    const out = frame(good + bad + next);
    expect(layout(out)).toEqual(['0:44', 'bad_timestamp@44:125', '169:43']);
    expect((out[0] as LogRecord).message).toBe('first');
    expect((out[0] as LogRecord).statement).toBeNull();
    expect(out[1]).toEqual({ failure: 'bad_timestamp', offset: 44, byteLength: 125 });
  });

  it('never attaches a DETAIL line with an impossible time to the open record', () => {
    const detail = '2026-11-29 10:00:60.000 UTC [7] DETAIL:  d\n'; // 43
    const out = frame(good + detail + next);
    expect(layout(out)).toEqual(['0:44', 'bad_timestamp@44:43', '87:43']);
    expect((out[0] as LogRecord).detail).toBeNull();
  });

  it('fails an impossible %t and a %n past the largest Date the same way', () => {
    expect(layout(frame('2026-11-29 24:00:00 UTC [7] LOG:  x\n2026-11-29 23:59:59 UTC [7] LOG:  y\n', '%t [%p] '))).toEqual([
      'bad_timestamp@0:36',
      '36:36',
    ]);
    expect(layout(frame('9000000000000.000 [7] LOG:  x\n1795972636.517 [7] LOG:  y\n', '%n [%p] '))).toEqual(['bad_timestamp@0:30', '30:27']);
  });

  it.each(VALID)('frames %s with its exact time', (_what, time, ms) => {
    const out = frame(`${time} [7] LOG:  ok\n`);
    expect(out).toHaveLength(1);
    expect((out[0] as LogRecord).timeMs).toBe(ms);
  });
});

// Record 0 of test/fixtures/csvlog/pg15-excerpt.csv (253 bytes) and line 0 of test/fixtures/jsonlog/pg15-excerpt.json
// (358 bytes); both start with the time 2026-11-29 17:17:16.517 UTC.
const CORPUS_TIME = '2026-11-29 17:17:16.517 UTC';
const csvRecord = readFileSync(new URL('../fixtures/csvlog/pg15-excerpt.csv', import.meta.url)).subarray(0, 253).toString('utf8');
const jsonLine = readFileSync(new URL('../fixtures/jsonlog/pg15-excerpt.json', import.meta.url)).subarray(0, 358).toString('utf8');

describe.each([
  ['csvlog', csvRecord, 253, (): RecordFramer => createCsvlogFramer()],
  ['jsonlog', jsonLine, 358, (): RecordFramer => createJsonlogFramer()],
])('%s: a record with an impossible time', (_format, record, length, framer) => {
  const withTime = (time: string): string => record.replace(CORPUS_TIME, time);

  it.each(IMPOSSIBLE)('is a bad_timestamp failure, then parsing goes on: %s', (_what, time) => {
    const data = Buffer.from(record + withTime(time) + record);
    for (const chunk of [1 << 16, 7]) {
      expect(layout(run(framer(), data, chunk))).toEqual([`0:${length}`, `bad_timestamp@${length}:${length}`, `${2 * length}:${length}`]);
    }
  });

  it('rejects second 60 right after a valid time of the same minute', () => {
    const data = Buffer.from(record + withTime('2026-11-29 17:17:60.517 UTC') + record);
    expect(layout(run(framer(), data, 1 << 16))).toEqual([`0:${length}`, `bad_timestamp@${length}:${length}`, `${2 * length}:${length}`]);
  });

  it.each(VALID)('frames %s with its exact time', (_what, time, ms) => {
    const out = run(framer(), Buffer.from(withTime(time)), 1 << 16);
    expect(layout(out)).toEqual([`0:${length}`]);
    expect((out[0] as LogRecord).timeMs).toBe(ms);
  });
});
