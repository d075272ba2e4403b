import { describe, expect, it } from 'vitest';
import { GroupKeyer } from '../../src/detect/group-keyer.js';
import { at, CONTEXT, makeEvent } from './detector-fixtures.js';

/** a copy of `text` that is a different string object (sliced out of a longer one, then flattened by a read) */
function freshCopy(text: string): string {
  return `#${text}`.slice(1);
}

describe('GroupKeyer multi-field keys', () => {
  it('gives the canonical JSON key, the same string for the same values in later events', () => {
    const keyer = new GroupKeyer(['user', 'client_addr']);
    const first = keyer.keyOf(makeEvent({ time: at(0), user: 'dba', client_addr: '10.0.0.5' }), CONTEXT);
    const second = keyer.keyOf(makeEvent({ time: at(1), user: freshCopy('dba'), client_addr: freshCopy('10.0.0.5') }), CONTEXT);
    expect(first).toBe('{"client_addr":"10.0.0.5","user":"dba"}');
    expect(second).toBe(first);
    expect(keyer.keyOf(makeEvent({ time: at(2), user: 'dba', client_addr: '10.0.0.6' }), CONTEXT)).toBe('{"client_addr":"10.0.0.6","user":"dba"}');
  });

  it('reads null and absent values as null, and keeps an empty string apart from null', () => {
    const keyer = new GroupKeyer(['user', 'client_addr', 'application_name']);
    expect(keyer.keyOf(makeEvent({ time: at(0), user: 'app', client_addr: null, application_name: null }), CONTEXT)).toBe('{"application_name":null,"client_addr":null,"user":"app"}');
    const absent = makeEvent({ time: at(1), user: 'app', application_name: null });
    delete (absent as { client_addr?: unknown }).client_addr;
    expect(keyer.keyOf(absent, CONTEXT)).toBe('{"application_name":null,"client_addr":null,"user":"app"}');
    expect(keyer.keyOf(makeEvent({ time: at(2), user: 'app', client_addr: '', application_name: null }), CONTEXT)).toBe('{"application_name":null,"client_addr":"","user":"app"}');
  });

  it('builds the key of values that are not strings (numbers, lists) every time, normalised as before', () => {
    const keyer = new GroupKeyer(['user', 'audit.rows', 'relations']);
    const event = makeEvent({
      time: at(0),
      user: 'analyst',
      audit: { class: 'READ', command: 'SELECT', object_type: 'TABLE', object_name: 'public.orders', rows: 20, statement: null, substatement_id: null, statement_id: null, parameter: null } as never,
      query: { relations: ['public.orders', 'public.customers'] } as never,
    });
    expect(keyer.keyOf(event, CONTEXT)).toBe('{"audit.rows":20,"relations":"public.customers,public.orders","user":"analyst"}');
  });
});

describe('GroupKeyer multi-field key bound', () => {
  it('keeps giving exact keys past 50,000 distinct value pairs (the interned keys start over)', () => {
    const keyer = new GroupKeyer(['user', 'client_addr']);
    const keys: string[] = [];
    for (let n = 0; n < 50_010; n++) keys.push(keyer.keyOf(makeEvent({ time: at(n), user: `u${n % 7}`, client_addr: `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}` }), CONTEXT));
    expect(keys[0]).toBe('{"client_addr":"10.0.0.0","user":"u0"}');
    expect(keys[50_009]).toBe('{"client_addr":"10.0.195.89","user":"u1"}');
    expect(keyer.keyOf(makeEvent({ time: at(0), user: 'u0', client_addr: '10.0.0.0' }), CONTEXT)).toBe('{"client_addr":"10.0.0.0","user":"u0"}');
  });
});
