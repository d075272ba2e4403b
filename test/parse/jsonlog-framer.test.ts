import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCsvlogFramer } from '../../src/parse/csvlog-framer.js';
import { createJsonlogFramer } from '../../src/parse/jsonlog-framer.js';
import type { LogRecord } from '../../src/parse/log-record.js';
import { isFramingFailure, type FramedRecord, type FramerOptions, type RecordFramer } from '../../src/parse/record-framer.js';

const excerpt = readFileSync(new URL('../fixtures/jsonlog/pg15-excerpt.json', import.meta.url));
const CORPUS = new URL('../../../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716', import.meta.url).pathname;

// Line ends of test/fixtures/jsonlog/pg15-excerpt.json (the jsonlog twins of the csvlog excerpt).
const EXCERPT_ENDS = [358, 635, 966, 1651, 2399, 2932, 3532];
const excerptLine = (i: number): Buffer => excerpt.subarray(i === 0 ? 0 : EXCERPT_ENDS[i - 1], EXCERPT_ENDS[i]);

function run(framer: RecordFramer, data: Buffer, chunkBytes: number): FramedRecord[] {
  const out: FramedRecord[] = [];
  for (let i = 0; i < data.length; i += chunkBytes) {
    for (const r of framer.push(data.subarray(i, i + chunkBytes))) out.push(r);
  }
  for (const r of framer.end()) out.push(r);
  return out;
}

const frameAll = (data: Buffer, chunkBytes: number, options: FramerOptions = {}): FramedRecord[] =>
  run(createJsonlogFramer(options), data, chunkBytes);

const layout = (out: FramedRecord[]): string[] =>
  out.map((r) => (isFramingFailure(r) ? `${r.failure}@${r.offset}:${r.byteLength}` : `${r.offset}:${r.byteLength}`));

const one = (line: string, options: FramerOptions = {}): FramedRecord => {
  const out = frameAll(Buffer.from(line), 1 << 16, options);
  expect(out).toHaveLength(1);
  return out[0] as FramedRecord;
};

describe('createJsonlogFramer: keys', () => {
  it('maps every key of a jsonlog record, absent state_code being 00000', () => {
    const out = frameAll(excerpt, 1 << 16);
    expect(layout(out)).toEqual(['0:358', '358:277', '635:331', '966:685', '1651:748', '2399:533', '2932:600']);
    expect(out[2]).toEqual({
      offset: 635,
      byteLength: 331,
      timeMs: Date.UTC(2026, 10, 29, 17, 17, 16, 733),
      user: null,
      database: null,
      pid: 14458,
      host: '127.0.0.1',
      port: 40975,
      session_id: '6b0c5e1c.387a',
      session_line: 1,
      command_tag: null,
      sessionStartMs: Date.UTC(2026, 10, 29, 17, 17, 16),
      vxid: null,
      xid: '0',
      severity: 'LOG',
      sqlstate: '00000',
      message: 'connection received: host=127.0.0.1 port=40975',
      detail: null,
      hint: null,
      internal_query: null,
      context: null,
      statement: null,
      location: null,
      application_name: null,
      backend_type: 'not initialized',
      leader_pid: null,
      query_id: '0',
      truncated: false,
    } satisfies LogRecord);
  });

  it('reads the quotes, newlines and emoji of pgaudit messages', () => {
    const [, , , twice, multiline] = frameAll(excerpt, 1 << 16) as LogRecord[];
    expect(twice?.message).toBe(
      'AUDIT: SESSION,33,1,WRITE,INSERT,TABLE,public.support_tickets,"INSERT INTO support_tickets (customer_id, subject, body, status, assigned_to) VALUES ($1, $2, $3, \'open\', $4)","1177,Barang tidak sesuai,""Saya pesan warna """"Biru Dongker"""", yang datang hijau 😕 — minta tukar ya."",support_sari",1',
    );
    expect(multiline?.message).toBe(
      'AUDIT: SESSION,46,1,WRITE,INSERT,TABLE,public.support_tickets,"INSERT INTO support_tickets (customer_id, subject, body, status, assigned_to) VALUES ($1, $2, $3, \'open\', $4)","4743,""Pembayaran gagal, kartu ditolak"",""Halo CS,\nsaya sudah coba bayar 3x tapi """"kartu ditolak"""" terus. Mohon bantuannya 🙏\n-- dikirim dari aplikasi Android"",support_sari",1',
    );
  });

  it('reads an auth failure and an error with hint and statement', () => {
    const [fatal, error] = (frameAll(excerpt, 1 << 16) as LogRecord[]).slice(5);
    expect([fatal?.severity, fatal?.sqlstate, fatal?.detail, fatal?.command_tag, fatal?.vxid]).toEqual([
      'FATAL',
      '28P01',
      'Connection matched pg_hba.conf line 3: "host    all       all       127.0.0.0/8    scram-sha-256"',
      'authentication',
      '7/33',
    ]);
    expect([error?.sqlstate, error?.hint, error?.statement, error?.application_name]).toEqual([
      '42703',
      'Perhaps you meant to reference the column "orders.total_amount".',
      'SELECT shipping_city, sum(totl_amount) FROM orders GROUP BY 1',
      'metabase',
    ]);
  });

  it('gives null for absent keys', () => {
    const rec = one('{"timestamp":"2026-11-29 17:30:00.000 UTC","message":"checkpoint starting: time"}\n');
    expect(rec).toMatchObject({
      timeMs: Date.UTC(2026, 10, 29, 17, 30),
      user: null,
      database: null,
      pid: null,
      host: null,
      port: null,
      session_id: null,
      session_line: null,
      sessionStartMs: null,
      severity: null,
      sqlstate: '00000',
      message: 'checkpoint starting: time',
      location: null,
      backend_type: null,
      leader_pid: null,
      query_id: null,
    });
  });

  it('builds location from func_name, file_name and file_line_num, and keeps a 64-bit query_id exact', () => {
    const rec = one(
      '{"timestamp":"2026-11-29 17:30:00.000 UTC","pid":77,"remote_host":"[local]","message":"m","func_name":"exec_simple_query","file_name":"postgres.c","file_line_num":1094,"backend_type":"parallel worker","leader_pid":76,"query_id":-5236548163497459416}',
    );
    expect(rec).toMatchObject({
      host: '[local]',
      port: null,
      location: 'exec_simple_query, postgres.c:1094',
      leader_pid: 76,
      query_id: '-5236548163497459416',
    });
  });

  it('converts times of an Asia/Jakarta server (zone WIB) to UTC', () => {
    const rec = one('{"timestamp":"2026-11-30 00:17:28.193 WIB","session_start":"2026-11-30 00:17:16 WIB","message":"m"}\n', {
      timezone: 'Asia/Jakarta',
    });
    expect([(rec as LogRecord).timeMs, (rec as LogRecord).sessionStartMs]).toEqual([
      Date.UTC(2026, 10, 29, 17, 17, 28, 193),
      Date.UTC(2026, 10, 29, 17, 17, 16),
    ]);
  });
});

describe('createJsonlogFramer: bytes and damaged lines', () => {
  it('gives the same record for a multibyte line split at every byte boundary', () => {
    const bytes = excerptLine(4);
    const whole = frameAll(bytes, bytes.length);
    for (let cut = 1; cut < bytes.length; cut++) {
      const framer = createJsonlogFramer();
      expect(framer.push(Buffer.from(bytes.subarray(0, cut)))).toEqual([]);
      expect(framer.push(Buffer.from(bytes.subarray(cut)))).toEqual(whole);
    }
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    const [head, tail] = '{"timestamp":"2026-11-29 17:30:00.000 UTC","message":"BAD"}\n'.split('BAD') as [string, string];
    const bytes = Buffer.concat([Buffer.from(head), Buffer.from([0x62, 0xff, 0x20, 0xe2, 0x82, 0x21]), Buffer.from(tail)]);
    expect((frameAll(bytes, 3)[0] as LogRecord).message).toBe('b\uFFFD \uFFFD!');
  });

  it('holds a partial last line until its newline, and end() emits one without a newline', () => {
    const framer = createJsonlogFramer({ startOffset: 10 });
    expect(layout(framer.push(excerpt.subarray(0, 400)))).toEqual(['10:358']);
    expect(framer.flush()).toEqual([]);
    expect(framer.safeOffset).toBe(368);
    expect(layout(framer.push(excerpt.subarray(400, 634)))).toEqual([]);
    expect(layout(framer.end())).toEqual(['368:276']);
    expect(framer.safeOffset).toBe(644);
  });

  it('counts lines that are not JSON objects as bad_json and parses the lines after them', () => {
    const data = Buffer.concat([
      Buffer.from('[1,2]\nnot json at all\n"a string"\n\n'),
      excerptLine(0).subarray(0, 100),
      Buffer.from('\n'),
      excerptLine(1),
    ]);
    const expected = ['bad_json@0:6', 'bad_json@6:16', 'bad_json@22:11', 'bad_json@33:1', 'bad_json@34:101', '135:277'];
    expect(layout(frameAll(data, 1 << 16))).toEqual(expected);
    expect(layout(frameAll(data, 7))).toEqual(expected);
  });

  it('counts a missing or bad timestamp as bad_timestamp', () => {
    const data = Buffer.from('{"message":"no time"}\n{"timestamp":"yesterday","message":"m"}\n');
    expect(layout(frameAll(data, 1 << 16))).toEqual(['bad_timestamp@0:22', 'bad_timestamp@22:40']);
  });

  it('cuts a line longer than maxRecordBytes, keeping the keys before and after the cut value', () => {
    const data = Buffer.concat([excerptLine(4), excerptLine(0)]);
    for (const chunk of [1 << 16, 7]) {
      const out = frameAll(data, chunk, { maxRecordBytes: 400 });
      expect(layout(out)).toEqual(['0:748', '748:358']);
      const rec = out[0] as LogRecord;
      expect(rec.truncated).toBe(true);
      // The first 400 bytes end inside the message value: it keeps what they hold.
      expect(rec.message).toBe('AUDIT: SESSION,46,1,WRITE,INSERT,TABLE,public.support_tickets,"INSERT INTO support_tickets (customer_id, sub');
      expect([rec.session_line, rec.xid, rec.application_name, rec.backend_type, rec.query_id]).toEqual([49, '846', 'crm-web', 'client backend', '0']);
      expect((out[1] as LogRecord).truncated).toBe(false);
    }
  });

  it('reads the timestamp of an oversized line from after the cut value', () => {
    const data = Buffer.from(`{"message":"${'x'.repeat(300)}","timestamp":"2026-11-29 17:30:00.000 UTC","pid":5}\n`);
    const rec = frameAll(data, 1 << 16, { maxRecordBytes: 100 })[0] as LogRecord;
    expect([rec.byteLength, rec.timeMs, rec.pid, rec.message, rec.truncated]).toEqual([
      365,
      Date.UTC(2026, 10, 29, 17, 30),
      5,
      'x'.repeat(88),
      true,
    ]);
  });

  it('counts an oversized line without a readable timestamp as oversized', () => {
    const data = Buffer.from(`{"message":"${'x'.repeat(300)}","pid":5}\n{"timestamp":"2026-11-29 17:30:00.000 UTC"}\n`);
    expect(layout(frameAll(data, 1 << 16, { maxRecordBytes: 100 }))).toEqual(['oversized@0:323', '323:44']);
  });
});

describe('createJsonlogFramer: the pg15-pgaudit corpus', () => {
  const json = readFileSync(`${CORPUS}.json`);

  it.each([
    ['64 KiB', 1 << 16],
    ['7-byte', 7],
  ])('gives 5,905 records, 0 failures and 5,538 AUDIT messages pushed in %s chunks', (_label, chunkBytes) => {
    const framer = createJsonlogFramer();
    const out = run(framer, json, chunkBytes);
    expect(out.filter(isFramingFailure)).toEqual([]);
    expect(out).toHaveLength(5905);
    expect((out as LogRecord[]).filter((r) => r.message.startsWith('AUDIT: '))).toHaveLength(5538);
    let offset = 0;
    for (const r of out) {
      expect(r.offset).toBe(offset);
      offset += r.byteLength;
    }
    expect(offset).toBe(json.length);
    expect(framer.safeOffset).toBe(json.length);
  });

  it('agrees with the csvlog file of the same run on every field, record by record', () => {
    const fromJson = run(createJsonlogFramer(), json, 1 << 16) as LogRecord[];
    const fromCsv = run(createCsvlogFramer(), readFileSync(`${CORPUS}.csv`), 1 << 16) as LogRecord[];
    // The collector writes each destination on its own, so a few records sit in another order:
    // pair them by (session_id, session_line), which is unique.
    const key = (r: LogRecord): string => `${r.session_id}:${r.session_line}`;
    const csvByKey = new Map(fromCsv.map((r) => [key(r), r]));
    expect(csvByKey.size).toBe(5905);
    expect(fromJson.filter((r, i) => fromCsv[i] !== csvByKey.get(key(r)))).toHaveLength(21);
    const differing = fromJson.flatMap((r) => {
      const twin = csvByKey.get(key(r));
      if (!twin) return [`${key(r)}: no csvlog record`];
      const fields = Object.keys(r).filter((k) => k !== 'offset' && k !== 'byteLength') as (keyof LogRecord)[];
      return fields.filter((k) => r[k] !== twin[k]).map((k) => `${key(r)}: ${k}`);
    });
    expect(differing).toEqual([]);
  });

  it('prints its throughput on the corpus (64 KiB chunks, best of 5 warm runs; printed, not asserted)', () => {
    let bestMs = Infinity;
    let count = 0;
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      count = frameAll(json, 1 << 16).length;
      if (i > 0) bestMs = Math.min(bestMs, performance.now() - started);
    }
    console.log(`jsonlog framer: ${(json.length / 1e6 / (bestMs / 1000)).toFixed(0)} MB/s on the corpus json`);
    expect(count).toBe(5905);
  });
});
