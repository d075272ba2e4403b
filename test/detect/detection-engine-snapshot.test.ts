import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine, type EngineState } from '../../src/detect/detection-engine.js';
import type { CompiledRule } from '../../src/detect/compiled-rule.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import type { Detection } from '../../src/domain/detection.js';
import { CONTEXT, at, auditEvent, kindIs, makeEvent, makeRule, resetEventIds } from './detector-fixtures.js';

interface Scenario {
  rule: () => CompiledRule;
  events: () => AccessEvent[];
  /** a watermark to advance to after the events (absence) */
  advanceTo?: number;
  /** how many detections an uninterrupted run gives (so the scenario really fires) */
  expected: number;
}

const fail = (s: number, user = 'dba_admin') => makeEvent({ time: at(s), kind: 'auth_failure', user, client_addr: '127.0.0.2' });
const login = (s: number, user = 'dba_admin', client = '127.0.0.2') => makeEvent({ time: at(s), kind: 'authorization', user, client_addr: client });

const SCENARIOS: Record<string, Scenario> = {
  match: {
    rule: () => makeRule({ type: 'match', selections: { sel: kindIs('auth_failure') }, groupBy: ['user'], suppressMs: 30_000 }),
    events: () => [0, 10, 20, 40, 50].map((s) => fail(s)),
    expected: 2,
  },
  threshold: {
    rule: () => makeRule({ type: 'threshold', params: { window: '60s', count: 6 }, selections: { sel: kindIs('auth_failure') }, groupBy: ['user'] }),
    events: () => Array.from({ length: 20 }, (_, i) => fail(i * 7, i % 3 === 0 ? 'alice' : 'dba_admin')),
    expected: 2,
  },
  distinct: {
    rule: () => makeRule({ type: 'distinct', params: { window: '1m', count: 4, field: 'user' }, selections: { sel: kindIs('auth_failure') }, groupBy: ['client_addr'] }),
    events: () => ['a', 'b', 'a', 'c', 'b', 'd', 'e', 'a', 'f', 'g', 'h', 'i'].map((user, i) => fail(i * 15, user)),
    expected: 2,
  },
  sum: {
    rule: () => makeRule({ type: 'sum', params: { window: '10m', field: 'audit.rows', total: 5000 }, selections: { sel: kindIs('audit') }, groupBy: ['user'] }),
    events: () => Array.from({ length: 12 }, (_, i) => auditEvent(i * 60, { rows: 1500 })),
    expected: 1,
  },
  sequence: {
    rule: () =>
      makeRule({
        type: 'sequence',
        params: { window: '5m', steps: [{ selection: 'sel_fail', count: 3 }, { selection: 'sel_ok' }] },
        selections: { sel_fail: kindIs('auth_failure'), sel_ok: kindIs('authorization') },
        groupBy: ['user'],
      }),
    events: () => [fail(0), fail(5), fail(10), fail(12), login(20), fail(30), fail(31), fail(32), login(33), login(40)],
    expected: 2,
  },
  new_value: {
    rule: () => makeRule({ type: 'new_value', params: { fields: ['client_addr'], learn: '1m' }, selections: { sel: kindIs('authorization') }, groupBy: ['user'] }),
    events: () => [login(0, 'a', '1.1.1.1'), login(30, 'a', '1.1.1.2'), login(70, 'a', '1.1.1.1'), login(80, 'a', '1.1.1.3'), login(90, 'b', '1.1.1.1'), login(100, 'a', '1.1.1.3')],
    expected: 2,
  },
  absence: {
    rule: () => makeRule({ type: 'absence', params: { after: '20s', while: 'sel_conn' }, selections: { sel_audit: kindIs('audit'), sel_conn: kindIs('connection') }, matches: kindIs('audit') }),
    events: () => [
      auditEvent(0, {}),
      auditEvent(5, {}),
      makeEvent({ time: at(12), kind: 'connection' }),
      makeEvent({ time: at(26), kind: 'connection' }),
      makeEvent({ time: at(33), kind: 'connection' }),
      auditEvent(40, {}),
      makeEvent({ time: at(65), kind: 'connection' }),
      makeEvent({ time: at(70), kind: 'connection' }),
      makeEvent({ time: at(90), kind: 'connection' }),
    ],
    advanceTo: Date.parse(at(120)),
    expected: 2,
  },
};

function runAll(engine: DetectionEngine, events: AccessEvent[]): Detection[] {
  return events.flatMap((event) => engine.process(event));
}

describe('DetectionEngine snapshot/restore', () => {
  beforeEach(resetEventIds);

  for (const [type, scenario] of Object.entries(SCENARIOS)) {
    it(`${type}: a restore at every point of the run gives the same detections as an uninterrupted run`, () => {
      const events = scenario.events();
      const whole = new DetectionEngine([scenario.rule()], CONTEXT);
      const expected = runAll(whole, events);
      if (scenario.advanceTo !== undefined) expected.push(...whole.advance(scenario.advanceTo));
      expect(expected).toHaveLength(scenario.expected);
      const expectedReports = whole.takeSuppressionReports();

      for (let cut = 1; cut < events.length; cut++) {
        const before = new DetectionEngine([scenario.rule()], CONTEXT);
        const got = runAll(before, events.slice(0, cut));
        const state = JSON.parse(JSON.stringify(before.snapshot())) as EngineState;
        const after = new DetectionEngine([scenario.rule()], CONTEXT);
        after.restore(state);
        got.push(...runAll(after, events.slice(cut)));
        if (scenario.advanceTo !== undefined) got.push(...after.advance(scenario.advanceTo));
        expect(got, `cut after ${cut} events`).toEqual(expected);
        expect(after.takeSuppressionReports()).toEqual(expectedReports);
      }
    });
  }

  it('starts a rule fresh when the snapshot was taken with another stateKey', () => {
    const rule = SCENARIOS.threshold?.rule() as CompiledRule;
    const engine = new DetectionEngine([rule], CONTEXT);
    runAll(engine, [fail(0), fail(1), fail(2), fail(3), fail(4)]);
    const state = engine.snapshot();
    const changed = new DetectionEngine([{ ...rule, stateKey: 'other' }], CONTEXT);
    changed.restore(state);
    expect(changed.stats().stateResets).toBe(1);
    expect(runAll(changed, [fail(5)])).toEqual([]);
  });

  it('refuses a malformed snapshot and keeps its state', () => {
    const rule = SCENARIOS.threshold?.rule() as CompiledRule;
    const engine = new DetectionEngine([rule], CONTEXT);
    runAll(engine, [fail(0), fail(1), fail(2), fail(3), fail(4)]);
    const broken = { version: 1, watermarkMs: 0, detectors: { [rule.id]: { type: 'threshold', stateKey: rule.stateKey, state: { groups: 'nope' } } }, suppression: { windows: [], reports: [] } } as EngineState;
    expect(() => engine.restore(broken)).toThrow('test.threshold (threshold) snapshot.groups: expected an array');
    expect(() => engine.restore({ version: 2 } as unknown as EngineState)).toThrow('engine snapshot: unsupported version 2');
    expect(runAll(engine, [fail(5)])).toHaveLength(1);
  });
});
