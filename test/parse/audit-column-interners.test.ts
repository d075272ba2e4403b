import { describe, expect, it } from 'vitest';
import { createAuditColumnInterners, parseAuditPayloadAt } from '../../src/parse/audit-payload.js';

const PAYLOADS = [
  'AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.customers,SELECT 1,<none>',
  'AUDIT: SESSION,2,1,WRITE,UPDATE,TABLE,public.orders,"UPDATE orders SET a = 1, b = 2",<none>',
  'AUDIT: SESSION,3,1,READ,SELECT,TABLE,public.customers,SELECT 2,<none>',
  'AUDIT: OBJECT,4,1,READ,SELECT,TABLE,"public.""odd,name""",SELECT 3,<none>',
  'AUDIT: SESSION,5,1,MISC,BEGIN,,,BEGIN,<none>',
];

describe('parseAuditPayloadAt with AuditColumnInterners', () => {
  it('gives the same fields as without, and keeps each short column value once', () => {
    const columns = createAuditColumnInterners();
    for (const payload of PAYLOADS) expect(parseAuditPayloadAt(payload, 7, columns)).toEqual(parseAuditPayloadAt(payload, 7));
    expect(parseAuditPayloadAt(PAYLOADS[3] as string, 7, columns)?.object_name).toBe('public."odd,name"');
    expect(columns.auditType.size).toBe(2);
    expect(columns.auditClass.size).toBe(3);
    expect(columns.command.size).toBe(3);
    expect(columns.objectType.size).toBe(1);
    expect(columns.objectName.size).toBe(3);
  });

  it('stops keeping object names at the bound and still parses every payload', () => {
    const columns = createAuditColumnInterners(2);
    const names = ['public.a', 'public.b', 'public.c', 'public.d'];
    for (const name of names) {
      expect(parseAuditPayloadAt(`AUDIT: SESSION,1,1,READ,SELECT,TABLE,${name},SELECT 1,<none>`, 7, columns)?.object_name).toBe(name);
    }
    expect(columns.objectName.size).toBe(2);
  });
});
