import { describe, expect, it } from 'vitest';
import { zoneTextHint } from '../../src/parse/zone-text-hint.js';

const stderrLine = (zone: string): string => `2026-11-29 17:18:34.337 ${zone} [14439] LOG:  checkpoint starting: time\n`;

describe('zoneTextHint: the jaga parse hint line from a file head', () => {
  it('names the zone text, both offsets and --timezone when they contradict', () => {
    expect(zoneTextHint('stderr', Buffer.from(stderrLine('WIB').repeat(3)), { timezone: 'UTC' })).toBe(
      'hint: log times say "WIB" (UTC+07:00) but --timezone is UTC (UTC+00:00): every time is converted with the wrong offset; give the server\'s log_timezone with --timezone (SHOW log_timezone)',
    );
  });

  it('gives null when the zone agrees, is unknown, or no record is in the head', () => {
    expect(zoneTextHint('stderr', Buffer.from(stderrLine('WIB')), { timezone: 'Asia/Jakarta' })).toBeNull();
    expect(zoneTextHint('stderr', Buffer.from(stderrLine('XYZT')), { timezone: 'UTC' })).toBeNull();
    expect(zoneTextHint('stderr', Buffer.from(stderrLine('WIB')), { timezone: 'UTC', logLinePrefix: '%t %u ' })).toBeNull();
    expect(zoneTextHint('csvlog', Buffer.alloc(0), { timezone: 'UTC' })).toBeNull();
  });

  it('reads only whole lines of the first 64 KiB: a record past them is not looked at', () => {
    const head = Buffer.from(`${'x'.repeat(70_000)}\n${stderrLine('WIB')}`);
    expect(zoneTextHint('stderr', head, { timezone: 'UTC' })).toBeNull();
  });
});
