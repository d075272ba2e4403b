import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/domain/errors.js';
import { durationSchema, formatDuration, parseDuration } from '../../src/lib/duration.js';

describe('parseDuration', () => {
  it('parses every unit to milliseconds', () => {
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('5m', 'x')).toBe(300_000);
    expect(parseDuration('1h', 'x')).toBe(3_600_000);
    expect(parseDuration('26h', 'x')).toBe(93_600_000);
    expect(parseDuration('7d', 'x')).toBe(604_800_000);
    expect(parseDuration('2w', 'x')).toBe(1_209_600_000);
  });

  it('adds compound parts and rounds fractions to whole ms', () => {
    expect(parseDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseDuration('1.5s', 'x')).toBe(1_500);
    expect(parseDuration('0.0005s', 'x')).toBe(1);
    expect(parseDuration('0s', 'x')).toBe(0);
  });

  it('refuses a bare number, an unknown unit, a negative and a non-string, naming the field', () => {
    for (const bad of ['60', '5 minutes', '-5s', '5x', '', 60, null]) {
      expect(() => parseDuration(bad, 'window')).toThrow(ConfigError);
    }
    expect(() => parseDuration('60', 'window')).toThrow('window: invalid duration "60": expected a number with a unit ms, s, m, h, d or w, e.g. 500ms, 30s, 5m, 26h, 7d');
    expect(() => parseDuration(60, 'suppress')).toThrow('suppress: invalid duration 60: expected');
  });
});

describe('formatDuration', () => {
  it('uses the largest unit that divides exactly', () => {
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(93_600_000)).toBe('26h');
    expect(formatDuration(604_800_000)).toBe('1w');
    expect(formatDuration(1_500)).toBe('1500ms');
    expect(formatDuration(0)).toBe('0s');
  });
});

describe('durationSchema', () => {
  it('outputs ms and reports a bad duration as an issue', () => {
    expect(durationSchema.parse('60s')).toBe(60_000);
    const result = durationSchema.safeParse('60');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('invalid duration "60": expected a number with a unit ms, s, m, h, d or w, e.g. 500ms, 30s, 5m, 26h, 7d');
  });
});
