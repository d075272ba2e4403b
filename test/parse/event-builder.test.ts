import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AccessEvent, ParseFailure } from '../../src/domain/access-event.js';
import { createEventBuilder, type RecordOrigin } from '../../src/parse/event-builder.js';
import { emptyLogRecord, type LogRecord } from '../../src/parse/log-record.js';
import { createTimestampParser } from '../../src/parse/timestamp-parser.js';

/** 13 jsonlog lines copied from ../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716.json. */
const FIXTURE = fileURLToPath(new URL('../fixtures/messages/pg15-pgaudit-sample.jsonl', import.meta.url));
const parseTime = createTimestampParser('UTC');

/** Minimal jsonlog → LogRecord mapping (PostgreSQL docs, runtime-config-logging, jsonlog keys) for this fixture. */
function jsonRecords(path: string): LogRecord[] {
  const records: LogRecord[] = [];
  let offset = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const byteLength = Buffer.byteLength(line) + 1;
    if (line !== '') {
      const o = JSON.parse(line) as Record<string, string | number | undefined>;
      const text = (key: string): string | null => (o[key] === undefined ? null : String(o[key]));
      const num = (key: string): number | null => (o[key] === undefined ? null : Number(o[key]));
      records.push({
        ...emptyLogRecord(offset, byteLength),
        timeMs: parseTime(String(o.timestamp)),
        user: text('user'),
        database: text('dbname'),
        pid: num('pid'),
        host: text('remote_host'),
        port: num('remote_port'),
        session_id: text('session_id'),
        session_line: num('line_num'),
        command_tag: text('ps'),
        sessionStartMs: o.session_start === undefined ? null : parseTime(String(o.session_start)),
        vxid: text('vxid'),
        xid: text('txid'),
        severity: text('error_severity'),
        sqlstate: text('state_code'),
        message: String(o.message),
        detail: text('detail'),
        hint: text('hint'),
        context: text('context'),
        statement: text('statement'),
        application_name: text('application_name'),
        backend_type: text('backend_type'),
        query_id: text('query_id'),
      });
    }
    offset += byteLength;
  }
  return records;
}

const ORIGIN: RecordOrigin = { id: 'pg15', file: '/logs/postgresql-2026-11-29_171716.json', fingerprint: 'f00d' };

/** An event with every optional field null, for exact comparisons. */
function event(offset: number, fields: Partial<AccessEvent>): AccessEvent {
  return {
    id: `pg15:f00d:${offset}`,
    time: '1970-01-01T00:00:00.000Z',
    server: 'crm-primary',
    source: { ...ORIGIN, offset },
    kind: 'other',
    user: null,
    database: null,
    client_addr: null,
    client_port: null,
    application_name: null,
    pid: null,
    session_id: null,
    session_line: null,
    backend_type: null,
    severity: null,
    sqlstate: null,
    message: null,
    detail: null,
    hint: null,
    context: null,
    statement: null,
    session_duration_ms: null,
    truncated: false,
    audit: null,
    query: null,
    app: null,
    ...fields,
  };
}

/** A stderr-like record (no SQLSTATE, no session id) at `offset`. */
function stderrRecord(offset: number, fields: Partial<LogRecord>): LogRecord {
  return { ...emptyLogRecord(offset, 120), timeMs: Date.UTC(2026, 10, 29, 17, 18, 52, 729), ...fields };
}

describe('createEventBuilder on real pg15-pgaudit jsonlog lines', () => {
  const records = jsonRecords(FIXTURE);
  const builder = createEventBuilder({ server: 'crm-primary' });
  const events = records.map((record) => builder.build(record, ORIGIN));
  const offsets = records.map((record) => record.offset);
  const at = (index: number): number => offsets[index] ?? -1;
  const session = { pid: 14885, session_id: '6b0c5efe.3a25', client_addr: '127.0.0.1', client_port: 38369 };

  it('reads the fixture as 13 records', () => {
    expect(records.length).toBe(13);
  });

  it('builds a connection event with backend type "not initialized"', () => {
    expect(events[0]).toEqual(
      event(at(0), {
        time: '2026-11-29T17:21:02.333Z',
        kind: 'connection',
        ...session,
        session_line: 1,
        backend_type: 'not initialized',
        severity: 'LOG',
        message: 'connection received: host=127.0.0.1 port=38369',
      }),
    );
  });

  it('builds an authorization event taking application_name from the message', () => {
    expect(events[2]).toEqual(
      event(at(2), {
        time: '2026-11-29T17:21:02.339Z',
        kind: 'authorization',
        user: 'support_sari',
        database: 'crm',
        application_name: 'psql',
        ...session,
        session_line: 3,
        backend_type: 'client backend',
        severity: 'LOG',
        message: 'connection authorized: user=support_sari database=crm application_name=psql',
      }),
    );
  });

  it('builds the A2 audit events: SELECT * of 5000 rows, then COPY TO STDOUT without object and 0 rows', () => {
    expect(events[3]).toEqual(
      event(at(3), {
        time: '2026-11-29T17:21:02.345Z',
        kind: 'audit',
        user: 'support_sari',
        database: 'crm',
        application_name: 'psql',
        ...session,
        session_line: 4,
        backend_type: 'client backend',
        severity: 'LOG',
        message: 'AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.customers,SELECT * FROM customers;,<none>,5000',
        audit: {
          audit_type: 'SESSION',
          statement_id: 1,
          substatement_id: 1,
          class: 'READ',
          command: 'SELECT',
          object_type: 'TABLE',
          object_name: 'public.customers',
          statement: 'SELECT * FROM customers;',
          parameter: '<none>',
          rows: 5000,
        },
      }),
    );
    expect((events[4] as AccessEvent).audit).toEqual({
      audit_type: 'SESSION',
      statement_id: 2,
      substatement_id: 1,
      class: 'READ',
      command: 'COPY',
      object_type: null,
      object_name: null,
      statement: 'COPY customers TO STDOUT WITH (FORMAT csv, HEADER);',
      parameter: '<none>',
      rows: 0,
    });
  });

  it('builds a disconnection event with the session length in ms', () => {
    expect(events[5]).toEqual(
      event(at(5), {
        time: '2026-11-29T17:21:02.446Z',
        kind: 'disconnection',
        user: 'support_sari',
        database: 'crm',
        application_name: 'psql',
        ...session,
        session_line: 6,
        backend_type: 'client backend',
        severity: 'LOG',
        message: 'disconnection: session time: 0:00:00.113 user=support_sari database=crm host=127.0.0.1 port=38369',
        session_duration_ms: 113,
      }),
    );
  });

  it('parses bind parameters holding quotes, commas, an emoji and an em dash', () => {
    expect((events[6] as AccessEvent).audit?.parameter).toEqual([
      '1177',
      'Barang tidak sesuai',
      'Saya pesan warna "Biru Dongker", yang datang hijau 😕 — minta tukar ya.',
      'support_sari',
    ]);
  });

  it('builds the A1 auth failure with SQLSTATE 28P01 and the hba DETAIL', () => {
    expect(events[7]).toEqual(
      event(at(7), {
        time: '2026-11-29T17:18:52.729Z',
        kind: 'auth_failure',
        user: 'dba_admin',
        database: 'crm',
        client_addr: '127.0.0.2',
        client_port: 35035,
        pid: 14694,
        session_id: '6b0c5e7c.3966',
        session_line: 2,
        backend_type: 'client backend',
        severity: 'FATAL',
        sqlstate: '28P01',
        message: 'password authentication failed for user "dba_admin"',
        detail: 'Connection matched pg_hba.conf line 3: "host    all       all       127.0.0.0/8    scram-sha-256"',
      }),
    );
  });

  it('builds the A7 permission-denied error with its STATEMENT, and the typo error with its HINT', () => {
    expect(events[8]).toEqual(
      event(at(8), {
        time: '2026-11-29T17:20:34.338Z',
        kind: 'error',
        user: 'app_web',
        database: 'crm',
        client_addr: '127.0.0.1',
        client_port: 42817,
        application_name: 'crm-web',
        pid: 14833,
        session_id: '6b0c5edc.39f1',
        session_line: 6,
        backend_type: 'client backend',
        severity: 'ERROR',
        sqlstate: '42501',
        message: 'permission denied for table pg_authid',
        statement: 'SELECT id, full_name, email FROM customers WHERE id = 1 UNION SELECT oid::bigint, rolname::text, rolpassword FROM pg_authid--',
      }),
    );
    expect(events[9]).toMatchObject({
      kind: 'error',
      sqlstate: '42703',
      hint: 'Perhaps you meant to reference the column "orders.total_amount".',
      statement: 'SELECT shipping_city, sum(totl_amount) FROM orders GROUP BY 1',
    });
  });

  it('keeps the A3 redacted password and classifies server lines as other', () => {
    expect((events[10] as AccessEvent).audit?.statement).toBe('CREATE ROLE backdoor LOGIN SUPERUSER PASSWORD <REDACTED>');
    expect(events[11]).toEqual(
      event(at(11), {
        time: '2026-11-29T17:22:09.822Z',
        kind: 'other',
        pid: 14439,
        session_id: '6b0c5e1c.3867',
        session_line: 8,
        backend_type: 'postmaster',
        severity: 'LOG',
        message: 'parameter "pgaudit.log" changed to "none"',
      }),
    );
    expect((events[12] as AccessEvent).kind).toBe('other');
  });
});

describe('createEventBuilder on stderr-style records', () => {
  it('fills user from the message and infers 28P01 for a password failure logged with [unknown] values', () => {
    const builder = createEventBuilder({ server: 'crm-primary' });
    const record = stderrRecord(500, {
      user: null,
      database: '[unknown]',
      pid: 14694,
      host: '127.0.0.2',
      port: 35035,
      application_name: '[unknown]',
      severity: 'FATAL',
      message: 'password authentication failed for user "dba_admin"',
      detail: 'Connection matched pg_hba.conf line 3: "host all all 127.0.0.0/8 scram-sha-256"',
    });
    expect(builder.build(record, ORIGIN)).toEqual(
      event(500, {
        time: '2026-11-29T17:18:52.729Z',
        kind: 'auth_failure',
        user: 'dba_admin',
        client_addr: '127.0.0.2',
        client_port: 35035,
        pid: 14694,
        severity: 'FATAL',
        sqlstate: '28P01',
        message: 'password authentication failed for user "dba_admin"',
        detail: 'Connection matched pg_hba.conf line 3: "host all all 127.0.0.0/8 scram-sha-256"',
      }),
    );
  });

  it('takes user, database and client address from a pg_hba.conf rejection when the prefix has none', () => {
    const builder = createEventBuilder({ server: 'crm-primary' });
    const record = stderrRecord(0, {
      pid: 20001,
      severity: 'FATAL',
      message: 'no pg_hba.conf entry for host "10.9.8.7", user "analyst", database "crm", no encryption',
    });
    expect(builder.build(record, ORIGIN)).toEqual(
      event(0, {
        time: '2026-11-29T17:18:52.729Z',
        kind: 'auth_failure',
        user: 'analyst',
        database: 'crm',
        client_addr: '10.9.8.7',
        pid: 20001,
        severity: 'FATAL',
        sqlstate: '28000',
        message: 'no pg_hba.conf entry for host "10.9.8.7", user "analyst", database "crm", no encryption',
      }),
    );
  });

  it('keeps a Unix-socket client as "[local]" without port', () => {
    const builder = createEventBuilder({ server: 'crm-primary' });
    const record = stderrRecord(42, { pid: 7, host: '[local]', severity: 'LOG', message: 'connection received: host=[local]' });
    expect(builder.build(record, ORIGIN)).toEqual(
      event(42, {
        time: '2026-11-29T17:18:52.729Z',
        kind: 'connection',
        client_addr: '[local]',
        pid: 7,
        severity: 'LOG',
        message: 'connection received: host=[local]',
      }),
    );
  });

  it('infers 42601 for a syntax error and keeps its STATEMENT and truncated flag', () => {
    const builder = createEventBuilder({ server: 'crm-primary' });
    const record = stderrRecord(9, {
      pid: 8,
      severity: 'ERROR',
      message: 'syntax error at or near "FORM"',
      statement: 'SELECT * FORM customers',
      truncated: true,
    });
    expect(builder.build(record, ORIGIN)).toEqual(
      event(9, {
        time: '2026-11-29T17:18:52.729Z',
        kind: 'error',
        pid: 8,
        severity: 'ERROR',
        sqlstate: '42601',
        message: 'syntax error at or near "FORM"',
        statement: 'SELECT * FORM customers',
        truncated: true,
      }),
    );
  });
});

describe('createEventBuilder: pgaudit.log_statement_once', () => {
  const first = 'AUDIT: SESSION,1,1,READ,SELECT,,,"SELECT *\n  FROM test3, test2;","1,x"';
  const later = 'AUDIT: OBJECT,1,1,READ,SELECT,TABLE,public.test2,<previously logged>,<previously logged>';
  const audit = (offset: number, pid: number, message: string, sessionId: string | null = null): LogRecord =>
    stderrRecord(offset, { pid, session_id: sessionId, severity: 'LOG', message });

  it('carries the first entry statement and parameters to a later entry of the same session (keyed by pid)', () => {
    const builder = createEventBuilder({ server: 'crm-primary' });
    builder.build(audit(0, 100, first), ORIGIN);
    expect(builder.build(audit(100, 100, later), ORIGIN)).toEqual(
      event(100, {
        time: '2026-11-29T17:18:52.729Z',
        kind: 'audit',
        pid: 100,
        severity: 'LOG',
        message: later,
        audit: {
          audit_type: 'OBJECT',
          statement_id: 1,
          substatement_id: 1,
          class: 'READ',
          command: 'SELECT',
          object_type: 'TABLE',
          object_name: 'public.test2',
          statement: 'SELECT *\n  FROM test3, test2;',
          parameter: ['1', 'x'],
          rows: null,
        },
      }),
    );
  });

  it('keys sessions by session_id when the format has one', () => {
    const builder = createEventBuilder({ server: 'crm-primary' });
    builder.build(audit(0, 100, first, 'aaaa.64'), ORIGIN);
    expect((builder.build(audit(100, 100, later, 'aaaa.64'), ORIGIN) as AccessEvent).audit?.statement).toBe('SELECT *\n  FROM test3, test2;');
    expect((builder.build(audit(200, 100, later, 'bbbb.64'), ORIGIN) as AccessEvent).audit?.statement).toBe('<previously logged>');
  });

  it('keeps the placeholder when the first entry was not seen or belongs to another substatement or session', () => {
    const builder = createEventBuilder({ server: 'crm-primary' });
    expect((builder.build(audit(0, 100, later), ORIGIN) as AccessEvent).audit).toMatchObject({
      statement: '<previously logged>',
      parameter: '<previously logged>',
    });
    builder.build(audit(100, 100, first), ORIGIN);
    const otherSub = 'AUDIT: OBJECT,1,2,READ,SELECT,TABLE,public.test2,<previously logged>,<previously logged>';
    expect((builder.build(audit(200, 100, otherSub), ORIGIN) as AccessEvent).audit?.statement).toBe('<previously logged>');
    expect((builder.build(audit(300, 101, later), ORIGIN) as AccessEvent).audit?.statement).toBe('<previously logged>');
  });

  it('forgets a session at its disconnection', () => {
    const builder = createEventBuilder({ server: 'crm-primary' });
    builder.build(audit(0, 100, first), ORIGIN);
    builder.build(
      stderrRecord(100, { pid: 100, severity: 'LOG', message: 'disconnection: session time: 0:00:01.000 user=u database=d host=[local]' }),
      ORIGIN,
    );
    expect((builder.build(audit(200, 100, later), ORIGIN) as AccessEvent).audit?.statement).toBe('<previously logged>');
  });

  it('remembers at most maxTrackedSessions sessions, forgetting the least recently used', () => {
    const builder = createEventBuilder({ server: 'crm-primary', maxTrackedSessions: 2 });
    builder.build(audit(0, 1, first), ORIGIN);
    builder.build(audit(10, 2, first), ORIGIN);
    builder.build(audit(20, 3, first), ORIGIN);
    expect((builder.build(audit(30, 1, later), ORIGIN) as AccessEvent).audit?.statement).toBe('<previously logged>');
    expect((builder.build(audit(40, 3, later), ORIGIN) as AccessEvent).audit?.statement).toBe('SELECT *\n  FROM test3, test2;');
  });
});

describe('createEventBuilder: failures', () => {
  const builder = createEventBuilder({ server: 'crm-primary' });

  it('returns bad_timestamp for a record without a time', () => {
    const record = { ...stderrRecord(77, { severity: 'LOG', message: 'checkpoint starting: time' }), timeMs: null };
    expect(builder.build(record, ORIGIN)).toEqual({ reason: 'bad_timestamp', source: { ...ORIGIN, offset: 77 }, byteLength: 120 } satisfies ParseFailure);
  });

  it('returns bad_audit_payload for an AUDIT record whose payload does not parse', () => {
    const record = stderrRecord(88, { severity: 'LOG', message: 'AUDIT: SESSION,1,1,READ' });
    expect(builder.build(record, ORIGIN)).toEqual({ reason: 'bad_audit_payload', source: { ...ORIGIN, offset: 88 }, byteLength: 120 } satisfies ParseFailure);
  });

  it('builds an AUDIT record cut at the size limit inside its statement as a truncated audit event (statement so far, parameter <cut>)', () => {
    const record = stderrRecord(99, { severity: 'LOG', message: 'AUDIT: SESSION,1,1,WRITE,INSERT,TABLE,public.t,"INSERT INTO t VALUES (1, 2', truncated: true });
    const event = builder.build(record, ORIGIN) as AccessEvent;
    expect([event.kind, event.truncated]).toEqual(['audit', true]);
    expect(event.audit).toEqual({
      audit_type: 'SESSION',
      statement_id: 1,
      substatement_id: 1,
      class: 'WRITE',
      command: 'INSERT',
      object_type: 'TABLE',
      object_name: 'public.t',
      statement: 'INSERT INTO t VALUES (1, 2',
      parameter: '<cut>',
      rows: null,
    });
  });

  it('returns oversized for an AUDIT record cut before its statement, and bad_audit_payload for the same payload not cut', () => {
    const message = 'AUDIT: SESSION,1,1,WRITE,INSE';
    expect(builder.build(stderrRecord(98, { severity: 'LOG', message, truncated: true }), ORIGIN)).toEqual({ reason: 'oversized', source: { ...ORIGIN, offset: 98 }, byteLength: 120 } satisfies ParseFailure);
    expect(builder.build(stderrRecord(97, { severity: 'LOG', message }), ORIGIN)).toEqual({ reason: 'bad_audit_payload', source: { ...ORIGIN, offset: 97 }, byteLength: 120 } satisfies ParseFailure);
  });
});
