import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import type { Detection } from '../../src/domain/detection.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { CONTEXT, at, kindIs, makeEvent, makeRule, resetEventIds } from './detector-fixtures.js';

function bruteForceRule(overrides: { maxEventsPerGroup?: number } = {}) {
  const rule = makeRule({ id: 'jaga.auth.brute_force', type: 'threshold', params: { window: '60s', count: 10 }, selections: { sel_fail: kindIs('auth_failure') }, groupBy: ['user'] });
  return new DetectionEngine([rule], CONTEXT, { deps: { maxEventsPerGroup: overrides.maxEventsPerGroup } });
}

function failure(seconds: number, user = 'dba_admin'): AccessEvent {
  return makeEvent({ time: at(seconds), kind: 'auth_failure', user, client_addr: '127.0.0.2', sqlstate: '28P01', message: 'password authentication failed for user "x"' });
}

function run(engine: DetectionEngine, events: AccessEvent[]): Detection[] {
  return events.flatMap((event) => engine.process(event));
}

describe('ThresholdDetector', () => {
  beforeEach(resetEventIds);

  it('raises one detection for 32 failures within 53 s (count 10, window 60 s), at the 10th', () => {
    const events = Array.from({ length: 32 }, (_, i) => failure(i * 1.7));
    const detections = run(bruteForceRule(), events);
    expect(detections).toHaveLength(1);
    const [detection] = detections as [Detection];
    expect(detection.count).toBe(10);
    expect(detection.firstSeen).toBe(at(0));
    expect(detection.lastSeen).toBe(at(9 * 1.7));
    expect(detection.group).toEqual({ user: 'dba_admin' });
    expect(detection.groupKey).toBe('{"user":"dba_admin"}');
    expect(detection.entity).toEqual({ user: 'dba_admin', database: 'crm', client_addr: '127.0.0.2', application_name: null });
    expect(detection.explanation).toMatchObject({ type: 'threshold', count: 10, threshold: 10, window_ms: 60_000, window: '1m', matched_selections: ['sel_fail'] });
    expect(detection.summary).toBe('Test threshold: 10 events (threshold 10) within 1m for user=dba_admin');
    expect(detection.evidence.map((item) => item.event_id)).toEqual(events.slice(0, 10).map((event) => event.id));
  });

  it('raises nothing for 9 failures in the window', () => {
    expect(run(bruteForceRule(), Array.from({ length: 9 }, (_, i) => failure(i)))).toEqual([]);
  });

  it('counts each group on its own: 5 failures each for two roles raise nothing', () => {
    const events = Array.from({ length: 10 }, (_, i) => failure(i, i % 2 === 0 ? 'alice' : 'bob'));
    expect(run(bruteForceRule(), events)).toEqual([]);
  });

  it('re-arms once the window has emptied of the events that fired it', () => {
    const first = Array.from({ length: 10 }, (_, i) => failure(i));
    const tooSoon = Array.from({ length: 10 }, (_, i) => failure(20 + i));
    const later = Array.from({ length: 10 }, (_, i) => failure(120 + i));
    const detections = run(bruteForceRule(), [...first, ...tooSoon, ...later]);
    expect(detections.map((d) => [d.firstSeen, d.lastSeen, d.count])).toEqual([
      [at(0), at(9), 10],
      [at(120), at(129), 10],
    ]);
  });

  it('gives the same ids for the same events (deterministic)', () => {
    const ids = () => {
      resetEventIds();
      return run(bruteForceRule(), Array.from({ length: 12 }, (_, i) => failure(i))).map((d) => d.id);
    };
    const first = ids();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(ids()).toEqual(first);
  });

  it('counts events that arrive out of order', () => {
    const events = Array.from({ length: 10 }, (_, i) => failure(i));
    const shuffled = [events[3], events[0], events[9], events[1], events[2], events[8], events[4], events[7], events[5], events[6]] as AccessEvent[];
    const detections = run(bruteForceRule(), shuffled);
    expect(detections).toHaveLength(1);
    expect(detections[0]?.count).toBe(10);
    expect(detections[0]?.firstSeen).toBe(at(0));
    expect(detections[0]?.lastSeen).toBe(at(9));
  });

  it('counts an event older than the watermark in the window that contains it', () => {
    const engine = bruteForceRule();
    const early = Array.from({ length: 9 }, (_, i) => failure(i));
    expect(run(engine, [...early, failure(60, 'someone_else')])).toEqual([]);
    expect(engine.watermarkMs).toBe(Date.parse(at(55)));
    const late = engine.process(failure(4.5));
    expect(late).toHaveLength(1);
    expect(late[0]?.count).toBe(10);
    expect(late[0]?.lastSeen).toBe(at(8));
  });

  it('keeps at most maxEventsPerGroup events per group', () => {
    const engine = bruteForceRule({ maxEventsPerGroup: 4 });
    run(engine, Array.from({ length: 8 }, (_, i) => failure(i)));
    const state = engine.snapshot().detectors['jaga.auth.brute_force']?.state as { groups: [string, { entries: unknown[][]; recent: unknown[] }][] };
    expect(state.groups).toHaveLength(1);
    expect(state.groups[0]?.[1].entries).toEqual([4, 5, 6, 7].map((s) => [Date.parse(at(s)), 1, 0]));
    expect(state.groups[0]?.[1].recent).toHaveLength(8);
  });

  it('keeps at most maxGroups groups, dropping the least recently seen', () => {
    const rule = makeRule({ id: 'jaga.auth.brute_force', type: 'threshold', params: { window: '1h', count: 10 }, selections: { sel_fail: kindIs('auth_failure') }, groupBy: ['user'] });
    const engine = new DetectionEngine([rule], CONTEXT, { deps: { maxGroups: 3 } });
    run(engine, ['a', 'b', 'c', 'a', 'd'].map((user, i) => failure(i, user)));
    const state = engine.snapshot().detectors['jaga.auth.brute_force']?.state as { groups: [string, unknown][] };
    expect(state.groups.map(([key]) => key).sort()).toEqual(['{"user":"a"}', '{"user":"c"}', '{"user":"d"}']);
  });

  it('drops groups the watermark has left a window behind', () => {
    const engine = bruteForceRule();
    run(engine, [failure(0, 'alice'), failure(1, 'bob'), failure(200, 'carol'), failure(400, 'carol')]);
    const state = engine.snapshot().detectors['jaga.auth.brute_force']?.state as { groups: [string, unknown][] };
    expect(state.groups.map(([key]) => key)).toEqual(['{"user":"carol"}']);
  });
});
