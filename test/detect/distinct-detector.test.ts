import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { CONTEXT, at, auditEvent, kindIs, makeEvent, makeRule, resetEventIds } from './detector-fixtures.js';

function sprayEngine(): DetectionEngine {
  const rule = makeRule({ id: 'jaga.auth.spraying', type: 'distinct', params: { window: '5m', count: 5, field: 'user' }, selections: { sel_fail: kindIs('auth_failure') }, groupBy: ['client_addr'] });
  return new DetectionEngine([rule], CONTEXT);
}

function failure(seconds: number, user: string, client = '10.0.0.9'): AccessEvent {
  return makeEvent({ time: at(seconds), kind: 'auth_failure', user, client_addr: client });
}

describe('DistinctDetector', () => {
  beforeEach(resetEventIds);

  it('fires when one client fails as 5 distinct roles within 5 minutes (password spraying)', () => {
    const users = ['alice', 'bob', 'alice', 'carol', 'dave', 'bob', 'erin', 'frank'];
    const engine = sprayEngine();
    const found = users.flatMap((user, i) => engine.process(failure(i * 10, user)));
    expect(found).toHaveLength(1);
    expect(found[0]?.group).toEqual({ client_addr: '10.0.0.9' });
    expect(found[0]?.count).toBe(7);
    expect(found[0]?.lastSeen).toBe(at(60));
    expect(found[0]?.explanation).toMatchObject({ distinct: 5, threshold: 5, field: 'user', values: ['alice', 'bob', 'carol', 'dave', 'erin'] });
    expect(found[0]?.summary).toBe('Test distinct: 5 distinct user (threshold 5) within 5m for client_addr=10.0.0.9');
  });

  it('does not fire for one role failing many times', () => {
    const engine = sprayEngine();
    expect(Array.from({ length: 30 }, (_, i) => engine.process(failure(i, 'alice'))).flat()).toEqual([]);
  });

  it('does not fire when the distinct roles are spread wider than the window', () => {
    const engine = sprayEngine();
    const found = ['a', 'b', 'c', 'd', 'e', 'f'].flatMap((user, i) => engine.process(failure(i * 100, user)));
    expect(found).toEqual([]);
  });

  it('counts each element of a list field (relations) as a value and ignores events without one', () => {
    const rule = makeRule({ id: 'test.breadth', type: 'distinct', params: { window: '10m', count: 3, field: 'relations' }, selections: { sel: kindIs('audit') }, groupBy: ['user'] });
    const engine = new DetectionEngine([rule], CONTEXT);
    const found = [
      auditEvent(0, { objectName: 'public.orders', relations: ['orders', 'customers'] }),
      auditEvent(1, { objectName: null, relations: [] }),
      auditEvent(2, { objectName: 'public.payments', relations: ['payments'] }),
    ].flatMap((event) => engine.process(event));
    expect(found).toHaveLength(1);
    expect(found[0]?.count).toBe(2);
    expect(found[0]?.explanation).toMatchObject({ distinct: 3, values: ['public.customers', 'public.orders', 'public.payments'] });
    expect(found[0]?.dataClasses).toEqual(['contact', 'payment', 'pii']);
  });
});
