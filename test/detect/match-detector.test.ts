import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import { CONTEXT, at, auditEvent, makeEvent, makeRule, resetEventIds } from './detector-fixtures.js';

describe('MatchDetector', () => {
  beforeEach(resetEventIds);

  const rule = makeRule({
    id: 'jaga.server.copy_program',
    type: 'match',
    selections: { sel_program: (event) => event.query?.flags.includes('copy_program') ?? false },
    groupBy: ['user'],
  });

  it('raises one detection per matching event, with the event as evidence', () => {
    const engine = new DetectionEngine([rule], CONTEXT);
    const copy = auditEvent(5, { user: 'dba_admin', command: 'COPY', rows: 0, normalized: "COPY customers TO PROGRAM $1" });
    copy.query?.flags.push('copy_program');
    const found = [auditEvent(1, { user: 'dba_admin' }), copy].flatMap((event) => engine.process(event));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      detectorId: 'jaga.server.copy_program',
      count: 1,
      firstSeen: at(5),
      lastSeen: at(5),
      group: { user: 'dba_admin' },
      dataClasses: ['contact', 'pii'],
      explanation: { type: 'match', matched_selections: ['sel_program'] },
      summary: 'Test match: audit WRITE COPY on public.customers for user=dba_admin',
      score: null,
    });
    expect(found[0]?.evidence).toHaveLength(1);
    expect(found[0]?.evidence[0]?.normalized).toBe('COPY customers TO PROGRAM $1');
  });

  it('raises nothing for events that do not match', () => {
    const engine = new DetectionEngine([rule], CONTEXT);
    expect([makeEvent({ time: at(1), kind: 'connection' }), auditEvent(2, {})].flatMap((event) => engine.process(event))).toEqual([]);
  });
});
