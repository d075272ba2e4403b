import { describe, expect, it } from 'vitest';
import { createCsvlogFramer } from '../../src/parse/csvlog-framer.js';
import type { LogRecord } from '../../src/parse/log-record.js';
import { isFramingFailure } from '../../src/parse/record-framer.js';

/** A 26-column csvlog record (PostgreSQL 14-17) with the given time, user and application name columns as written. */
const record = (time: string, user: string, app: string): string =>
  `${time},${user},"crm",4242,"127.0.0.1:50123",6b0c6000.1092,3,"SELECT",2026-11-29 17:29:58 UTC,3/7,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>",,,,,,,,,${app},"client backend",,0\n`;

function frame(text: string): LogRecord[] {
  const framer = createCsvlogFramer({ eventFieldsOnly: true });
  return [...framer.push(Buffer.from(text)), ...framer.end()].filter((r): r is LogRecord => !isFramingFailure(r));
}

describe('createCsvlogFramer: values repeated from record to record', () => {
  it('undoubles quoted values every time, also when the same raw value repeats', () => {
    const out = frame(
      record('2026-11-29 17:30:00.250 UTC', '"a""b"', '"psql"') +
        record('2026-11-29 17:30:00.251 UTC', '"a""b"', '"psql"') +
        record('2026-11-29 17:30:00.252 UTC', '"ab"', '"""quoted"""') +
        record('2026-11-29 17:30:00.253 UTC', 'ab', '"""quoted"""'),
    );
    expect(out.map((r) => [r.user, r.application_name])).toEqual([
      ['a"b', 'psql'],
      ['a"b', 'psql'],
      ['ab', '"quoted"'],
      ['ab', '"quoted"'],
    ]);
  });

  it('reads an empty quoted or unquoted column as null between repeated values', () => {
    const out = frame(
      record('2026-11-29 17:30:00.250 UTC', '"alice"', '"psql"') +
        record('2026-11-29 17:30:00.251 UTC', '""', '') +
        record('2026-11-29 17:30:00.252 UTC', '"alice"', '"psql"'),
    );
    expect(out.map((r) => [r.user, r.application_name])).toEqual([
      ['alice', 'psql'],
      [null, null],
      ['alice', 'psql'],
    ]);
  });

  it('converts each time exactly within a second, across seconds and when only the zone changes', () => {
    const out = frame(
      record('2026-11-29 17:30:00.250 UTC', '"alice"', '"psql"') +
        record('2026-11-29 17:30:00.999 UTC', '"alice"', '"psql"') +
        record('2026-11-29 17:30:01.000 UTC', '"alice"', '"psql"') +
        record('2026-11-29 17:30:01.000 +07', '"alice"', '"psql"') +
        record('2026-11-29 17:30:01.500 -0330', '"alice"', '"psql"'),
    );
    expect(out.map((r) => r.timeMs)).toEqual([
      Date.UTC(2026, 10, 29, 17, 30, 0, 250),
      Date.UTC(2026, 10, 29, 17, 30, 0, 999),
      Date.UTC(2026, 10, 29, 17, 30, 1, 0),
      Date.UTC(2026, 10, 29, 10, 30, 1, 0),
      Date.UTC(2026, 10, 29, 21, 0, 1, 500),
    ]);
  });
});
