import { describe, expect, it } from 'vitest';
import { ConnectionFromCache } from '../../src/parse/connection-from-cache.js';
import { CsvColumnReader } from '../../src/parse/csv-column-reader.js';
import { splitCsvText, undoubleQuotes } from '../../src/parse/csv-field-splitter.js';
import { buildCsvlogRecord, integerAt } from '../../src/parse/csv-record-builder.js';
import { MAX_COMMAS, scanRecordEnd } from '../../src/parse/csv-record-scanner.js';
import { createCsvlogFramer } from '../../src/parse/csvlog-framer.js';
import type { LogRecord } from '../../src/parse/log-record.js';
import { LogTimeAt } from '../../src/parse/log-time-at.js';
import { isFramingFailure, type FramedRecord } from '../../src/parse/record-framer.js';
import { createTimestampParser } from '../../src/parse/timestamp-parser.js';

/** The fields `eventRecord` leaves null (events are not built from them). */
const NOT_FOR_EVENTS = ['command_tag', 'sessionStartMs', 'vxid', 'xid', 'internal_query', 'location', 'leader_pid', 'query_id'] as const;

/** Scans one record line (no newline) as the framer does: its unquoted comma positions. */
function commasOf(line: string): { commas: Int32Array; columns: number } {
  const state = { inQuote: false, commaCount: 0, commas: new Int32Array(MAX_COMMAS) };
  const bytes = Buffer.from(`${line}\n`);
  scanRecordEnd(bytes, 0, bytes.length, 0, state);
  return { commas: state.commas, columns: state.commaCount + 1 };
}

/** `buildCsvlogRecord` of the split line, with the fields events are not built from set to null. */
function expectedRecord(line: string, offset: number, byteLength: number): LogRecord | string {
  const parse = createTimestampParser('UTC');
  const built = buildCsvlogRecord(splitCsvText(line).fields, offset, byteLength, parse, false, new ConnectionFromCache());
  if (typeof built === 'string') return built;
  for (const field of NOT_FOR_EVENTS) (built as unknown as Record<string, unknown>)[field] = null;
  return built;
}

const row = (columns: Record<number, string>, count = 26): string =>
  Array.from({ length: count }, (_, k) => columns[k] ?? '').join(',');

const BASE: Record<number, string> = {
  0: '2026-11-29 17:30:00.250 UTC',
  1: '"alice"',
  2: '"crm"',
  3: '4242',
  4: '"127.0.0.1:50123"',
  5: '6b0c6000.1092',
  6: '3',
  7: '"SELECT"',
  8: '2026-11-29 17:29:58 UTC',
  9: '3/7',
  10: '0',
  11: 'LOG',
  12: '00000',
  13: '"AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,""SELECT a, b\nFROM t WHERE c = \'x\'"",<none>"',
  22: '"psql"',
  23: '"client backend"',
  24: '',
  25: '0',
};

describe('CsvColumnReader.eventRecord', () => {
  const cases: [string, string][] = [
    ['a 26-column record with a quoted newline and doubled quotes in the message', row(BASE)],
    ['a 23-column record (PostgreSQL 12)', row({ ...BASE, 22: '"psql"' }, 23)],
    ['a 24-column record (PostgreSQL 13) whose backend type ends the line', row(BASE, 24)],
    ['detail, hint, context and query columns', row({ ...BASE, 14: '"d ""1"""', 15: '"h"', 16: '"iq"', 17: '4', 18: '"ctx\nline"', 19: '"SELECT 1"', 20: '7', 21: '"loc"' })],
    ['a quoted pid and line number', row({ ...BASE, 3: '"4242"', 6: '"17"' })],
    ['a negative, an oversized and a non-numeric number', row({ ...BASE, 3: '-12', 6: '1234567890123456' })],
    ['a pid with a quote inside and an unclosed quoted line number', row({ ...BASE, 3: '12"3', 6: '"12' })],
    ['a lone minus sign and an empty quoted pid', row({ ...BASE, 3: '-', 6: '""' })],
    ['an IPv6 client, a Unix socket and no port', row({ ...BASE, 4: '"::1:5432"' })],
    ['a host without a port number', row({ ...BASE, 4: '"[local]"' })],
    ['a host with a non-numeric port', row({ ...BASE, 4: '"h:x1"' })],
    ['a quoted log_time', row({ ...BASE, 0: '"2026-11-29 17:30:00.250 UTC"' })],
    ['a log_time without milliseconds', row({ ...BASE, 0: '2026-11-29 17:30:00 UTC' })],
    ['a log_time with a numeric zone', row({ ...BASE, 0: '2026-11-29 17:30:00.250 -0330' })],
    ['an empty log_time', row({ ...BASE, 0: '' })],
    ['a log_time that is not a time', row({ ...BASE, 0: '2026-13-29 17:30:00.250 UTC' })],
    ['empty user, database and application name', row({ ...BASE, 1: '', 2: '""', 22: '' })],
  ];
  it.each(cases)('gives buildCsvlogRecord\'s record, lean fields null: %s', (_name, line) => {
    const { commas, columns } = commasOf(line);
    const reader = new CsvColumnReader(createTimestampParser('UTC'));
    expect(reader.eventRecord(line, commas, columns, 1000, line.length + 1)).toEqual(expectedRecord(line, 1000, line.length + 1));
  });

  it('reads exact values from a 26-column record', () => {
    const line = row(BASE);
    const { commas, columns } = commasOf(line);
    const record = new CsvColumnReader(createTimestampParser('UTC')).eventRecord(line, commas, columns, 7, 300) as LogRecord;
    expect([record.timeMs, record.user, record.database, record.pid, record.host, record.port, record.session_id]).toEqual([
      Date.UTC(2026, 10, 29, 17, 30, 0, 250),
      'alice',
      'crm',
      4242,
      '127.0.0.1',
      50123,
      '6b0c6000.1092',
    ]);
    expect([record.session_line, record.severity, record.sqlstate, record.application_name, record.backend_type]).toEqual([
      3,
      'LOG',
      '00000',
      'psql',
      'client backend',
    ]);
    expect(record.message).toBe('AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,"SELECT a, b\nFROM t WHERE c = \'x\'",<none>');
  });

  it('keeps giving the right values when repeated and changing values alternate', () => {
    const reader = new CsvColumnReader(createTimestampParser('UTC'));
    const lines = [
      row(BASE),
      row({ ...BASE, 1: '"bob"', 3: '77', 4: '"10.0.0.9:1"', 6: '4' }),
      row(BASE),
      row({ ...BASE, 1: '"a""b"', 4: '"[local]"' }),
      row({ ...BASE, 1: '"a""b"', 4: '"[local]"' }),
    ];
    const got = lines.map((line) => {
      const { commas, columns } = commasOf(line);
      const r = reader.eventRecord(line, commas, columns, 0, 1) as LogRecord;
      return [r.user, r.pid, r.host, r.port, r.session_line];
    });
    expect(got).toEqual([
      ['alice', 4242, '127.0.0.1', 50123, 3],
      ['bob', 77, '10.0.0.9', 1, 4],
      ['alice', 4242, '127.0.0.1', 50123, 3],
      ['a"b', 4242, '[local]', null, 3],
      ['a"b', 4242, '[local]', null, 3],
    ]);
  });
});

describe('createCsvlogFramer with eventFieldsOnly: a sample split at every byte', () => {
  // quoted newlines, doubled quotes, multibyte text (2, 3 and 4 bytes), a CRLF record end
  const sample =
    `${row(BASE)}\n` +
    `${row({ ...BASE, 0: '2026-11-29 17:31:00.001 UTC', 13: '"größe ""€"" 😀\nnext line"', 3: '5' })}\r\n` +
    `${row({ ...BASE, 0: '2026-11-29 17:31:00.002 UTC', 1: '"bob"', 14: '"a\n""b"""' }, 24)}\n`;
  const bytes = Buffer.from(sample);
  const frame = (cut: number): FramedRecord[] => {
    const framer = createCsvlogFramer({ eventFieldsOnly: true });
    return [...framer.push(bytes.subarray(0, cut)), ...framer.push(bytes.subarray(cut)), ...framer.end()];
  };
  const whole = frame(bytes.length);

  it('frames the three records with exact values', () => {
    expect(whole.map((r) => (isFramingFailure(r) ? r.failure : [r.offset, r.byteLength, r.timeMs, r.pid, r.user]))).toEqual([
      [0, Buffer.byteLength(row(BASE)) + 1, Date.UTC(2026, 10, 29, 17, 30, 0, 250), 4242, 'alice'],
      [
        Buffer.byteLength(row(BASE)) + 1,
        Buffer.byteLength(sample.split('\r\n')[0] as string) + 2 - Buffer.byteLength(row(BASE)) - 1,
        Date.UTC(2026, 10, 29, 17, 31, 0, 1),
        5,
        'alice',
      ],
      [Buffer.byteLength(sample.split('\r\n')[0] as string) + 2, bytes.length - Buffer.byteLength(sample.split('\r\n')[0] as string) - 2, Date.UTC(2026, 10, 29, 17, 31, 0, 2), 4242, 'bob'],
    ]);
    expect((whole[1] as LogRecord).message).toBe('größe "€" 😀\nnext line');
    expect((whole[2] as LogRecord).detail).toBe('a\n"b"');
  });

  it('gives the same records at every split position', () => {
    for (let cut = 1; cut < bytes.length; cut++) expect(frame(cut), `split at byte ${cut}`).toEqual(whole);
  });
});

describe('LogTimeAt', () => {
  it('reads times where they stand, converting each minute and zone once', () => {
    const seen: string[] = [];
    const parse = createTimestampParser('UTC');
    const times = new LogTimeAt((text) => {
      seen.push(text);
      return parse(text);
    });
    const line = 'x,2026-11-29 17:30:59.999 UTC,2026-11-29 17:30:01.000 UTC,2026-11-29 17:31:00.000 UTC,2026-11-29 17:31:00.000 +07,';
    expect([times.at(line, 2, 29), times.at(line, 30, 57), times.at(line, 58, 85), times.at(line, 86, 113)]).toEqual([
      Date.UTC(2026, 10, 29, 17, 30, 59, 999),
      Date.UTC(2026, 10, 29, 17, 30, 1, 0),
      Date.UTC(2026, 10, 29, 17, 31, 0, 0),
      Date.UTC(2026, 10, 29, 10, 31, 0, 0),
    ]);
    expect(seen).toEqual(['2026-11-29 17:30:59.999 UTC', '2026-11-29 17:31:00.000 UTC', '2026-11-29 17:31:00.000 +07']);
  });

  it('gives other texts to the parser whole, and remembers a rejected minute as null', () => {
    const times = new LogTimeAt(createTimestampParser('UTC'));
    const line = '2026-11-29 17:30:00 UTC|2026-11-29 17:30:00.100 U1C|2026-11-29 17:30:00.200 U1C|2026-11-29 17:30:00.1x0 UTC';
    expect([times.at(line, 0, 23), times.at(line, 24, 51), times.at(line, 52, 79), times.at(line, 80, 107)]).toEqual([
      Date.UTC(2026, 10, 29, 17, 30, 0, 0),
      null,
      null,
      null,
    ]);
  });
});

describe('integerAt and ConnectionFromCache', () => {
  it('reads decimal integers in place', () => {
    const text = 'a,42,-7,-,,123456789012345,1234567890123456,4x,-0';
    expect([integerAt(text, 2, 4), integerAt(text, 5, 7), integerAt(text, 8, 9), integerAt(text, 10, 10)]).toEqual([42, -7, null, null]);
    expect([integerAt(text, 11, 26), integerAt(text, 27, 43), integerAt(text, 44, 46), Object.is(integerAt(text, 47, 49), -0)]).toEqual([
      123456789012345,
      null,
      null,
      true,
    ]);
  });

  it('splits host and port, keeping IPv6 colons, and interns hosts', () => {
    const cache = new ConnectionFromCache();
    const split = (text: string | null): [string | null, number | null] => {
      cache.split(text);
      return [cache.host, cache.port];
    };
    expect([split('10.0.0.1:5432'), split('::1:6000'), split('[local]'), split('h:'), split('h:x'), split(null)]).toEqual([
      ['10.0.0.1', 5432],
      ['::1', 6000],
      ['[local]', null],
      ['h:', null],
      ['h:x', null],
      [null, null],
    ]);
  });
});

describe('undoubleQuotes', () => {
  it('makes each doubled quote one, left to right, as replaceAll does', () => {
    const texts = ['', 'plain', '""', '"""', '""""', 'a""b""c', '""lead', 'trail""', 'one " quote', 'x"""y', '€""😀""\n""'];
    expect(texts.map(undoubleQuotes)).toEqual(['', 'plain', '"', '""', '""', 'a"b"c', '"lead', 'trail"', 'one " quote', 'x""y', '€"😀"\n"']);
    expect(texts.map(undoubleQuotes)).toEqual(texts.map((t) => t.replaceAll('""', '"')));
  });
});
