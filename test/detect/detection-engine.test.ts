import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { CONTEXT, at, auditEvent, kindIs, makeEvent, makeRule, resetEventIds, type RuleSpec } from './detector-fixtures.js';

function failure(seconds: number, fields: Partial<AccessEvent> = {}): AccessEvent {
  return makeEvent({ time: at(seconds), kind: 'auth_failure', user: 'dba_admin', client_addr: '127.0.0.2', ...fields });
}

const bruteForce = (extra: Partial<RuleSpec> = {}) =>
  makeRule({ id: 'jaga.auth.brute_force', type: 'threshold', params: { window: '60s', count: 3 }, selections: { sel_fail: kindIs('auth_failure') }, groupBy: ['user'], ...extra });

describe('DetectionEngine', () => {
  beforeEach(resetEventIds);

  it('keeps events matching an exception in force out of the rule, and counts them', () => {
    const rule = bruteForce({
      exceptions: [{ name: 'pentest', reason: 'red team', expires: null, matches: (event) => event.client_addr === '10.9.0.5' }],
    });
    const engine = new DetectionEngine([rule], CONTEXT);
    const found = [failure(0, { client_addr: '10.9.0.5' }), failure(1, { client_addr: '10.9.0.5' }), failure(2, { client_addr: '10.9.0.5' })].flatMap((e) => engine.process(e));
    expect(found).toEqual([]);
    expect(engine.stats().exceptionHits).toBe(3);
  });

  it('stops applying an exception after its expiry (by event time)', () => {
    const rule = bruteForce({
      exceptions: [{ name: 'pentest', reason: 'red team', expires: at(100), matches: (event) => event.client_addr === '10.9.0.5' }],
    });
    const engine = new DetectionEngine([rule], CONTEXT);
    const before = [0, 1, 2].flatMap((s) => engine.process(failure(s, { client_addr: '10.9.0.5' })));
    const after = [200, 201, 202].flatMap((s) => engine.process(failure(s, { client_addr: '10.9.0.5' })));
    expect([before.length, after.length]).toEqual([0, 1]);
    expect(after[0]?.firstSeen).toBe(at(200));
  });

  it('suppresses repeats per group for `suppress`, then reports how many it hid and when', () => {
    const rule = makeRule({ id: 'jaga.sqli', type: 'match', selections: { sel: kindIs('error') }, groupBy: ['user'], suppressMs: 600_000 });
    const engine = new DetectionEngine([rule], CONTEXT);
    const errors = [0, 10, 20, 30].map((s) => makeEvent({ time: at(s), kind: 'error', user: 'app_web', sqlstate: '42601' }));
    const other = makeEvent({ time: at(40), kind: 'error', user: 'analyst' });
    const shown = [...errors, other].flatMap((e) => engine.process(e));
    expect(shown.map((d) => [d.group, d.firstSeen])).toEqual([
      [{ user: 'app_web' }, at(0)],
      [{ user: 'analyst' }, at(40)],
    ]);
    expect(engine.stats().suppressed).toBe(3);
    expect(engine.takeSuppressionReports()).toEqual([]);
    const later = engine.process(makeEvent({ time: at(700), kind: 'error', user: 'app_web' }));
    expect(later).toHaveLength(1);
    expect(engine.takeSuppressionReports()).toEqual([
      { ruleId: 'jaga.sqli', server: 'db1', group: { user: 'app_web' }, groupKey: '{"user":"app_web"}', hidden: 3, from: at(0), to: at(600), lastHidden: at(30), shownDetectionId: shown[0]?.id },
    ]);
    expect(engine.takeSuppressionReports()).toEqual([]);
  });

  it('ends a suppression when the live watermark passes its end', () => {
    const rule = makeRule({ id: 'jaga.sqli', type: 'match', selections: { sel: kindIs('error') }, suppressMs: 60_000 });
    const engine = new DetectionEngine([rule], CONTEXT);
    [0, 5].forEach((s) => engine.process(makeEvent({ time: at(s), kind: 'error' })));
    expect(engine.takeSuppressionReports()).toEqual([]);
    engine.advance(Date.parse(at(61)));
    expect(engine.takeSuppressionReports().map((r) => [r.hidden, r.from, r.to])).toEqual([[1, at(0), at(60)]]);
  });

  it('reports running suppressions when closed at the end of a replay', () => {
    const rule = makeRule({ id: 'jaga.sqli', type: 'match', selections: { sel: kindIs('error') }, groupBy: ['user'], suppressMs: 600_000 });
    const engine = new DetectionEngine([rule], CONTEXT);
    [0, 10, 20].forEach((s) => engine.process(makeEvent({ time: at(s), kind: 'error', user: 'app_web' })));
    engine.process(makeEvent({ time: at(30), kind: 'error', user: 'analyst' }));
    expect(engine.takeSuppressionReports()).toEqual([]);
    expect(engine.closeSuppressions().map((r) => [r.group, r.hidden, r.from, r.to, r.lastHidden])).toEqual([[{ user: 'app_web' }, 2, at(0), at(600), at(20)]]);
    expect(engine.closeSuppressions()).toEqual([]);
  });

  it('skips rules whose kinds do not include the event kind, and disabled rules', () => {
    let calls = 0;
    const counting = makeRule({ id: 'test.kinds', type: 'match', selections: { sel: () => (calls++, false) }, kinds: ['error'] });
    const disabled = makeRule({ id: 'test.off', type: 'match', selections: { sel: () => true }, enabled: false });
    const engine = new DetectionEngine([counting, disabled], CONTEXT);
    expect(engine.process(failure(0))).toEqual([]);
    expect(engine.process(makeEvent({ time: at(1), kind: 'error' }))).toEqual([]);
    expect(calls).toBe(1);
    expect(engine.rules.map((rule) => rule.id)).toEqual(['test.kinds']);
  });

  it('skips an event whose time does not parse and counts it', () => {
    const engine = new DetectionEngine([bruteForce()], CONTEXT);
    expect(engine.process(failure(0, { time: 'not a time' }))).toEqual([]);
    expect(engine.stats()).toMatchObject({ events: 1, invalidTimes: 1, detections: 0 });
    expect(engine.watermarkMs).toBe(Number.NEGATIVE_INFINITY);
  });

  it('moves the watermark to the newest event time minus the allowed lateness, never back', () => {
    const engine = new DetectionEngine([bruteForce()], CONTEXT, { allowedLatenessMs: 2_000 });
    engine.process(failure(10));
    engine.process(failure(4));
    expect(engine.watermarkMs).toBe(Date.parse(at(8)));
    engine.advance(Date.parse(at(1)));
    expect(engine.watermarkMs).toBe(Date.parse(at(8)));
  });

  it('throws for a rule type that is not in the registry', () => {
    const rule = { ...bruteForce(), type: 'python' };
    expect(() => new DetectionEngine([rule], CONTEXT)).toThrow('rule jaga.auth.brute_force: unknown detector type python');
  });

  it('puts the 20 newest events, redacted, in evidence: no statement text, parameters or messages', () => {
    const rule = makeRule({ id: 'test.reads', type: 'threshold', params: { window: '1m', count: 25 }, selections: { sel: kindIs('audit') } });
    const engine = new DetectionEngine([rule], CONTEXT);
    const events = Array.from({ length: 25 }, (_, i) => ({ ...auditEvent(i, { user: i < 24 ? 'support_sari' : null }), message: 'AUDIT: SESSION,...secret@example.com', detail: 'Key (email)=(secret@example.com)' }));
    const [detection] = events.flatMap((e) => engine.process(e));
    expect(detection?.count).toBe(25);
    expect(detection?.evidence.map((item) => item.event_id)).toEqual(events.slice(5).map((e) => e.id));
    expect(detection?.dataClasses).toEqual(['contact', 'pii']);
    expect(detection?.entity.user).toBe('support_sari');
    const text = JSON.stringify(detection);
    expect(text).not.toContain('secret');
    expect(Object.keys(detection?.evidence[0] ?? {}).sort()).toEqual(
      ['application_name', 'class', 'client_addr', 'command', 'event_id', 'fingerprint', 'kind', 'normalized', 'object_name', 'rows', 'sqlstate', 'time', 'user'],
    );
  });
});
