import { describe, expect, it } from 'vitest';
import { appendEvidence, INCIDENT_EVIDENCE_LIMIT, mergeDetection, severityRank } from '../../src/incidents/merge-detection.js';
import { evidenceItem } from './detection-factory.js';

const entity = { user: 'dba_admin', database: null, client_addr: '10.0.0.5', application_name: null };

describe('mergeDetection', () => {
  it('raises severity to the detection severity and says so', () => {
    const merged = mergeDetection(
      { severity: 'medium', entity, tags: [], dataClasses: [], evidence: [] },
      { severity: 'critical', entity, tags: [], dataClasses: [], evidence: [] },
    );
    expect(merged.severity).toBe('critical');
    expect(merged.severityRaised).toBe(true);
  });

  it('never lowers severity, and an equal severity is not a rise', () => {
    const lower = mergeDetection({ severity: 'high', entity, tags: [], dataClasses: [], evidence: [] }, { severity: 'low', entity, tags: [], dataClasses: [], evidence: [] });
    expect([lower.severity, lower.severityRaised]).toEqual(['high', false]);
    const equal = mergeDetection({ severity: 'high', entity, tags: [], dataClasses: [], evidence: [] }, { severity: 'high', entity, tags: [], dataClasses: [], evidence: [] });
    expect([equal.severity, equal.severityRaised]).toEqual(['high', false]);
  });

  it('unites tags and data classes, sorted, and fills only the null entity fields', () => {
    const merged = mergeDetection(
      { severity: 'low', entity, tags: ['gdpr.art32', 'attack.t1110'], dataClasses: ['pii'], evidence: [] },
      {
        severity: 'low',
        entity: { user: 'other', database: 'crm', client_addr: '10.9.9.9', application_name: 'psql' },
        tags: ['attack.t1110', 'attack.t1078'],
        dataClasses: ['payment', 'pii'],
        evidence: [],
      },
    );
    expect(merged.tags).toEqual(['attack.t1078', 'attack.t1110', 'gdpr.art32']);
    expect(merged.dataClasses).toEqual(['payment', 'pii']);
    expect(merged.entity).toEqual({ user: 'dba_admin', database: 'crm', client_addr: '10.0.0.5', application_name: 'psql' });
  });
});

describe('appendEvidence', () => {
  it('appends items with new event ids after the existing ones and drops repeated ids', () => {
    const a = evidenceItem('a', '2026-01-01T00:00:00.000Z');
    const b = evidenceItem('b', '2026-01-01T00:00:01.000Z');
    const c = evidenceItem('c', '2026-01-01T00:00:02.000Z');
    expect(appendEvidence([a, b], [b, c, c]).map((item) => item.event_id)).toEqual(['a', 'b', 'c']);
  });

  it(`keeps the first ${INCIDENT_EVIDENCE_LIMIT} items and drops later ones`, () => {
    const existing = Array.from({ length: 45 }, (_, i) => evidenceItem(`old-${i}`, '2026-01-01T00:00:00.000Z'));
    const added = Array.from({ length: 20 }, (_, i) => evidenceItem(`new-${i}`, '2026-01-01T00:01:00.000Z'));
    const result = appendEvidence(existing, added);
    expect(result).toHaveLength(50);
    expect(result[44]!.event_id).toBe('old-44');
    expect(result[45]!.event_id).toBe('new-0');
    expect(result[49]!.event_id).toBe('new-4');
  });
});

describe('severityRank', () => {
  it('orders the ladder info < low < medium < high < critical and rejects unknown names', () => {
    expect((['info', 'low', 'medium', 'high', 'critical'] as const).map(severityRank)).toEqual([0, 1, 2, 3, 4]);
    expect(() => severityRank('urgent' as never)).toThrow('unknown severity "urgent": expected one of info, low, medium, high, critical');
  });
});
