import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { AUDIT_JSON_KEYS, EVENT_JSON_KEYS, EventJsonSerializer } from '../../src/cli/event-json-serializer.js';
import type { AccessEvent, AppAccessFields, AuditFields, EventKind, QueryFacts } from '../../src/domain/access-event.js';
import { blankAccessEvent } from '../../src/domain/blank-access-event.js';
import { QueryEnricher } from '../../src/enrich/query-enricher.js';
import { createEventBuilder, withCarriedStatement } from '../../src/parse/event-builder.js';
import type { LogFormat } from '../../src/parse/log-format.js';
import { createLogParser, isParseFailure } from '../../src/parse/log-parser.js';
import { emptyLogRecord } from '../../src/parse/log-record.js';

const CORPUS = new URL('../../../shared/corpus/pg15-pgaudit/', import.meta.url).pathname;
const CORPUS_BASE = `${CORPUS}postgresql-2026-11-29_171716`;
const CORPUS_PREFIX = '%m [%p] %q%u@%d %r %a: ';

/** Every event of one corpus file, enriched, as `jaga parse` builds them (one builder, one enricher). */
async function corpusEvents(format: LogFormat, path: string, enricher: QueryEnricher): Promise<AccessEvent[]> {
  const bytes = await readFile(path);
  const parser = createLogParser({
    format,
    logLinePrefix: format === 'stderr' ? CORPUS_PREFIX : undefined,
    server: 'pg15',
    source: { id: 'pg15', file: path, fingerprint: '0123456789abcdef' },
    builder: createEventBuilder({ server: 'pg15' }),
  });
  const events: AccessEvent[] = [];
  const take = (outputs: ReturnType<typeof parser.push>): void => {
    for (const out of outputs) {
      if (isParseFailure(out)) continue;
      enricher.enrich(out);
      events.push(out);
    }
  };
  for (let at = 0; at < bytes.length; at += 256 * 1024) take(parser.push(bytes.subarray(at, at + 256 * 1024)));
  take(parser.end());
  return events;
}

/** Strings JSON.stringify escapes or writes in more than one UTF-8 byte, alone and among plain text. */
const trickyText: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom('"', '\\', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u0001', '\u001f', '\u007f', '\u0080', '\u2028', '\u2029', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'é', '中', '/', '<', ' '),
      fc.string({ maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 4 }),
      fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)), maxLength: 3 }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

const nullableText = fc.option(trickyText, { nil: null });
/** Numbers of every kind JSON.stringify treats differently (NaN and the infinities become null). */
const anyNumber = fc.oneof(fc.integer(), fc.nat(), fc.double(), fc.constantFrom(0, -0, 2 ** 31, 2 ** 53, 1e21, 1e-7, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY));
const nullableNumber = fc.option(anyNumber, { nil: null });

const auditFields: fc.Arbitrary<AuditFields> = fc.record({
  audit_type: trickyText,
  statement_id: nullableNumber,
  substatement_id: nullableNumber,
  class: trickyText,
  command: trickyText,
  object_type: nullableText,
  object_name: nullableText,
  statement: trickyText,
  parameter: fc.oneof(trickyText, fc.array(trickyText, { maxLength: 4 })),
  rows: nullableNumber,
});

/** Query facts as the enricher makes them: frozen (shared, remembered) or plain. */
const queryFacts: fc.Arbitrary<QueryFacts> = fc
  .record({ fingerprint: nullableText, normalized: nullableText, relations: fc.array(trickyText, { maxLength: 3 }), flags: fc.array(trickyText, { maxLength: 3 }), frozen: fc.boolean() })
  .map(({ frozen, ...facts }) => {
    if (!frozen) return facts;
    Object.freeze(facts.relations);
    Object.freeze(facts.flags);
    return Object.freeze(facts);
  });

const appFields: fc.Arbitrary<AppAccessFields> = fc.record({
  actor: nullableText,
  action: nullableText,
  subject_table: nullableText,
  subject_id: nullableText,
  row_count: nullableNumber,
  detail: fc.option(fc.dictionary(trickyText, fc.oneof(trickyText, anyNumber, fc.boolean(), fc.constant(null)), { maxKeys: 3 }), { nil: null }),
});

/** Events of the builder's shape with any field values, sources from a small set (so the source memo switches). */
const accessEvent: fc.Arbitrary<AccessEvent> = fc
  .record({
    id: trickyText,
    time: trickyText,
    server: fc.constantFrom('pg15', 'pg"16', 'é'),
    sourceIndex: fc.nat({ max: 2 }),
    offset: anyNumber,
    kind: fc.constantFrom<EventKind>('audit', 'connection', 'error', 'other'),
    text: fc.tuple(nullableText, nullableText, nullableText, nullableText, nullableText, nullableText, nullableText, nullableText, nullableText, nullableText, nullableText, nullableText, nullableText),
    numbers: fc.tuple(nullableNumber, nullableNumber, nullableNumber, nullableNumber),
    truncated: fc.boolean(),
    audit: fc.option(auditFields, { nil: null }),
    query: fc.option(queryFacts, { nil: null }),
    app: fc.option(appFields, { nil: null }),
  })
  .map(({ id, time, server, sourceIndex, offset, kind, text, numbers, truncated, audit, query, app }) => {
    const sources = [
      { id: server, file: '/var/log/postgresql/a.log', fingerprint: '0123456789abcdef' },
      { id: server, file: 'C:\\logs\\"b".csv', fingerprint: null },
      { id: server, file: null, fingerprint: null },
    ];
    const event = blankAccessEvent({ id, time, server, source: { ...(sources[sourceIndex] as (typeof sources)[0]), offset }, kind });
    [event.user, event.database, event.client_addr, event.application_name, event.session_id, event.backend_type, event.severity, event.sqlstate, event.message, event.detail, event.hint, event.context, event.statement] = text;
    [event.client_port, event.pid, event.session_line, event.session_duration_ms] = numbers;
    event.truncated = truncated;
    event.audit = audit;
    event.query = query;
    event.app = app;
    return event;
  });

describe('EventJsonSerializer: exactly JSON.stringify(event)', () => {
  let enricher: QueryEnricher;
  beforeAll(async () => {
    enricher = await QueryEnricher.create();
  });

  it('writes any field values as JSON.stringify does: escapes, lone surrogates, U+2028/2029, non-BMP, NaN and -0, parameter string or list, query and app (one serializer for all events)', () => {
    const serializer = new EventJsonSerializer();
    fc.assert(
      fc.property(accessEvent, (event) => {
        expect(serializer.serialize(event)).toBe(JSON.stringify(event));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a frozen query object shared by many events from memory, and an unfrozen one as it is now (changed between events)', () => {
    const serializer = new EventJsonSerializer();
    const shared = Object.freeze({ fingerprint: 'a1b2c3d4e5f60718', normalized: 'SELECT $1', relations: Object.freeze(['customers']), flags: Object.freeze(['has_where']) }) as QueryFacts;
    const plain: QueryFacts = { fingerprint: null, normalized: null, relations: ['t'], flags: ['parse_error'] };
    const event = blankAccessEvent({ id: 'pg:f:0', time: '2026-11-29T17:17:16.754Z', server: 'pg', source: { id: 'pg', file: '/l', fingerprint: 'f', offset: 0 }, kind: 'error' });
    event.query = shared;
    expect(serializer.serialize(event)).toBe(JSON.stringify(event));
    expect(serializer.serialize({ ...event, id: 'pg:f:1' })).toBe(JSON.stringify({ ...event, id: 'pg:f:1' }));
    event.query = plain;
    expect(serializer.serialize(event)).toContain('"query":{"fingerprint":null,"normalized":null,"relations":["t"],"flags":["parse_error"]}');
    plain.relations.push('u');
    expect(serializer.serialize(event)).toContain('"relations":["t","u"]');
    expect(serializer.serialize(event)).toBe(JSON.stringify(event));
  });

  it('follows a source change: the next event of another file or fingerprint carries its own source', () => {
    const serializer = new EventJsonSerializer();
    const base = { id: 'x', time: '2026-11-29T17:17:16.754Z', server: 'pg', kind: 'other' as const };
    const first = blankAccessEvent({ ...base, source: { id: 'pg', file: '/a.log', fingerprint: 'f1', offset: 10 } });
    const second = blankAccessEvent({ ...base, source: { id: 'pg', file: '/a.log', fingerprint: 'f2', offset: 20 } });
    const third = blankAccessEvent({ ...base, source: { id: 'pg', file: '/b.log', fingerprint: 'f2', offset: 30 } });
    expect(serializer.serialize(first)).toContain('"source":{"id":"pg","file":"/a.log","fingerprint":"f1","offset":10}');
    expect(serializer.serialize(second)).toContain('"source":{"id":"pg","file":"/a.log","fingerprint":"f2","offset":20}');
    expect(serializer.serialize(third)).toContain('"source":{"id":"pg","file":"/b.log","fingerprint":"f2","offset":30}');
  });

  it('writes a short field repeated from the previous event from its last JSON form, and follows every change: escaped values, null, a value back again', () => {
    const serializer = new EventJsonSerializer();
    const values = ['app"1', 'app"1', 'C:\\x', null, null, 'line\nbreak', '\ud800', '\ud800', '\ud83d\ude00', 'é', '\u2028', 'app"1', `app${'"'}1`, 'plain', 'plain'];
    const base = { time: '2026-11-29T17:17:16.754Z', server: 'pg', source: { id: 'pg', file: '/l', fingerprint: 'f', offset: 0 } };
    const lines: string[] = [];
    values.forEach((value, i) => {
      const event = blankAccessEvent({ ...base, id: `pg:f:${i}`, kind: i % 3 === 0 ? 'audit' : 'connection' });
      [event.user, event.database, event.client_addr, event.application_name, event.backend_type, event.severity] = [value, value, value, value, value, value];
      const text = value ?? 'SELECT';
      event.audit = { audit_type: text, statement_id: i, substatement_id: 1, class: text, command: text, object_type: value, object_name: value, statement: 'select 1', parameter: '<not logged>', rows: null };
      const line = serializer.serialize(event);
      expect(line).toBe(JSON.stringify(event));
      lines.push(line);
    });
    expect(lines[2]).toContain('"user":"C:\\\\x","database":"C:\\\\x","client_addr":"C:\\\\x"');
    expect(lines[3]).toContain('"user":null,"database":null,"client_addr":null');
    expect(lines[11]).toContain('"kind":"connection","user":"app\\"1"');
    expect(lines[12]).toContain('"kind":"audit","user":"app\\"1"');
  });

  it('follows interleaved pids whose connection fields change (user, kind, port, session id) and a statement logged with other audit fields', () => {
    const serializer = new EventJsonSerializer();
    const base = { time: '2026-11-29T17:17:16.754Z', server: 'pg', source: { id: 'pg', file: '/l', fingerprint: 'f', offset: 0 } };
    const steps: { pid: number | null; kind: EventKind; user: string | null; port: number | null; session: string | null; objectName: string | null }[] = [
      { pid: 7, kind: 'connection', user: null, port: 5000, session: 's7', objectName: null },
      { pid: 8, kind: 'audit', user: 'app', port: 6000, session: 's8', objectName: 'public.a' },
      { pid: 7, kind: 'audit', user: 'app', port: 5000, session: 's7', objectName: 'public.a' },
      { pid: 8, kind: 'audit', user: 'app', port: 6000, session: 's8', objectName: 'public.b' },
      { pid: 7, kind: 'audit', user: 'app', port: 5001, session: 's7', objectName: 'public.b' },
      { pid: 7, kind: 'audit', user: 'app"2', port: 5001, session: 's9', objectName: null },
      { pid: null, kind: 'other', user: null, port: null, session: null, objectName: null },
      { pid: 8, kind: 'audit', user: 'app', port: 6000, session: 's8', objectName: 'public.a' },
    ];
    const lines = steps.map((step, i) => {
      const event = blankAccessEvent({ ...base, id: `pg:f:${i}`, kind: step.kind });
      [event.pid, event.user, event.client_port, event.session_id, event.session_line] = [step.pid, step.user, step.port, step.session, i];
      if (step.kind === 'audit') {
        event.audit = { audit_type: 'OBJECT', statement_id: i, substatement_id: 1, class: 'READ', command: 'SELECT', object_type: step.objectName === null ? null : 'TABLE', object_name: step.objectName, statement: 'SELECT *\n FROM a JOIN b USING (id)', parameter: ['1', 'x"y'], rows: i };
      }
      const line = serializer.serialize(event);
      expect(line).toBe(JSON.stringify(event));
      return line;
    });
    expect(lines[2]).toContain('"kind":"audit","user":"app","database":null,"client_addr":null,"client_port":5000,"application_name":null,"pid":7,"session_id":"s7","session_line":2');
    expect(lines[4]).toContain('"client_port":5001,"application_name":null,"pid":7,"session_id":"s7","session_line":4');
    expect(lines[5]).toContain('"user":"app\\"2"');
    expect(lines[5]).toContain('"object_type":null,"object_name":null,"statement":"SELECT *\\n FROM a JOIN b USING (id)","parameter":["1","x\\"y"]');
    expect(lines[7]).toContain('"object_type":"TABLE","object_name":"public.a","statement":"SELECT *');
  });

  it('keeps writing exact JSON after its statement and pid memories fill up and start over (16,384 statements, 4,096 pids)', () => {
    const serializer = new EventJsonSerializer();
    const base = { time: '2026-11-29T17:17:16.754Z', server: 'pg', source: { id: 'pg', file: '/l', fingerprint: 'f', offset: 0 } };
    const eventOf = (i: number, statement: string, auditClass: string): AccessEvent => {
      const event = blankAccessEvent({ ...base, id: `pg:f:${i}`, kind: 'audit' });
      event.pid = i % 5000;
      event.user = `u${i % 3}`;
      event.audit = { audit_type: 'SESSION', statement_id: i, substatement_id: 1, class: auditClass, command: 'SELECT', object_type: null, object_name: null, statement, parameter: '<none>', rows: null };
      return event;
    };
    let differing = 0;
    for (let i = 0; i < 16_500; i++) {
      const event = eventOf(i, `SELECT ${i}, "c"`, 'READ');
      if (serializer.serialize(event) !== JSON.stringify(event)) differing++;
    }
    const again = eventOf(16_500, 'SELECT 0, "c"', 'MISC');
    expect(differing).toBe(0);
    expect(serializer.serialize(again)).toBe(JSON.stringify(again));
    expect(serializer.serialize(again)).toContain('"class":"MISC","command":"SELECT","object_type":null,"object_name":null,"statement":"SELECT 0, \\"c\\"","parameter":"<none>"');
  });

  it.each([
    ['stderr', `${CORPUS_BASE}.log`],
    ['csvlog', `${CORPUS_BASE}.csv`],
    ['jsonlog', `${CORPUS_BASE}.json`],
  ] as const)('writes every enriched event of the pg15-pgaudit corpus (%s) as JSON.stringify does', async (format, path) => {
    const events = await corpusEvents(format, path, enricher);
    const serializer = new EventJsonSerializer();
    let differing = 0;
    for (const event of events) if (serializer.serialize(event) !== JSON.stringify(event)) differing++;
    expect({ events: events.length, differing }).toEqual({ events: 5905, differing: 0 });
    expect(events.filter((event) => event.query !== null).length).toBeGreaterThan(1000);
  });
});

describe('EventJsonSerializer key lists: the shape the builder and the enricher create', () => {
  it('EVENT_JSON_KEYS names every AccessEvent field (checked by the type checker)', () => {
    expectTypeOf<Exclude<keyof AccessEvent, (typeof EVENT_JSON_KEYS)[number]>>().toBeNever();
    expectTypeOf<Exclude<keyof AuditFields, (typeof AUDIT_JSON_KEYS)[number]>>().toBeNever();
  });

  it('equals Object.keys of the events the builder creates (audit with and without a carried statement), of blankAccessEvent, and of their source, audit and query', async () => {
    const builder = createEventBuilder({ server: 'pg' });
    const origin = { id: 'pg', file: '/l', fingerprint: 'f' };
    const record = {
      ...emptyLogRecord(0, 10),
      timeMs: 1_796_000_000_000,
      user: 'u',
      database: 'd',
      pid: 7,
      session_id: 's1',
      session_line: 1,
      severity: 'LOG',
      message: 'AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,select 1,<none>,1',
    };
    const audited = builder.build(record, origin) as AccessEvent;
    const other = builder.build({ ...record, message: 'checkpoint starting: time' }, origin) as AccessEvent;
    (await QueryEnricher.create()).enrich(audited);
    expect(Object.keys(audited)).toEqual([...EVENT_JSON_KEYS]);
    expect(Object.keys(other)).toEqual([...EVENT_JSON_KEYS]);
    expect(Object.keys(blankAccessEvent({ id: 'x', time: 't', server: 's', source: { ...origin, offset: 0 }, kind: 'other' }))).toEqual([...EVENT_JSON_KEYS]);
    expect(Object.keys(audited.source)).toEqual(['id', 'file', 'fingerprint', 'offset']);
    expect(Object.keys(audited.audit as AuditFields)).toEqual([...AUDIT_JSON_KEYS]);
    expect(Object.keys(withCarriedStatement(audited.audit as AuditFields, { statement: 's', parameter: [] }))).toEqual([...AUDIT_JSON_KEYS]);
    expect(Object.keys(audited.query as QueryFacts)).toEqual(['fingerprint', 'normalized', 'relations', 'flags']);
  });
});
