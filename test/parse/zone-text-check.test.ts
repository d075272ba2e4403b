import { describe, expect, it } from 'vitest';
import { checkZoneText, formatUtcOffset, zoneOffsetMinutes } from '../../src/parse/zone-text-check.js';

const WINTER = Date.UTC(2026, 0, 15, 12);
const SUMMER = Date.UTC(2026, 6, 15, 12);
const NOVEMBER = Date.UTC(2026, 10, 29, 10, 18, 34, 337);

describe('checkZoneText: the zone text of log times against the configured zone', () => {
  it('says "WIB" contradicts UTC, naming both offsets', () => {
    expect(checkZoneText('WIB', NOVEMBER, 'UTC')).toEqual({
      verdict: 'mismatch',
      textOffsetsMinutes: [420],
      zoneOffsetMinutes: 0,
      description: 'log times say "WIB" (UTC+07:00) but the source\'s timezone is UTC (UTC+00:00)',
    });
  });

  it('agrees on "WIB" with Asia/Jakarta (its id-ID short name; en-US says GMT+7)', () => {
    expect(checkZoneText('WIB', NOVEMBER, 'Asia/Jakarta')).toEqual({ verdict: 'agree' });
  });

  it('agrees on CET in winter and CEST in summer with Europe/Berlin, and not the other way round', () => {
    expect(checkZoneText('CET', WINTER, 'Europe/Berlin')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('CEST', SUMMER, 'Europe/Berlin')).toEqual({ verdict: 'agree' });
    // in July CET is printed by zones on UTC+01:00 all year (Africa/Algiers, Africa/Tunis)
    expect(checkZoneText('CET', SUMMER, 'Europe/Berlin')).toEqual({
      verdict: 'mismatch',
      textOffsetsMinutes: [60],
      zoneOffsetMinutes: 120,
      description: 'log times say "CET" (UTC+01:00) but the source\'s timezone is Europe/Berlin (UTC+02:00)',
    });
    // no zone prints CEST in January: nothing to go on, nothing said
    expect(checkZoneText('CEST', WINTER, 'Europe/Berlin')).toEqual({ verdict: 'unknown' });
  });

  it('compares numeric zones exactly: +07 contradicts UTC, agrees with Asia/Bangkok; -03:30 and +0530', () => {
    expect(checkZoneText('+07', NOVEMBER, 'UTC')).toEqual({
      verdict: 'mismatch',
      textOffsetsMinutes: [420],
      zoneOffsetMinutes: 0,
      description: 'log times say "+07" (UTC+07:00) but the source\'s timezone is UTC (UTC+00:00)',
    });
    expect(checkZoneText('+07', NOVEMBER, 'Asia/Bangkok')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('-03:30', WINTER, 'America/St_Johns')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('-03:30', SUMMER, 'America/St_Johns')).toEqual({
      verdict: 'mismatch',
      textOffsetsMinutes: [-210],
      zoneOffsetMinutes: -150,
      description: 'log times say "-03:30" (UTC-03:30) but the source\'s timezone is America/St_Johns (UTC-02:30)',
    });
    expect(checkZoneText('+0530', NOVEMBER, 'Asia/Kolkata')).toEqual({ verdict: 'agree' });
  });

  it('agrees on UTC (and GMT, Z, UT) with UTC, and says UTC contradicts Asia/Jakarta', () => {
    for (const text of ['UTC', 'GMT', 'Z', 'UT']) expect(checkZoneText(text, NOVEMBER, 'UTC')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('UTC', NOVEMBER, 'Etc/UTC')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('UTC', NOVEMBER, 'Asia/Jakarta')).toEqual({
      verdict: 'mismatch',
      textOffsetsMinutes: [0],
      zoneOffsetMinutes: 420,
      description: 'log times say "UTC" (UTC+00:00) but the source\'s timezone is Asia/Jakarta (UTC+07:00)',
    });
  });

  it('agrees on EST in winter and EDT in summer with America/New_York', () => {
    expect(checkZoneText('EST', WINTER, 'America/New_York')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('EDT', SUMMER, 'America/New_York')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('EST', WINTER, 'UTC')).toEqual({
      verdict: 'mismatch',
      textOffsetsMinutes: [-300],
      zoneOffsetMinutes: 0,
      description: 'log times say "EST" (UTC-05:00) but the source\'s timezone is UTC (UTC+00:00)',
    });
  });

  it('says nothing about an abbreviation no zone prints (XYZT), whatever the zone', () => {
    expect(checkZoneText('XYZT', NOVEMBER, 'UTC')).toEqual({ verdict: 'unknown' });
    expect(checkZoneText('XYZT', NOVEMBER, 'Asia/Jakarta')).toEqual({ verdict: 'unknown' });
  });

  it('agrees on the tzdata names CLDR has no English name for: CST in Asia/Shanghai (and its alias PRC), PST in Asia/Manila, IST/IDT in Asia/Jerusalem, KST, MSK', () => {
    expect(checkZoneText('CST', NOVEMBER, 'Asia/Shanghai')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('CST', NOVEMBER, 'PRC')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('PST', WINTER, 'Asia/Manila')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('IST', WINTER, 'Asia/Jerusalem')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('IDT', SUMMER, 'Asia/Jerusalem')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('KST', NOVEMBER, 'Asia/Seoul')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('MSK', NOVEMBER, 'Europe/Moscow')).toEqual({ verdict: 'agree' });
    expect(checkZoneText('MSK', NOVEMBER, 'UTC')).toEqual({
      verdict: 'mismatch',
      textOffsetsMinutes: [180],
      zoneOffsetMinutes: 0,
      description: 'log times say "MSK" (UTC+03:00) but the source\'s timezone is UTC (UTC+00:00)',
    });
  });

  it('names every offset an ambiguous abbreviation stands for: IST is India and Israel in November (Dublin prints GMT then)', () => {
    expect(checkZoneText('IST', NOVEMBER, 'UTC')).toEqual({
      verdict: 'mismatch',
      textOffsetsMinutes: [120, 330],
      zoneOffsetMinutes: 0,
      description: 'log times say "IST" (UTC+02:00 or UTC+05:30) but the source\'s timezone is UTC (UTC+00:00)',
    });
    expect(checkZoneText('IST', NOVEMBER, 'Asia/Kolkata')).toEqual({ verdict: 'agree' });
    // an abbreviation some zone with the configured offset prints (IST: Israel, UTC+02:00) is not contradicted
    expect(checkZoneText('IST', NOVEMBER, 'Africa/Cairo')).toEqual({ verdict: 'unknown' });
  });

  it('throws RangeError for a zone Intl does not know', () => {
    expect(() => checkZoneText('UTC', NOVEMBER, 'Mars/Olympus')).toThrow(RangeError);
  });
});

describe('zoneOffsetMinutes and formatUtcOffset', () => {
  it('gives offsets in minutes east of UTC, local mean time seconds included', () => {
    expect(zoneOffsetMinutes('Asia/Jakarta', NOVEMBER)).toBe(420);
    expect(zoneOffsetMinutes('America/St_Johns', WINTER)).toBe(-210);
    expect(zoneOffsetMinutes('UTC', WINTER)).toBe(0);
    expect(zoneOffsetMinutes('Asia/Jakarta', Date.UTC(1850, 0, 1))).toBe(427.2);
  });

  it('writes UTC+HH:MM, with :SS only when there are seconds', () => {
    expect([0, 420, -210, 330, 427.2, -0.5].map(formatUtcOffset)).toEqual(['UTC+00:00', 'UTC+07:00', 'UTC-03:30', 'UTC+05:30', 'UTC+07:07:12', 'UTC-00:00:30']);
  });
});
