import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/domain/errors.js';
import { findZoneTextSample } from '../../src/parse/zone-text-sample.js';

const CSV_LINE = '2026-11-29 17:17:16.517 WIB,,,14439,,6b0c5e1c.3867,1,,2026-11-29 17:17:16 WIB,,0,LOG,00000,"database system is ready to accept connections",,,,,,,,,"","postmaster",,0\n';
const JSON_LINE = '{"timestamp":"2026-11-29 17:17:16.517 +07","pid":14439,"session_id":"6b0c5e1c.3867","line_num":1,"error_severity":"LOG","message":"ready","backend_type":"postmaster","query_id":0}\n';

describe('findZoneTextSample: the zone text and instant of the first record with a real time', () => {
  it('reads the csvlog log_time column (converted with the configured zone)', () => {
    expect(findZoneTextSample('csvlog', CSV_LINE)).toEqual({ zoneText: 'WIB', timeMs: Date.UTC(2026, 10, 29, 17, 17, 16, 517) });
    expect(findZoneTextSample('csvlog', CSV_LINE, { timezone: 'Asia/Jakarta' })).toEqual({ zoneText: 'WIB', timeMs: Date.UTC(2026, 10, 29, 10, 17, 16, 517) });
  });

  it('reads the jsonlog timestamp key (a numeric zone is exact whatever the configured zone)', () => {
    expect(findZoneTextSample('jsonlog', JSON_LINE)).toEqual({ zoneText: '+07', timeMs: Date.UTC(2026, 10, 29, 10, 17, 16, 517) });
  });

  it('reads the %m or %t capture of the compiled log_line_prefix of a stderr line, passing over continuation and foreign lines', () => {
    const text = '\tcontinued statement text\nnot a log line\n2026-11-29 17:18:34.337 CET [14439] LOG:  checkpoint starting: time\n';
    expect(findZoneTextSample('stderr', text)).toEqual({ zoneText: 'CET', timeMs: Date.UTC(2026, 10, 29, 17, 18, 34, 337) });
    expect(findZoneTextSample('stderr', 'app=psql 2026-11-29 17:18:34 -03:30 [7] LOG:  x\n', { logLinePrefix: 'app=%a %t [%p] ' })).toEqual({
      zoneText: '-03:30',
      timeMs: Date.UTC(2026, 10, 29, 20, 48, 34),
    });
  });

  it('gives a null zone for a stderr record whose prefix carries no zone (%n epoch)', () => {
    expect(findZoneTextSample('stderr', '1795972636.517 [14439] LOG:  x\n', { logLinePrefix: '%n [%p] ' })).toEqual({ zoneText: null, timeMs: null });
  });

  it('passes over a record whose time cannot exist, and lines of another format', () => {
    const text = `${CSV_LINE.replace('2026-11-29 17:17:16.517', '2026-02-30 17:17:16.517')}${CSV_LINE.replace('WIB,', 'UTC,')}`;
    expect(findZoneTextSample('csvlog', text)).toEqual({ zoneText: 'UTC', timeMs: Date.UTC(2026, 10, 29, 17, 17, 16, 517) });
    expect(findZoneTextSample('jsonlog', CSV_LINE)).toBeNull();
    expect(findZoneTextSample('csvlog', JSON_LINE)).toBeNull();
    expect(findZoneTextSample('stderr', '')).toBeNull();
  });

  it('reads CRLF lines and a last line without its newline', () => {
    expect(findZoneTextSample('stderr', '2026-11-29 17:18:34.337 UTC [1] LOG:  x\r\n')).toEqual({ zoneText: 'UTC', timeMs: Date.UTC(2026, 10, 29, 17, 18, 34, 337) });
    expect(findZoneTextSample('csvlog', CSV_LINE.slice(0, 60))).toEqual({ zoneText: 'WIB', timeMs: Date.UTC(2026, 10, 29, 17, 17, 16, 517) });
  });

  it('throws ConfigError for a log_line_prefix or zone the parser refuses', () => {
    expect(() => findZoneTextSample('stderr', 'x\n', { logLinePrefix: '%Y ' })).toThrow(ConfigError);
    expect(() => findZoneTextSample('stderr', 'x\n', { timezone: 'Mars/Olympus' })).toThrow(ConfigError);
  });
});
