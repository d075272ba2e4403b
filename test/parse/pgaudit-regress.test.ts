import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditFields } from '../../src/domain/access-event.js';
import { formatAuditPayload, parseAuditPayload } from '../../src/parse/audit-payload.js';

/** pgaudit's own regression output, REL_15_STABLE (see its README.md). */
const REGRESS_OUT = fileURLToPath(new URL('../../../shared/corpus/pgaudit-regress/pgaudit-REL_15_STABLE.out', import.meta.url));

interface RegressRecord {
  /** 1-based line of the `AUDIT:` line in the .out file */
  line: number;
  level: string;
  payload: string;
}

/** Extracts every `LEVEL:  AUDIT: payload` record; a quoted field may continue on the next lines. */
function readRegressRecords(text: string): RegressRecord[] {
  const lines = text.split('\n');
  const records: RegressRecord[] = [];
  const prefix = /^(NOTICE|WARNING|LOG|INFO|DEBUG[1-5]?): {2}AUDIT: /;
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i] ?? '';
    const match = prefix.exec(first);
    if (!match) continue;
    const line = i + 1;
    let payload = first.slice(match[0].length);
    let quotes = payload.split('"').length - 1;
    while (quotes % 2 === 1 && i + 1 < lines.length) {
      i += 1;
      const next = lines[i] ?? '';
      payload += `\n${next}`;
      quotes += next.split('"').length - 1;
    }
    records.push({ line, level: match[1] ?? '', payload });
  }
  return records;
}

describe('pgaudit regression output (REL_15_STABLE)', () => {
  let records: RegressRecord[] = [];
  const byLine = (line: number): AuditFields | null => {
    const record = records.find((candidate) => candidate.line === line);
    if (!record) throw new Error(`no AUDIT record on line ${line}`);
    return parseAuditPayload(record.payload);
  };

  beforeAll(() => {
    records = readRegressRecords(readFileSync(REGRESS_OUT, 'utf8'));
  });

  it('finds all 417 AUDIT records (390 NOTICE, 27 WARNING)', () => {
    expect(records.length).toBe(417);
    expect(records.filter((record) => record.level === 'NOTICE').length).toBe(390);
    expect(records.filter((record) => record.level === 'WARNING').length).toBe(27);
  });

  it('parses every record and re-quoting gives back the original payload', () => {
    const failures = records
      .filter((record) => {
        const fields = parseAuditPayload(record.payload);
        return fields === null || formatAuditPayload(fields) !== record.payload;
      })
      .map((record) => record.line);
    expect(failures).toEqual([]);
  });

  it('counts 9-field and 10-field (log_rows) payloads and each PARAMETER form', () => {
    const parsed = records.map((record) => parseAuditPayload(record.payload));
    expect(parsed.filter((fields) => fields?.rows === null).length).toBe(229);
    expect(parsed.filter((fields) => typeof fields?.rows === 'number').length).toBe(188);
    expect(parsed.filter((fields) => Array.isArray(fields?.parameter)).length).toBe(17);
    expect(parsed.filter((fields) => fields?.parameter === '<none>').length).toBe(279);
    expect(parsed.filter((fields) => fields?.parameter === '<not logged>').length).toBe(110);
    expect(parsed.filter((fields) => fields?.parameter === '<previously logged>').length).toBe(11);
  });

  it('reads a multi-line quoted statement with its TAB intact (line 69)', () => {
    expect(byLine(69)).toEqual({
      audit_type: 'SESSION',
      statement_id: 1,
      substatement_id: 1,
      class: 'DDL',
      command: 'CREATE TABLE',
      object_type: 'TABLE',
      object_name: 'public.test',
      statement: 'CREATE TABLE public.test\n(\n\tid INT\n);',
      parameter: '<not logged>',
      rows: null,
    } satisfies AuditFields);
  });

  it('reads a redacted password as pgaudit printed it (line 49)', () => {
    expect(byLine(49)).toEqual({
      audit_type: 'SESSION',
      statement_id: 2,
      substatement_id: 1,
      class: 'ROLE',
      command: 'CREATE ROLE',
      object_type: null,
      object_name: null,
      statement: 'CREATE USER regress_user1 password <REDACTED>',
      parameter: '<not logged>',
      rows: null,
    } satisfies AuditFields);
  });

  it('reads <previously logged> statement and parameter of a log_statement_once entry (line 185)', () => {
    expect(byLine(185)).toEqual({
      audit_type: 'OBJECT',
      statement_id: 1,
      substatement_id: 1,
      class: 'READ',
      command: 'SELECT',
      object_type: 'TABLE',
      object_name: 'public.test2',
      statement: '<previously logged>',
      parameter: '<previously logged>',
      rows: null,
    } satisfies AuditFields);
  });

  it('reads <not logged> parameters (line 10)', () => {
    expect(byLine(10)).toMatchObject({ command: 'SET', statement: "SET pgaudit.log_level = 'notice';", parameter: '<not logged>', rows: null });
  });

  it('reads a parameter list with NULL parameters and a rows count (line 1357)', () => {
    expect(byLine(1357)).toEqual({
      audit_type: 'SESSION',
      statement_id: 13,
      substatement_id: 1,
      class: 'WRITE',
      command: 'UPDATE',
      object_type: 'TABLE',
      object_name: 'public.test2',
      statement: 'UPDATE test2\n\t   SET id = id + 90\n\t WHERE id = new.id',
      parameter: ['', '', '', '', '', '', '', '', '', '', '', '', '', '1'],
      rows: 1,
    } satisfies AuditFields);
    expect(byLine(1526)?.parameter).toEqual(['91', '']);
  });
});
