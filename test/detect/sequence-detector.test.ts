import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { CONTEXT, at, kindIs, makeEvent, makeRule, resetEventIds } from './detector-fixtures.js';

function successAfterFailures(): DetectionEngine {
  const rule = makeRule({
    id: 'jaga.auth.success_after_failures',
    type: 'sequence',
    params: { window: '5m', steps: [{ selection: 'sel_fail', count: 5 }, { selection: 'sel_success' }] },
    selections: { sel_fail: kindIs('auth_failure'), sel_success: kindIs('authorization') },
    groupBy: ['user', 'client_addr'],
  });
  return new DetectionEngine([rule], CONTEXT);
}

function fail(seconds: number, user = 'dba_admin'): AccessEvent {
  return makeEvent({ time: at(seconds), kind: 'auth_failure', user, client_addr: '127.0.0.2' });
}

function success(seconds: number, user = 'dba_admin'): AccessEvent {
  return makeEvent({ time: at(seconds), kind: 'authorization', user, client_addr: '127.0.0.2', application_name: 'psql' });
}

function run(engine: DetectionEngine, events: AccessEvent[]) {
  return events.flatMap((event) => engine.process(event));
}

describe('SequenceDetector', () => {
  beforeEach(resetEventIds);

  it('fires when 32 failures are followed by a success, with every failure as a contributing event', () => {
    const events = [...Array.from({ length: 32 }, (_, i) => fail(i * 1.6)), success(53)];
    const found = run(successAfterFailures(), events);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      count: 33,
      firstSeen: at(0),
      lastSeen: at(53),
      group: { client_addr: '127.0.0.2', user: 'dba_admin' },
      entity: { user: 'dba_admin', database: 'crm', client_addr: '127.0.0.2', application_name: 'psql' },
      explanation: { steps: [{ selection: 'sel_fail', count: 5, matched: 32 }, { selection: 'sel_success', count: 1, matched: 1 }], window_ms: 300_000 },
      summary: 'Test sequence: sel_fail x32 then sel_success x1 within 5m for client_addr=127.0.0.2, user=dba_admin',
    });
    expect(found[0]?.evidence).toHaveLength(20);
    expect(found[0]?.evidence[19]?.kind).toBe('authorization');
  });

  it('does not fire for 4 failures then a success', () => {
    expect(run(successAfterFailures(), [fail(0), fail(1), fail(2), fail(3), success(4)])).toEqual([]);
  });

  it('does not fire when the success comes before the failures', () => {
    expect(run(successAfterFailures(), [success(0), fail(1), fail(2), fail(3), fail(4), fail(5)])).toEqual([]);
  });

  it('does not fire when the failures are older than the window', () => {
    expect(run(successAfterFailures(), [fail(0), fail(1), fail(2), fail(3), fail(4), success(400)])).toEqual([]);
  });

  it('consumes the events of a detection: a second success fires only after 5 new failures', () => {
    const engine = successAfterFailures();
    const first = run(engine, [fail(0), fail(1), fail(2), fail(3), fail(4), success(5)]);
    const again = run(engine, [success(6), fail(7), fail(8), fail(9), fail(10)]);
    const third = run(engine, [fail(11), success(12)]);
    expect([first.length, again.length, third.length]).toEqual([1, 0, 1]);
    expect(third[0]?.firstSeen).toBe(at(7));
    expect(third[0]?.id).not.toBe(first[0]?.id);
  });

  it('keeps groups apart: failures of one role and a success of another raise nothing', () => {
    expect(run(successAfterFailures(), [fail(0), fail(1), fail(2), fail(3), fail(4), success(5, 'app_web')])).toEqual([]);
  });

  it('finds the sequence when a failure arrives after the success but is older than it', () => {
    const found = run(successAfterFailures(), [fail(0), fail(1), fail(2), fail(3), success(5), fail(4)]);
    expect(found).toHaveLength(1);
    expect(found[0]?.lastSeen).toBe(at(5));
    expect(found[0]?.count).toBe(6);
  });
});
