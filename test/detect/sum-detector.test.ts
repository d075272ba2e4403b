import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import { CONTEXT, at, auditEvent, kindIs, makeRule, resetEventIds } from './detector-fixtures.js';

function rowsEngine(): DetectionEngine {
  const rule = makeRule({ id: 'jaga.exfil.rows', type: 'sum', params: { window: '1h', field: 'audit.rows', total: 10_000 }, selections: { sel_read: kindIs('audit') }, groupBy: ['user'] });
  return new DetectionEngine([rule], CONTEXT);
}

describe('SumDetector', () => {
  beforeEach(resetEventIds);

  it('fires when a role reads 12,000 rows within an hour, at the event that reaches the total', () => {
    const engine = rowsEngine();
    const events = [auditEvent(0, { rows: 4000 }), auditEvent(600, { rows: null }), auditEvent(1200, { rows: 4000 }), auditEvent(1800, { rows: 4000 })];
    const found = events.flatMap((event) => engine.process(event));
    expect(found).toHaveLength(1);
    expect(found[0]?.count).toBe(3);
    expect(found[0]?.firstSeen).toBe(at(0));
    expect(found[0]?.lastSeen).toBe(at(1800));
    expect(found[0]?.explanation).toMatchObject({ sum: 12_000, total: 10_000, field: 'audit.rows', window_ms: 3_600_000 });
    expect(found[0]?.dataClasses).toEqual(['contact', 'pii']);
    expect(found[0]?.summary).toBe('Test sum: audit.rows sum 12000 (total 10000) within 1h for user=support_sari');
  });

  it('does not fire when the rows are spread over more than the window', () => {
    const engine = rowsEngine();
    const found = [0, 2000, 4000, 6000].flatMap((seconds) => engine.process(auditEvent(seconds, { rows: 4000 })));
    expect(found).toEqual([]);
  });

  it('does not fire below the total', () => {
    const engine = rowsEngine();
    const found = [0, 1, 2].flatMap((seconds) => engine.process(auditEvent(seconds, { rows: 3000 })));
    expect(found).toEqual([]);
  });
});
