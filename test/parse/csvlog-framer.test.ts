import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCsvlogFramer } from '../../src/parse/csvlog-framer.js';
import type { LogRecord } from '../../src/parse/log-record.js';
import { isFramingFailure, type FramedRecord, type FramerOptions } from '../../src/parse/record-framer.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/csvlog/${name}`, import.meta.url));
const CORPUS_CSV = new URL('../../../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716.csv', import.meta.url);

/** Pushes `data` in `chunkBytes` pieces then ends the framer; returns everything emitted. */
function frameAll(data: Buffer, chunkBytes: number, options: FramerOptions = {}): FramedRecord[] {
  const framer = createCsvlogFramer(options);
  const out: FramedRecord[] = [];
  for (let i = 0; i < data.length; i += chunkBytes) out.push(...framer.push(data.subarray(i, i + chunkBytes)));
  out.push(...framer.end());
  return out;
}

function records(out: FramedRecord[]): LogRecord[] {
  return out.filter((r): r is LogRecord => !isFramingFailure(r));
}

/** Shape of the output: a record as `offset:byteLength`, a failure as `reason@offset:byteLength`. */
function layout(out: FramedRecord[]): string[] {
  return out.map((r) => (isFramingFailure(r) ? `${r.failure}@${r.offset}:${r.byteLength}` : `${r.offset}:${r.byteLength}`));
}

// Record boundaries of test/fixtures/csvlog/pg15-excerpt.csv (7 records copied from the corpus).
const EXCERPT_ENDS = [253, 425, 616, 1111, 1667, 2001, 2350];
const excerpt = fixture('pg15-excerpt.csv');
const excerptRecord = (i: number): Buffer => excerpt.subarray(i === 0 ? 0 : EXCERPT_ENDS[i - 1], EXCERPT_ENDS[i]);

const PG12_RECORD =
  '2026-11-29 17:30:00.250 UTC,"alice","crm",4242,"[local]",6b0c6000.1092,3,"SELECT",2026-11-29 17:29:58 UTC,3/7,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.customers,SELECT 1,<none>",,,,,,,,,"psql"\n';
const PG13_RECORD =
  '2026-11-29 17:30:01.000 UTC,"bob","crm",4243,"::1:50123",6b0c6001.1093,1,"idle",2026-11-29 17:30:01 UTC,4/1,0,ERROR,42501,"permission denied for table payments",,,,,,"SELECT * FROM payments",15,,"","client backend"\n';

describe('createCsvlogFramer: columns', () => {
  it('maps every column of a PostgreSQL 15 (26-column) record', () => {
    const out = frameAll(excerpt, 64 * 1024);
    expect(out).toHaveLength(7);
    expect(out[2]).toEqual({
      offset: 425,
      byteLength: 191,
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

  it('undoubles the quotes of a pgaudit PARAMETER quoted twice ("""""""" in the csvlog message)', () => {
    const rec = records(frameAll(excerpt, 64 * 1024))[3] as LogRecord;
    expect(rec.message).toBe(
      'AUDIT: SESSION,33,1,WRITE,INSERT,TABLE,public.support_tickets,"INSERT INTO support_tickets (customer_id, subject, body, status, assigned_to) VALUES ($1, $2, $3, \'open\', $4)","1177,Barang tidak sesuai,""Saya pesan warna """"Biru Dongker"""", yang datang hijau 😕 — minta tukar ya."",support_sari",1',
    );
    expect([rec.user, rec.database, rec.command_tag, rec.vxid, rec.xid, rec.application_name]).toEqual(['app_web', 'crm', 'INSERT', '6/26', '836', 'crm-web']);
  });

  it('keeps quoted newlines, unicode and emoji of a record spanning three lines', () => {
    const rec = records(frameAll(excerpt, 64 * 1024))[4] as LogRecord;
    expect([rec.offset, rec.byteLength, rec.session_line]).toEqual([1111, 556, 49]);
    expect(rec.message).toBe(
      'AUDIT: SESSION,46,1,WRITE,INSERT,TABLE,public.support_tickets,"INSERT INTO support_tickets (customer_id, subject, body, status, assigned_to) VALUES ($1, $2, $3, \'open\', $4)","4743,""Pembayaran gagal, kartu ditolak"",""Halo CS,\nsaya sudah coba bayar 3x tapi """"kartu ditolak"""" terus. Mohon bantuannya 🙏\n-- dikirim dari aplikasi Android"",support_sari",1',
    );
  });

  it('reads an auth failure and an error with hint, query and query_pos', () => {
    const [fatal, error] = records(frameAll(excerpt, 64 * 1024)).slice(5);
    expect([fatal?.severity, fatal?.sqlstate, fatal?.message, fatal?.detail, fatal?.application_name]).toEqual([
      'FATAL',
      '28P01',
      'password authentication failed for user "dba_admin"',
      'Connection matched pg_hba.conf line 3: "host    all       all       127.0.0.0/8    scram-sha-256"',
      null,
    ]);
    expect([error?.severity, error?.sqlstate, error?.message, error?.hint, error?.statement, error?.application_name]).toEqual([
      'ERROR',
      '42703',
      'column "totl_amount" does not exist',
      'Perhaps you meant to reference the column "orders.total_amount".',
      'SELECT shipping_city, sum(totl_amount) FROM orders GROUP BY 1',
      'metabase',
    ]);
  });

  it('reads a PostgreSQL 12 (23-column) record from a Unix socket', () => {
    const [rec] = frameAll(Buffer.from(PG12_RECORD), 1024);
    expect(rec).toMatchObject({
      offset: 0,
      byteLength: Buffer.byteLength(PG12_RECORD),
      timeMs: Date.UTC(2026, 10, 29, 17, 30, 0, 250),
      user: 'alice',
      pid: 4242,
      host: '[local]',
      port: null,
      session_line: 3,
      sessionStartMs: Date.UTC(2026, 10, 29, 17, 29, 58),
      message: 'AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.customers,SELECT 1,<none>',
      application_name: 'psql',
      backend_type: null,
      leader_pid: null,
      query_id: null,
    });
  });

  it('reads a PostgreSQL 13 (24-column) record from an IPv6 client', () => {
    const [rec] = frameAll(Buffer.from(PG13_RECORD), 1024);
    expect(rec).toMatchObject({
      host: '::1',
      port: 50123,
      severity: 'ERROR',
      sqlstate: '42501',
      statement: 'SELECT * FROM payments',
      application_name: null,
      backend_type: 'client backend',
      leader_pid: null,
      query_id: null,
    });
  });

  it('converts times of an Asia/Jakarta server (zone WIB) to UTC', () => {
    const wib = excerptRecord(3)
      .toString('utf8')
      .replace('2026-11-29 17:17:28.193 UTC', '2026-11-30 00:17:28.193 WIB')
      .replace('2026-11-29 17:17:16 UTC', '2026-11-30 00:17:16 WIB');
    const [rec] = frameAll(Buffer.from(wib), 1024, { timezone: 'Asia/Jakarta' });
    expect([(rec as LogRecord).timeMs, (rec as LogRecord).sessionStartMs]).toEqual([
      Date.UTC(2026, 10, 29, 17, 17, 28, 193),
      Date.UTC(2026, 10, 29, 17, 17, 16),
    ]);
  });

  it('reads a leader_pid of a parallel worker', () => {
    const line = excerptRecord(0).toString('utf8').replace('"postmaster",,0', '"parallel worker",14439,-5236548163497459416');
    const [rec] = frameAll(Buffer.from(line), 1024);
    expect([(rec as LogRecord).backend_type, (rec as LogRecord).leader_pid, (rec as LogRecord).query_id]).toEqual([
      'parallel worker',
      14439,
      '-5236548163497459416',
    ]);
  });
});

describe('createCsvlogFramer: bytes and chunks', () => {
  it('gives the same record for a multibyte record split at every byte boundary', () => {
    const bytes = excerptRecord(4);
    const whole = frameAll(bytes, bytes.length);
    expect(whole).toHaveLength(1);
    for (let cut = 1; cut < bytes.length; cut++) {
      const framer = createCsvlogFramer();
      expect(framer.push(Buffer.from(bytes.subarray(0, cut)))).toEqual([]);
      expect(framer.push(Buffer.from(bytes.subarray(cut)))).toEqual(whole);
    }
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    const head = Buffer.from(PG12_RECORD.replace('SELECT 1,<none>', 'BAD').split('BAD')[0] as string);
    const tail = Buffer.from(PG12_RECORD.replace('SELECT 1,<none>', 'BAD').split('BAD')[1] as string);
    const bytes = Buffer.concat([head, Buffer.from([0x62, 0xff, 0x20, 0xe2, 0x82, 0x21]), tail]);
    const [rec] = frameAll(bytes, 3);
    expect((rec as LogRecord).message).toBe('AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.customers,b\uFFFD \uFFFD!');
  });

  it('holds a partial last record until its newline, and end() emits one without a newline', () => {
    const framer = createCsvlogFramer({ startOffset: 1000 });
    const first = framer.push(excerpt.subarray(0, 300));
    expect(layout(first)).toEqual(['1000:253']);
    expect(framer.safeOffset).toBe(1253);
    expect(framer.flush()).toEqual([]);
    expect(framer.safeOffset).toBe(1253);
    expect(layout(framer.push(excerpt.subarray(300, 615)))).toEqual(['1253:172']);
    expect(framer.safeOffset).toBe(1425);
    expect(framer.flush()).toEqual([]);
    expect(layout(framer.end())).toEqual(['1425:190']);
    expect(framer.safeOffset).toBe(1615);
  });

  it('does not keep references to pushed buffers the caller reuses', () => {
    const framer = createCsvlogFramer();
    const reused = Buffer.alloc(100);
    const out: FramedRecord[] = [];
    for (let i = 0; i < EXCERPT_ENDS[2]!; i += 100) {
      const n = excerpt.copy(reused, 0, i, Math.min(i + 100, EXCERPT_ENDS[2]!));
      out.push(...framer.push(reused.subarray(0, n)));
      reused.fill(0x58);
    }
    expect(out).toEqual(frameAll(excerpt.subarray(0, EXCERPT_ENDS[2]), 64 * 1024));
  });
});

describe('createCsvlogFramer: damaged input', () => {
  it('counts a record cut outside quotes and glued to the next one, then parses the rest', () => {
    const cut = excerptRecord(2).subarray(0, 60);
    const data = Buffer.concat([cut, excerpt.subarray(EXCERPT_ENDS[2], EXCERPT_ENDS[6])]);
    const expected = ['wrong_column_count@0:60', '60:495', '555:556', '1111:334', '1445:349'];
    expect(layout(frameAll(data, 64 * 1024))).toEqual(expected);
    expect(layout(frameAll(data, 7))).toEqual(expected);
    expect((records(frameAll(data, 7))[0] as LogRecord).session_line).toBe(36);
  });

  it('counts a record cut inside a quoted field, and parses the next record and all after it', () => {
    // Cut inside the AUDIT message: the quote stays open into the records glued after it.
    const cut = excerptRecord(3).subarray(0, 200);
    const data = Buffer.concat([cut, excerpt.subarray(EXCERPT_ENDS[3], EXCERPT_ENDS[6]), excerpt.subarray(0, EXCERPT_ENDS[1])]);
    const expected = ['wrong_column_count@0:200', '200:556', '756:334', '1090:349', '1439:253', '1692:172'];
    expect(layout(frameAll(data, 64 * 1024))).toEqual(expected);
    expect(layout(frameAll(data, 7))).toEqual(expected);
  });

  it('ends an unterminated quote at maxRecordBytes when no quoted newline closes it', () => {
    // After the cut, only single-line records follow: the open quote would swallow all of them.
    const cut = excerptRecord(3).subarray(0, 200);
    const data = Buffer.concat([cut, excerpt.subarray(EXCERPT_ENDS[4], EXCERPT_ENDS[6]), excerpt.subarray(0, EXCERPT_ENDS[2])]);
    const expected = ['bad_csv@0:200', '200:334', '534:349', '883:253', '1136:172', '1308:191'];
    expect(layout(frameAll(data, 64 * 1024, { maxRecordBytes: 600 }))).toEqual(expected);
    expect(layout(frameAll(data, 7, { maxRecordBytes: 600 }))).toEqual(expected);
  });

  it('ends an unterminated quote on flush() and on end()', () => {
    const cut = excerptRecord(3).subarray(0, 200);
    const data = Buffer.concat([cut, excerpt.subarray(EXCERPT_ENDS[4], EXCERPT_ENDS[6]), excerpt.subarray(0, EXCERPT_ENDS[0])]);
    const framer = createCsvlogFramer();
    expect(framer.push(data)).toEqual([]);
    expect(framer.safeOffset).toBe(0);
    expect(layout(framer.flush())).toEqual(['bad_csv@0:200', '200:334', '534:349', '883:253']);
    expect(framer.safeOffset).toBe(1136);
    expect(layout(frameAll(data, 64 * 1024))).toEqual(['bad_csv@0:200', '200:334', '534:349', '883:253']);
  });

  it('counts a quote left open at the end of the file', () => {
    const data = Buffer.concat([excerptRecord(0), excerptRecord(3).subarray(0, 200), Buffer.from('\nno close\n')]);
    expect(layout(frameAll(data, 64 * 1024))).toEqual(['0:253', 'bad_csv@253:210']);
  });

  it('cuts a record longer than maxRecordBytes and recovers the columns after the cut', () => {
    const data = excerpt.subarray(EXCERPT_ENDS[3], EXCERPT_ENDS[5]);
    for (const chunk of [64 * 1024, 7]) {
      const out = frameAll(data, chunk, { maxRecordBytes: 350 });
      expect(layout(out)).toEqual(['0:556', '556:334']);
      const rec = out[0] as LogRecord;
      expect(rec.truncated).toBe(true);
      // The first 350 bytes end inside the message column: it keeps what they hold.
      expect(rec.message).toBe(
        'AUDIT: SESSION,46,1,WRITE,INSERT,TABLE,public.support_tickets,"INSERT INTO support_tickets (customer_id, subject, body, status, assigned_to) VALUES ($1, $2, $3, \'open\', $4)","4743,""Pembayaran gagal, kartu d',
      );
      expect([rec.session_line, rec.application_name, rec.backend_type, rec.query_id]).toEqual([49, 'crm-web', 'client backend', '0']);
      expect((out[1] as LogRecord).truncated).toBe(false);
    }
  });

  it('counts an oversized line whose columns do not add up as oversized', () => {
    const data = Buffer.concat([Buffer.from(`2026-11-29 17:30:00.250 UTC,${'x'.repeat(500)}\n`), excerptRecord(0)]);
    expect(layout(frameAll(data, 64, { maxRecordBytes: 100 }))).toEqual(['oversized@0:529', '529:253']);
  });

  it('counts a bad log_time and a blank line', () => {
    const bad = excerptRecord(0).toString('utf8').replace('2026-11-29 17:17:16.517 UTC', 'yesterday at noon');
    const data = Buffer.concat([Buffer.from(bad), Buffer.from('\n'), excerptRecord(1)]);
    expect(layout(frameAll(data, 5))).toEqual(['bad_timestamp@0:243', 'wrong_column_count@243:1', '244:172']);
  });
});

describe('createCsvlogFramer: the pg15-pgaudit corpus', () => {
  const corpus = readFileSync(CORPUS_CSV);

  it.each([
    ['64 KiB', 64 * 1024],
    ['7-byte', 7],
  ])('gives 5,905 records, 0 failures and 5,538 AUDIT messages pushed in %s chunks', (_label, chunkBytes) => {
    const framer = createCsvlogFramer();
    const out: FramedRecord[] = [];
    for (let i = 0; i < corpus.length; i += chunkBytes) {
      for (const r of framer.push(corpus.subarray(i, i + chunkBytes))) out.push(r);
    }
    for (const r of framer.end()) out.push(r);
    expect(out.filter(isFramingFailure)).toEqual([]);
    expect(out).toHaveLength(5905);
    expect(records(out).filter((r) => r.message.startsWith('AUDIT: '))).toHaveLength(5538);
    let offset = 0;
    for (const r of out) {
      expect(r.offset).toBe(offset);
      offset += r.byteLength;
    }
    expect(offset).toBe(corpus.length);
    expect(framer.safeOffset).toBe(corpus.length);
  });

  it('prints its throughput on the corpus (64 KiB chunks, best of 5 warm runs; printed, not asserted)', () => {
    let bestMs = Infinity;
    let count = 0;
    for (let run = 0; run < 6; run++) {
      const started = performance.now();
      count = frameAll(corpus, 64 * 1024).length;
      if (run > 0) bestMs = Math.min(bestMs, performance.now() - started);
    }
    console.log(`csvlog framer: ${(corpus.length / 1e6 / (bestMs / 1000)).toFixed(0)} MB/s on the corpus csv`);
    expect(count).toBe(5905);
  });
});
