import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditFields } from '../../src/domain/access-event.js';
import { formatAuditPayload, parseAuditPayload } from '../../src/parse/audit-payload.js';

const CORPUS_JSONLOG = fileURLToPath(
  new URL('../../../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716.json', import.meta.url),
);

describe('parseAuditPayload', () => {
  it('reads a 10-field payload with a quoted statement and a parameter list quoted twice', () => {
    const payload =
      'SESSION,33,1,WRITE,INSERT,TABLE,public.support_tickets,"INSERT INTO t (a, b) VALUES ($1, $2)","1177,""warna """"Biru"""", ya""",1';
    expect(parseAuditPayload(payload)).toEqual({
      audit_type: 'SESSION',
      statement_id: 33,
      substatement_id: 1,
      class: 'WRITE',
      command: 'INSERT',
      object_type: 'TABLE',
      object_name: 'public.support_tickets',
      statement: 'INSERT INTO t (a, b) VALUES ($1, $2)',
      parameter: ['1177', 'warna "Biru", ya'],
      rows: 1,
    } satisfies AuditFields);
  });

  it('reads a 9-field payload with empty object fields as nulls and rows null', () => {
    expect(parseAuditPayload("SESSION,3,1,MISC,SET,,,SET pgaudit.log_level = 'notice';,<not logged>")).toEqual({
      audit_type: 'SESSION',
      statement_id: 3,
      substatement_id: 1,
      class: 'MISC',
      command: 'SET',
      object_type: null,
      object_name: null,
      statement: "SET pgaudit.log_level = 'notice';",
      parameter: '<not logged>',
      rows: null,
    } satisfies AuditFields);
  });

  it('keeps the <none>, <not logged> and <previously logged> placeholders as strings', () => {
    expect(parseAuditPayload('SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,1')?.parameter).toBe('<none>');
    expect(parseAuditPayload('OBJECT,1,1,READ,SELECT,TABLE,public.t,<previously logged>,<previously logged>')).toMatchObject({
      statement: '<previously logged>',
      parameter: '<previously logged>',
    });
  });

  it('reads a quoted placeholder as the placeholder, and a quoted list starting with < as a list', () => {
    expect(parseAuditPayload('SESSION,1,1,READ,SELECT,,,"SELECT 1, 2","<not logged>",1')?.parameter).toBe('<not logged>');
    expect(parseAuditPayload('SESSION,1,1,READ,SELECT,,,"SELECT $1, $2","<none>,<x>",1')?.parameter).toEqual(['<none>', '<x>']);
    expect(parseAuditPayload('SESSION,1,1,READ,SELECT,,,"SELECT $1, $2","<b>,""Toko """"Maju"""", Ubud, 🙂""",1')?.parameter).toEqual([
      '<b>',
      'Toko "Maju", Ubud, 🙂',
    ]);
  });

  it('reads NULL parameters as empty elements and an unquoted single parameter as a one-element list', () => {
    expect(parseAuditPayload('SESSION,27,3,WRITE,UPDATE,TABLE,public.test2,UPDATE test2 SET id = 1,"91,",2')?.parameter).toEqual(['91', '']);
    expect(parseAuditPayload('SESSION,1,1,READ,SELECT,TABLE,public.t,SELECT $1,dewi@example.com,0')?.parameter).toEqual(['dewi@example.com']);
    expect(parseAuditPayload('SESSION,1,1,READ,SELECT,TABLE,public.t,SELECT $1,,0')?.parameter).toEqual(['']);
  });

  it('keeps a <long param suppressed> element verbatim inside the list', () => {
    expect(parseAuditPayload('SESSION,1,1,WRITE,INSERT,TABLE,public.t,"INSERT INTO t VALUES ($1, $2)","7,<long param suppressed>",1')?.parameter).toEqual([
      '7',
      '<long param suppressed>',
    ]);
  });

  it('keeps newlines, carriage returns and unicode inside quoted fields', () => {
    const fields = parseAuditPayload('SESSION,1,1,READ,SELECT,,,"SELECT \'a\r\nb\' -- 🙏 —",<none>,1');
    expect(fields?.statement).toBe("SELECT 'a\r\nb' -- 🙏 —");
  });

  it.each([
    ['too few fields', 'SESSION,1,1,READ,SELECT,,,SELECT 1'],
    ['too many fields', 'SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,1,extra'],
    ['an unbalanced quote', 'SESSION,1,1,READ,SELECT,,,"SELECT 1,<none>,1'],
    ['text after a closing quote', 'SESSION,1,1,READ,SELECT,,,"SELECT 1"x,<none>,1'],
    ['a bare quote in an unquoted field', 'SESSION,1,1,READ,SELECT,,,SELECT "x",<none>,1'],
    ['a non-numeric statement id', 'SESSION,one,1,READ,SELECT,,,SELECT 1,<none>,1'],
    ['a non-numeric rows field', 'SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,-1'],
    ['an empty audit type', ',1,1,READ,SELECT,,,SELECT 1,<none>,1'],
    ['a parameter list that is not CSV', 'SESSION,1,1,READ,SELECT,,,SELECT $1,"a""b",1'],
    ['the empty string', ''],
  ])('returns null for %s', (_name, payload) => {
    expect(parseAuditPayload(payload)).toBeNull();
  });
});

describe('formatAuditPayload', () => {
  it('quotes only fields holding a comma, quote, CR or LF, and quotes the parameter list twice', () => {
    const fields: AuditFields = {
      audit_type: 'OBJECT',
      statement_id: 4,
      substatement_id: 2,
      class: 'READ',
      command: 'SELECT',
      object_type: 'TABLE',
      object_name: 'public."a,b"',
      statement: 'SELECT 1\nFROM x',
      parameter: ['plain', 'with,comma', 'q"uote', ''],
      rows: 12,
    };
    expect(formatAuditPayload(fields)).toBe(
      'OBJECT,4,2,READ,SELECT,TABLE,"public.""a,b""","SELECT 1\nFROM x","plain,""with,comma"",""q""""uote"",",12',
    );
  });

  it('prints nulls as empty fields, an empty list as <none> and omits rows when null', () => {
    expect(
      formatAuditPayload({
        audit_type: 'SESSION',
        statement_id: null,
        substatement_id: null,
        class: 'MISC',
        command: '???',
        object_type: null,
        object_name: null,
        statement: '',
        parameter: [],
        rows: null,
      }),
    ).toBe('SESSION,,,MISC,???,,,,<none>');
  });

  it('gives back the original text of every AUDIT payload in the pg15-pgaudit jsonlog corpus', () => {
    let payloads = 0;
    let listPayloads = 0;
    const mismatches: number[] = [];
    readFileSync(CORPUS_JSONLOG, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (line === '') return;
        const message = (JSON.parse(line) as { message: string }).message;
        if (!message.startsWith('AUDIT: ')) return;
        payloads += 1;
        const payload = message.slice('AUDIT: '.length);
        const fields = parseAuditPayload(payload);
        if (fields === null || formatAuditPayload(fields) !== payload) mismatches.push(index + 1);
        else if (Array.isArray(fields.parameter)) listPayloads += 1;
      });
    expect(mismatches).toEqual([]);
    expect(payloads).toBe(5538);
    expect(listPayloads).toBeGreaterThan(1000);
  });

  it('round-trips arbitrary fields: parse(format(fields)) equals fields', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    const nonEmpty = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
    const count = fc.option(fc.nat({ max: 1_000_000 }), { nil: null });
    const placeholders = ['<none>', '<not logged>', '<previously logged>'];
    const parameter = fc.oneof(
      fc.constantFrom(...placeholders),
      fc.array(text, { minLength: 1, maxLength: 5 }).filter((list) => !(list.length === 1 && placeholders.includes(list[0] ?? ''))),
    );
    const fields = fc.record({
      audit_type: nonEmpty,
      statement_id: count,
      substatement_id: count,
      class: nonEmpty,
      command: text,
      object_type: fc.option(nonEmpty, { nil: null }),
      object_name: fc.option(nonEmpty, { nil: null }),
      statement: text,
      parameter,
      rows: count,
    });
    fc.assert(
      fc.property(fields, (value) => {
        expect(parseAuditPayload(formatAuditPayload(value))).toEqual(value);
      }),
      { numRuns: 2000 },
    );
  });
});
