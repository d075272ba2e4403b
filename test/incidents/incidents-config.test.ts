import { describe, expect, it } from 'vitest';
import { DEFAULT_REGULATORY_CLOCKS, parseIncidentsConfig } from '../../src/config/incidents-config.js';
import { ConfigError } from '../../src/domain/errors.js';

const H = 3_600_000;
const D = 24 * H;

describe('incidents config', () => {
  it('applies every default to an empty config', () => {
    expect(parseIncidentsConfig({})).toEqual({
      resolveAfterMs: H,
      escalationMs: {},
      regulatory: [
        { name: 'gdpr_art33', title: 'GDPR Art. 33: notify the supervisory authority', withinMs: 72 * H, dataClasses: ['pii'], remindBeforeMs: [24 * H, 4 * H] },
        { name: 'uu_pdp_art46', title: 'UU PDP Art. 46: notify data subjects and the authority', withinMs: 72 * H, dataClasses: ['pii'], remindBeforeMs: [24 * H, 4 * H] },
      ],
      retention: { evidenceMs: 180 * D, outboxMs: 30 * D, timelineMs: 365 * D },
    });
    expect(parseIncidentsConfig({}).regulatory).toEqual(DEFAULT_REGULATORY_CLOCKS);
    expect(Object.isFrozen(parseIncidentsConfig({}))).toBe(true);
  });

  it('takes durations with units; a given clock list replaces the default one; escalation bounds are given by the caller (derived from the notify section)', () => {
    const config = parseIncidentsConfig(
      {
        incidents: {
          resolve_after: '2h',
          regulatory: [{ name: 'ccpa', title: 'CCPA notice', within: '45d', data_classes: ['pii', 'payment', 'pii'], remind_before: ['1d', '7d'] }],
        },
        retention: { evidence: '90d' },
      },
      { critical: [5 * 60_000, 90 * 60_000] },
    );
    expect(config).toEqual({
      resolveAfterMs: 2 * H,
      escalationMs: { critical: [5 * 60_000, 90 * 60_000] },
      regulatory: [{ name: 'ccpa', title: 'CCPA notice', withinMs: 45 * D, dataClasses: ['payment', 'pii'], remindBeforeMs: [7 * D, D] }],
      retention: { evidenceMs: 90 * D, outboxMs: 30 * D, timelineMs: 365 * D },
    });
    expect(parseIncidentsConfig({ incidents: { regulatory: [] } }).regulatory).toEqual([]);
  });

  it('reports every problem with its path: unknown keys, bad durations, the moved escalation key, reminders past the period, empty periods', () => {
    let error: unknown;
    try {
      parseIncidentsConfig({
        incidents: {
          resolve_afer: '1h',
          escalation: { high: ['30m'] },
          regulatory: [
            { name: 'gdpr_art33', title: 'A', within: '72', data_classes: ['pii'] },
            { name: 'gdpr_art33', title: 'B', within: '1d', data_classes: ['pii'], remind_before: ['2d'] },
          ],
        },
        retention: { evidence: '0d' },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'incidents.escalation: moved to escalation: give each step as `escalation: {steps: [{after: {critical: 15m, high: 1h}, receivers: [...]}]}` at the top level (one place for timing and receivers)',
      'incidents.regulatory[0].within: invalid duration "72": expected a number with a unit ms, s, m, h, d or w, e.g. 500ms, 30s, 5m, 26h, 7d',
      'incidents.regulatory[1].remind_before: every remind_before must be shorter than within',
      'incidents.resolve_afer: unknown key "resolve_afer" (did you mean "resolve_after"?)',
      'retention.evidence: must be longer than 0',
    ]);
  });

  it('refuses two clocks with one name (the name keys the incident\'s deadlines)', () => {
    const clock = { name: 'gdpr_art33', title: 'A', within: '72h', data_classes: ['pii'] };
    expect(() => parseIncidentsConfig({ incidents: { regulatory: [clock, clock] } })).toThrow('incidents.regulatory: clock names must be unique');
  });
});
