import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAuditPayload, parseAuditPayloadAt } from '../../src/parse/audit-payload.js';

describe('parseAuditPayloadAt', () => {
  it('reads the payload after a prefix without slicing it off', () => {
    const message = 'AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.customers,"SELECT id, email FROM customers WHERE id = $1",2740,1';
    expect(parseAuditPayloadAt(message, 7)).toEqual({
      audit_type: 'SESSION',
      statement_id: 1,
      substatement_id: 1,
      class: 'READ',
      command: 'SELECT',
      object_type: 'TABLE',
      object_name: 'public.customers',
      statement: 'SELECT id, email FROM customers WHERE id = $1',
      parameter: ['2740'],
      rows: 1,
    });
  });

  it('gives the same fields when the short columns repeat from the previous payload (values reused)', () => {
    const first = parseAuditPayloadAt('AUDIT: OBJECT,2,1,WRITE,UPDATE,TABLE,public.t,UPDATE t SET a = 1,<none>', 7);
    const second = parseAuditPayloadAt('AUDIT: OBJECT,3,1,WRITE,UPDATE,TABLE,public.t,UPDATE t SET a = 2,<none>', 7);
    const third = parseAuditPayloadAt('AUDIT: OBJECT,4,1,WRITE,UPDATE,TABLE,public.u,UPDATE u SET a = 3,<none>', 7);
    expect([first?.object_name, second?.object_name, third?.object_name]).toEqual(['public.t', 'public.t', 'public.u']);
    expect([first?.statement_id, second?.statement_id, third?.statement_id]).toEqual([2, 3, 4]);
    expect(third?.rows).toBeNull();
  });

  it('reads a payload at any offset as parseAuditPayload reads it sliced off, valid or not', () => {
    const piece = fc.constantFrom(',', '"', '""', 'SESSION', 'READ', '1', '12', '', 'x', 'a,b', '\n', '<none>', '<not logged>', '-1', '"1"', ' ');
    const field = fc.oneof(piece, fc.array(piece, { maxLength: 4 }).map((p) => p.join('')));
    const payload = fc.oneof(
      fc.array(piece, { maxLength: 30 }).map((p) => p.join('')),
      fc.array(field, { minLength: 8, maxLength: 11 }).map((f) => ['SESSION', '1', '2', 'READ', ...f].join(',')),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 3 }), payload, (prefix, text) => {
        expect(parseAuditPayloadAt(prefix + text, prefix.length)).toEqual(parseAuditPayload(text));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseAuditPayloadAt with cut (a record cut at the size limit)', () => {
  const head = { audit_type: 'SESSION', statement_id: 7, substatement_id: 1, class: 'READ', command: 'SELECT', object_type: 'TABLE', object_name: 'public.customers' };

  it('keeps a quoted statement cut inside, with its doubled quotes undone, and marks the parameters <cut>', () => {
    const message = 'AUDIT: SESSION,7,1,READ,SELECT,TABLE,public.customers,"SELECT ""full name"" FROM customers /* AAAA';
    expect(parseAuditPayloadAt(message, 7)).toBeNull();
    expect(parseAuditPayloadAt(message, 7, undefined, true)).toEqual({ ...head, statement: 'SELECT "full name" FROM customers /* AAAA', parameter: '<cut>', rows: null });
  });

  it('keeps a whole statement when the cut came in the parameters, and an unquoted statement cut inside', () => {
    const inParameters = 'AUDIT: SESSION,7,1,READ,SELECT,TABLE,public.customers,"SELECT 1 WHERE a = $1","AAAA';
    expect(parseAuditPayloadAt(inParameters, 7, undefined, true)).toEqual({ ...head, statement: 'SELECT 1 WHERE a = $1', parameter: '<cut>', rows: null });
    const unquoted = 'AUDIT: SESSION,7,1,READ,SELECT,TABLE,public.customers,SELECT 1 FROM customers WHERE';
    expect(parseAuditPayloadAt(unquoted, 7, undefined, true)).toEqual({ ...head, statement: 'SELECT 1 FROM customers WHERE', parameter: '<cut>', rows: null });
  });

  it('reads a payload that is whole as it is, and gives null when a field before the statement is cut', () => {
    const whole = 'AUDIT: SESSION,7,1,READ,SELECT,TABLE,public.customers,"SELECT 1",<none>,1';
    expect(parseAuditPayloadAt(whole, 7, undefined, true)).toEqual({ ...head, statement: 'SELECT 1', parameter: '<none>', rows: 1 });
    expect(parseAuditPayloadAt('AUDIT: SESSION,7,1,READ,SELECT,TABLE,public.cust', 7, undefined, true)).toBeNull();
  });
});
