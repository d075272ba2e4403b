import { describe, expect, it } from 'vitest';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import type { DetectorModule } from '../../src/detect/detector.js';

function schemaOf(type: string): DetectorModule['paramsSchema'] {
  const module = DETECTOR_REGISTRY.get(type);
  if (module === undefined) throw new Error(`no ${type}`);
  return module.paramsSchema;
}

function issues(type: string, params: unknown): string[] {
  const result = schemaOf(type).safeParse(params);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.code}${'keys' in issue ? ` ${String(issue.keys)}` : ''}`);
}

describe('DETECTOR_REGISTRY', () => {
  it('holds the seven rule types and the five baseline types, windowed exactly for those that take a window', () => {
    expect([...DETECTOR_REGISTRY.keys()]).toEqual(['match', 'threshold', 'distinct', 'sum', 'sequence', 'new_value', 'absence', 'baseline_volume', 'baseline_breadth', 'baseline_new_context', 'baseline_time_of_week', 'baseline_failure_rate']);
    expect([...DETECTOR_REGISTRY.values()].filter((module) => module.windowed).map((module) => module.type)).toEqual(['threshold', 'distinct', 'sum', 'sequence']);
  });

  it('parses durations with units to milliseconds and defaults a step count to 1', () => {
    expect(schemaOf('threshold').parse({ window: '60s', count: 10 })).toEqual({ window: 60_000, count: 10 });
    expect(schemaOf('sequence').parse({ window: '5m', steps: [{ selection: 'sel_fail', count: 5 }, { selection: 'sel_ok' }] })).toEqual({
      window: 300_000,
      steps: [{ selection: 'sel_fail', count: 5 }, { selection: 'sel_ok', count: 1 }],
    });
    expect(schemaOf('new_value').parse({ fields: ['client_addr'], learn: '7d' })).toEqual({ fields: ['client_addr'], learn: 604_800_000 });
    expect(schemaOf('absence').parse({ after: '26h' })).toEqual({ after: 93_600_000 });
    expect(schemaOf('match').parse({})).toEqual({});
  });

  it('names a parameter the type does not take (window on a match rule) as an unrecognized key', () => {
    expect(issues('match', { window: '60s' })).toEqual([': unrecognized_keys window']);
    expect(issues('threshold', { window: '60s', count: 3, field: 'user' })).toEqual([': unrecognized_keys field']);
  });

  it('refuses bare numbers as durations, zero windows, counts below 1 and single-step sequences', () => {
    expect(issues('threshold', { window: 60, count: 0 })).toEqual(['window: invalid_type', 'count: too_small']);
    expect(issues('sum', { window: '0s', field: 'audit.rows', total: 10 })).toEqual(['window: custom']);
    expect(issues('sequence', { window: '1m', steps: [{ selection: 'a' }] })).toEqual(['steps: too_small']);
    expect(issues('distinct', { window: '1m', count: 2, field: 'Audit Rows' })).toEqual(['field: invalid_format']);
    expect(issues('absence', {})).toEqual(['after: invalid_type']);
  });
});
