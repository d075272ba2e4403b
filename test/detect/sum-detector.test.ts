import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine, type EngineState } from '../../src/detect/detection-engine.js';
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

  it('writes each distinct data-class list once in its snapshot and restores it to the same detections', () => {
    const engine = rowsEngine();
    const events = [auditEvent(0, { rows: 3000 }), auditEvent(60, { rows: 1000, objectName: 'public.payments', relations: ['payments'] }), auditEvent(120, { rows: 3000 }), auditEvent(180, { rows: 1, objectName: 'public.notes', relations: ['notes'] })];
    for (const event of events) engine.process(event);
    const state = engine.snapshot().detectors['jaga.exfil.rows']?.state as { classSets: string[][]; groups: [string, { entries: unknown[][] }][] };
    expect(state.classSets).toEqual([['contact', 'pii'], ['payment'], []]);
    expect(state.groups[0]?.[1].entries).toEqual([0, 60, 120, 180].map((s, i) => [Date.parse(at(s)), [3000, 1000, 3000, 1][i], [0, 1, 0, 2][i]]));
    const restored = rowsEngine();
    restored.restore(JSON.parse(JSON.stringify(engine.snapshot())));
    const last = auditEvent(240, { rows: 3000 });
    const found = restored.process(last);
    expect(found).toHaveLength(1);
    expect(found[0]?.dataClasses).toEqual(['contact', 'payment', 'pii']);
    expect(found[0]?.explanation).toMatchObject({ sum: 10_001 });
    expect(engine.process(last)).toEqual(found);
  });

  it('restores a snapshot written before the class-set table, whose entries carry their class lists', () => {
    const engine = rowsEngine();
    for (const event of [auditEvent(0, { rows: 6000 }), auditEvent(60, { rows: 1000, objectName: 'public.payments', relations: ['payments'] })]) engine.process(event);
    const snapshot = engine.snapshot() as { detectors: Record<string, { state: { classSets?: string[][]; groups: [string, { entries: unknown[][] }][] } }> };
    const state = snapshot.detectors['jaga.exfil.rows']?.state;
    if (state === undefined) throw new Error('no state');
    const classSets = state.classSets ?? [];
    for (const [, group] of state.groups) group.entries = group.entries.map(([timeMs, value, index]) => [timeMs, value, classSets[index as number]]);
    delete state.classSets;
    const restored = rowsEngine();
    restored.restore(JSON.parse(JSON.stringify(snapshot)));
    const found = restored.process(auditEvent(120, { rows: 4000 }));
    expect(found).toHaveLength(1);
    expect(found[0]?.dataClasses).toEqual(['contact', 'payment', 'pii']);
    expect(found[0]?.explanation).toMatchObject({ sum: 11_000 });
  });

  it('refuses an entry whose class-set index is outside the table, naming the entry, and keeps its state', () => {
    const engine = rowsEngine();
    engine.process(auditEvent(0, { rows: 6000 }));
    const snapshot = JSON.parse(JSON.stringify(engine.snapshot())) as { detectors: Record<string, { state: { groups: [string, { entries: unknown[][] }][] } }> };
    const entry = snapshot.detectors['jaga.exfil.rows']?.state.groups[0]?.[1].entries[0];
    if (entry === undefined) throw new Error('no entry');
    entry[2] = 5;
    expect(() => engine.restore(snapshot as unknown as EngineState)).toThrow('jaga.exfil.rows (sum) snapshot.groups[0].entries[0]: expected [time ms, value, classes or an index into classSets]');
    expect(engine.process(auditEvent(60, { rows: 4000 }))).toHaveLength(1);
  });
});
