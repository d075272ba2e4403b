import { describe, expect, it } from 'vitest';
import type { AuditFields } from '../../src/domain/access-event.js';
import { createEventBuilder, withCarriedStatement } from '../../src/parse/event-builder.js';
import { emptyLogRecord } from '../../src/parse/log-record.js';
import {
  type CarriedStatement,
  type SessionKey,
  type StatementMemory,
  StatementOnceTracker,
} from '../../src/parse/statement-once-tracker.js';

const carried = (statement: string): CarriedStatement => ({ statement, parameter: '<none>' });

describe('StatementOnceTracker: touch, sessionsOldestFirst, maxSessions', () => {
  it('lists sessions least recently remembered first, substatements oldest first, with the stored carried objects', () => {
    const tracker = new StatementOnceTracker(5, 8);
    const a1 = carried('a1');
    tracker.remember('a', 3, 1, a1);
    tracker.remember(7, 1, 2, carried('b2'));
    tracker.remember(7, 1, 1, carried('b1'));
    tracker.remember('a', 3, 2, carried('a2')); // a becomes the newest
    const sessions = tracker.sessionsOldestFirst();
    expect(sessions).toEqual([
      { session: 7, statementId: 1, substatements: [{ substatementId: 2, carried: carried('b2') }, { substatementId: 1, carried: carried('b1') }] },
      { session: 'a', statementId: 3, substatements: [{ substatementId: 1, carried: a1 }, { substatementId: 2, carried: carried('a2') }] },
    ]);
    expect(sessions[1]?.substatements[0]?.carried).toBe(a1);
    expect(tracker.maxSessions).toBe(5);
    expect(new StatementOnceTracker().maxSessions).toBe(10_000);
  });

  it('touch moves a remembered session to the newest end, changes nothing else, and ignores unknown sessions', () => {
    const tracker = new StatementOnceTracker(2, 8);
    tracker.remember('a', 1, 1, carried('a'));
    tracker.remember('b', 1, 1, carried('b'));
    tracker.touch('a');
    tracker.touch('zz');
    expect(tracker.sessionsOldestFirst().map((s) => s.session)).toEqual(['b', 'a']);
    expect(tracker.size).toBe(2);
    tracker.remember('c', 1, 1, carried('c')); // evicts b, the oldest after the touch
    expect([tracker.recall('a', 1, 1), tracker.recall('b', 1, 1)]).toEqual([carried('a'), null]);
  });
});

const audit: AuditFields = {
  audit_type: 'SESSION',
  statement_id: 4,
  substatement_id: 1,
  class: 'READ',
  command: 'SELECT',
  object_type: 'TABLE',
  object_name: 'public.customers',
  statement: '<previously logged>',
  parameter: '<previously logged>',
  rows: 2,
};

describe('withCarriedStatement', () => {
  it('takes the statement, and the parameter only when it was <previously logged>, in the event key order', () => {
    const from: CarriedStatement = { statement: 'SELECT * FROM customers WHERE id = $1', parameter: ['7'] };
    const both = withCarriedStatement(audit, from);
    expect(both).toEqual({ ...audit, statement: from.statement, parameter: ['7'] });
    expect(Object.keys(both)).toEqual(Object.keys(audit));
    expect(withCarriedStatement({ ...audit, parameter: '<none>' }, from).parameter).toBe('<none>');
    expect(audit.statement).toBe('<previously logged>');
  });
});

describe('createEventBuilder: statementMemory option', () => {
  it('asks the given memory: remember for a first entry, recall for <previously logged>, forget on disconnection', () => {
    const calls: string[] = [];
    const inner = new StatementOnceTracker();
    const memory: StatementMemory = {
      remember: (session: SessionKey, statementId: number, substatementId: number, value: CarriedStatement) => {
        calls.push(`remember ${session} ${statementId} ${substatementId}`);
        inner.remember(session, statementId, substatementId, value);
      },
      recall: (session: SessionKey, statementId: number, substatementId: number) => {
        calls.push(`recall ${session} ${statementId} ${substatementId}`);
        return inner.recall(session, statementId, substatementId);
      },
      forget: (session: SessionKey) => {
        calls.push(`forget ${session}`);
        inner.forget(session);
      },
    };
    const builder = createEventBuilder({ server: 'db1', statementMemory: memory });
    const origin = { id: 'db1', file: null, fingerprint: null };
    const record = (offset: number, message: string) => ({ ...emptyLogRecord(offset, 10), timeMs: 0, pid: 42, severity: 'LOG', message });
    builder.build(record(0, 'AUDIT: SESSION,4,1,READ,SELECT,TABLE,public.customers,SELECT 1,<none>'), origin);
    const second = builder.build(record(10, 'AUDIT: OBJECT,4,1,READ,SELECT,TABLE,public.customers,<previously logged>,<previously logged>'), origin);
    builder.build(record(20, 'disconnection: session time: 0:00:01.000 user=u database=d host=h port=1'), origin);
    expect(calls).toEqual(['remember 42 4 1', 'recall 42 4 1', 'forget 42']);
    expect('audit' in second && second.audit).toEqual({ ...audit, audit_type: 'OBJECT', statement: 'SELECT 1', parameter: '<none>', rows: null });
  });
});
