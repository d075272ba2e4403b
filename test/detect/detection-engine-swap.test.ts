import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import type { MatchContext } from '../../src/detect/compiled-rule.js';
import { CONTEXT, at, kindIs, makeEvent, makeRule, resetEventIds } from './detector-fixtures.js';

const fail = (s: number) => makeEvent({ time: at(s), kind: 'auth_failure', user: 'dba_admin', client_addr: '127.0.0.2' });
const threshold = (count: number, stateKey: string, title?: string) => {
  const rule = makeRule({ id: 'jaga.auth.brute_force', type: 'threshold', params: { window: '60s', count }, selections: { sel: kindIs('auth_failure') }, groupBy: ['user'], stateKey });
  return title === undefined ? rule : { ...rule, title };
};

describe('DetectionEngine.swap (hot reload)', () => {
  beforeEach(resetEventIds);

  it('keeps the window of a rule whose stateKey did not change, and uses the new rule text', () => {
    const engine = new DetectionEngine([threshold(3, 'k1')], CONTEXT);
    expect([fail(0), fail(1)].flatMap((e) => engine.process(e))).toEqual([]);
    engine.swap([threshold(3, 'k1', 'Brute force (renamed)')], CONTEXT);
    const found = engine.process(fail(2));
    expect(found.map((d) => [d.title, d.count, d.firstSeen])).toEqual([['Brute force (renamed)', 3, at(0)]]);
  });

  it('starts a rule fresh when its stateKey changed', () => {
    const engine = new DetectionEngine([threshold(3, 'k1')], CONTEXT);
    [fail(0), fail(1)].forEach((e) => engine.process(e));
    engine.swap([threshold(2, 'k2')], CONTEXT);
    expect(engine.process(fail(2))).toEqual([]);
    expect(engine.process(fail(3)).map((d) => d.count)).toEqual([2]);
  });

  it('drops removed rules, ending their suppressions with a report', () => {
    const noisy = makeRule({ id: 'test.noisy', type: 'match', selections: { sel: kindIs('error') }, suppressMs: 3_600_000 });
    const engine = new DetectionEngine([noisy, threshold(3, 'k1')], CONTEXT);
    [0, 1, 2].forEach((s) => engine.process(makeEvent({ time: at(s), kind: 'error' })));
    engine.swap([threshold(3, 'k1')], CONTEXT);
    expect(engine.rules.map((rule) => rule.id)).toEqual(['jaga.auth.brute_force']);
    expect(engine.takeSuppressionReports().map((r) => [r.ruleId, r.hidden])).toEqual([['test.noisy', 2]]);
    expect(engine.process(makeEvent({ time: at(3), kind: 'error' }))).toEqual([]);
  });

  it('starts an added absence rule at the current watermark', () => {
    const engine = new DetectionEngine([threshold(3, 'k1')], CONTEXT, { allowedLatenessMs: 0 });
    engine.process(fail(100));
    const silent = makeRule({ id: 'test.silent', type: 'absence', params: { after: '30s' }, selections: { sel: kindIs('audit') } });
    engine.swap([threshold(3, 'k1'), silent], CONTEXT);
    expect(engine.advance(Date.parse(at(129)))).toEqual([]);
    const found = engine.advance(Date.parse(at(131)));
    expect(found.map((d) => [d.detectorId, d.firstSeen, d.lastSeen])).toEqual([['test.silent', at(100), at(130)]]);
  });

  it('uses the new context (lists, catalog) after the swap', () => {
    const rule = makeRule({ id: 'test.listed', type: 'match', selections: { sel: (event, context) => context.lists.get('tools')?.has(event.application_name ?? '') ?? false } });
    const engine = new DetectionEngine([rule], CONTEXT);
    const tool = () => makeEvent({ time: at(0), kind: 'connection', application_name: 'sqlmap' });
    expect(engine.process(tool())).toEqual([]);
    const withList: MatchContext = { ...CONTEXT, lists: new Map([['tools', new Set(['sqlmap'])]]) };
    engine.swap([rule], withList);
    expect(engine.process(tool())).toHaveLength(1);
  });

  it('keeps the running set when the new set has an unknown type', () => {
    const engine = new DetectionEngine([threshold(3, 'k1')], CONTEXT);
    [fail(0), fail(1)].forEach((e) => engine.process(e));
    expect(() => engine.swap([{ ...threshold(3, 'k1'), type: 'unknown' }], CONTEXT)).toThrow('unknown detector type unknown');
    expect(engine.process(fail(2))).toHaveLength(1);
  });
});
