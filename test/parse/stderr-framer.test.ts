import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyLogRecord, type LogRecord } from '../../src/parse/log-record.js';
import { isFramingFailure, type FramedRecord, type RecordFramer } from '../../src/parse/record-framer.js';
import { createStderrFramer, type StderrFramerOptions } from '../../src/parse/stderr-framer.js';

const CORPUS_PREFIX = '%m [%p] %q%u@%d %r %a: ';
const CORPUS_LOG = new URL('../../../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716.log', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/stderr/${name}`, import.meta.url));

/** Pushes `input` in chunks of `chunkBytes` (or at the given cut points), then ends the framer. */
function frame(input: Buffer, options: StderrFramerOptions, chunkBytes = input.length || 1): { out: FramedRecord[]; framer: RecordFramer } {
  const framer = createStderrFramer(options);
  const out: FramedRecord[] = [];
  for (let i = 0; i < input.length; i += chunkBytes) out.push(...framer.push(input.subarray(i, i + chunkBytes)));
  out.push(...framer.end());
  return { out, framer };
}

const records = (out: FramedRecord[]): LogRecord[] => out.filter((o): o is LogRecord => !isFramingFailure(o));

/** A record with every field null except `fields`. */
const record = (offset: number, byteLength: number, fields: Partial<LogRecord>): LogRecord => ({
  ...emptyLogRecord(offset, byteLength),
  ...fields,
});

const bytes = (text: string): number => Buffer.byteLength(text);

describe('createStderrFramer: continuation and secondary lines (corpus excerpt)', () => {
  const input = fixture('corpus-excerpt.log');
  const { out, framer } = frame(input, { logLinePrefix: CORPUS_PREFIX });
  const recs = records(out);

  it('frames 28 records and no failures from 32 prefixed lines (1 DETAIL, 1 HINT, 2 STATEMENT attached)', () => {
    expect([out.length, recs.length]).toEqual([28, 28]);
    expect(framer.safeOffset).toBe(input.length);
  });

  it('covers the file byte for byte: each record starts where the previous ended', () => {
    let offset = 0;
    for (const r of recs) {
      expect(r.offset).toBe(offset);
      offset += r.byteLength;
    }
    expect(offset).toBe(6000);
  });

  it('joins TAB continuation lines with \\n, removing exactly one TAB', () => {
    const audit = recs[5] as LogRecord;
    expect(audit.message).toBe(
      'AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.orders,"SELECT o.id, o.order_no, o.status, o.total_amount, o.created_at\n' +
        '  FROM orders o\n WHERE o.customer_id = $1\n ORDER BY o.created_at DESC\n LIMIT 10",4156,6',
    );
    const raw =
      '2026-11-29 17:17:16.758 UTC [14458] app_web@crm 127.0.0.1(40975) crm-web: LOG:  AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.orders,"SELECT o.id, o.order_no, o.status, o.total_amount, o.created_at\n' +
      '\t  FROM orders o\n\t WHERE o.customer_id = $1\n\t ORDER BY o.created_at DESC\n\t LIMIT 10",4156,6\n';
    expect([audit.offset, audit.byteLength, audit.pid, audit.application_name]).toEqual([717, bytes(raw), 14458, 'crm-web']);
    expect(input.subarray(717, 717 + audit.byteLength).toString()).toBe(raw);
  });

  it('keeps raw unicode of a continuation line', () => {
    expect((recs[12] as LogRecord).message).toContain('\nsaya sudah coba bayar 3x tapi ""kartu ditolak"" terus. Mohon bantuannya 🙏\n-- dikirim');
  });

  it('makes FATAL + DETAIL of an auth failure one record', () => {
    const fatal = recs[15] as LogRecord;
    expect(fatal).toEqual(
      record(3084, 323, {
        timeMs: Date.UTC(2026, 10, 29, 17, 18, 52, 729),
        user: 'dba_admin',
        database: 'crm',
        pid: 14694,
        host: '127.0.0.2',
        port: 35035,
        severity: 'FATAL',
        message: 'password authentication failed for user "dba_admin"',
        detail: 'Connection matched pg_hba.conf line 3: "host    all       all       127.0.0.0/8    scram-sha-256"',
      }),
    );
    expect(recs[14]?.message).toBe('connection received: host=127.0.0.2 port=35035');
  });

  it('attaches the STATEMENT line to its ERROR', () => {
    const error = recs[19] as LogRecord;
    expect([error.severity, error.message, error.statement, error.byteLength]).toEqual([
      'ERROR',
      'permission denied for view pg_shadow',
      'SELECT id, full_name, email FROM customers WHERE id = 1 UNION SELECT usesysid::bigint, usename::text, passwd FROM pg_shadow--',
      bytes(
        '2026-11-29 17:20:31.404 UTC [14833] app_web@crm 127.0.0.1(42817) crm-web: ERROR:  permission denied for view pg_shadow\n' +
          '2026-11-29 17:20:31.404 UTC [14833] app_web@crm 127.0.0.1(42817) crm-web: STATEMENT:  SELECT id, full_name, email FROM customers WHERE id = 1 UNION SELECT usesysid::bigint, usename::text, passwd FROM pg_shadow--\n',
      ),
    ]);
  });

  it('attaches HINT and STATEMENT to their ERROR', () => {
    const error = recs[23] as LogRecord;
    expect([error.pid, error.message, error.hint, error.statement, error.sqlstate]).toEqual([
      14463,
      'column "totl_amount" does not exist',
      'Perhaps you meant to reference the column "orders.total_amount".',
      'SELECT shipping_city, sum(totl_amount) FROM orders GROUP BY 1',
      null,
    ]);
  });

  it('starts a new record for a postmaster line between session lines', () => {
    expect(recs.slice(-3).map((r) => [r.pid, r.user, r.message])).toEqual([
      [14439, null, 'received SIGHUP, reloading configuration files'],
      [16008, 'dba_admin', 'AUDIT: SESSION,2,1,READ,SELECT,,,SELECT pg_reload_conf();,<none>,1'],
      [14439, null, 'parameter "pgaudit.log" changed to "none"'],
    ]);
  });
});

describe('createStderrFramer: statement position', () => {
  it('removes the " at character N" stderr appends to an error message (csvlog/jsonlog keep it in a column)', () => {
    const input = Buffer.from(
      '2026-11-29 17:21:16.862 UTC [1] ERROR:  syntax error at or near "FORM" at character 10\n' +
        '2026-11-29 17:21:16.862 UTC [1] NOTICE:  AUDIT: SESSION,1,1,READ,SELECT,,,"SELECT $1",x at character 12\n' +
        '2026-11-29 17:21:16.862 UTC [1] LOG:  left as logged at character 3\n' +
        '2026-11-29 17:21:16.862 UTC [1] ERROR:  ends at character \n',
    );
    expect(records(frame(input, {}).out).map((r) => r.message)).toEqual([
      'syntax error at or near "FORM"',
      'AUDIT: SESSION,1,1,READ,SELECT,,,"SELECT $1",x at character 12',
      'left as logged at character 3',
      'ends at character ',
    ]);
  });
});

describe('createStderrFramer: secondary lines from another process', () => {
  it('starts a new record for a DETAIL line whose pid differs from the open record', () => {
    const input = Buffer.from(
      '2026-11-29 17:18:52.729 UTC [1] LOG:  checkpoint starting: time\n' +
        '2026-11-29 17:18:52.729 UTC [2] DETAIL:  from another process\n',
    );
    expect(records(frame(input, {}).out).map((r) => [r.pid, r.severity, r.message, r.detail])).toEqual([
      [1, 'LOG', 'checkpoint starting: time', null],
      [2, 'DETAIL', 'from another process', null],
    ]);
  });

  it('appends continuation lines to the DETAIL they follow', () => {
    const input = Buffer.from(
      '2026-11-29 17:18:52.729 UTC [1] ERROR:  duplicate key value violates unique constraint "k"\n' +
        '2026-11-29 17:18:52.729 UTC [1] DETAIL:  Key (id)=(1) already exists.\n\tsecond detail line\n' +
        '2026-11-29 17:18:52.729 UTC [1] CONTEXT:  SQL function "f" statement 1\n' +
        '2026-11-29 17:18:52.729 UTC [1] QUERY:  select 1\n',
    );
    const [r] = records(frame(input, {}).out);
    expect([r?.message, r?.detail, r?.context, r?.internal_query, r?.byteLength]).toEqual([
      'duplicate key value violates unique constraint "k"',
      'Key (id)=(1) already exists.\nsecond detail line',
      'SQL function "f" statement 1',
      'select 1',
      input.length,
    ]);
  });
});

describe('createStderrFramer: verbose error mode (log_error_verbosity = verbose, real server, Asia/Jakarta)', () => {
  const input = fixture('all-escapes-verbose-jakarta.log');
  const options = { logLinePrefix: '%m|%t|%n|%s [%p:%P] %b %e %c %l %v %x %q<%a|%u|%d|%r|%h|%i|%Q> ', timezone: 'Asia/Jakarta' };
  const { out } = frame(input, options);
  const recs = records(out);

  it('frames 26 records: each LOCATION line attaches to its report', () => {
    expect([out.length, recs.length, recs.filter((r) => r.location !== null).length]).toEqual([26, 26, 26]);
  });

  it('takes the SQLSTATE from the message and removes it', () => {
    const denied = recs[17] as LogRecord;
    expect([denied.severity, denied.sqlstate, denied.message, denied.statement, denied.location]).toEqual([
      'ERROR',
      '42501',
      'permission denied for table t',
      'delete from t',
      'aclcheck_error, aclchk.c:3655',
    ]);
    expect([recs[9]?.sqlstate, recs[9]?.message]).toEqual(['42P01', 'relation "missing_table" does not exist']);
    const audit = recs[16] as LogRecord;
    expect([audit.sqlstate, audit.message]).toEqual(['00000', 'AUDIT: SESSION,1,1,READ,SELECT,,,select note from t,<not logged>,2']);
  });

  it('converts WIB times to UTC (UTC+7)', () => {
    expect(recs[0]?.timeMs).toBe(Date.UTC(2026, 10, 29, 18, 10, 21, 101));
    expect(recs[0]?.sessionStartMs).toBe(Date.UTC(2026, 10, 29, 18, 10, 21));
  });

  it('keeps the FATAL + DETAIL + LOCATION of a failed login as one record', () => {
    const fatal = recs[12] as LogRecord;
    expect([fatal.severity, fatal.sqlstate, fatal.user, fatal.application_name, fatal.detail?.slice(0, 39), fatal.location]).toEqual([
      'FATAL',
      '28P01',
      'app user',
      null,
      'Connection matched pg_hba.conf line 91:',
      'auth_failed, auth.c:334',
    ]);
  });

  it('never takes AUDIT (or a code of an unknown class) for a SQLSTATE', () => {
    const input2 = Buffer.from(
      '2026-11-29 17:17:16.760 UTC [5] LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,1\n' +
        '2026-11-29 17:17:16.760 UTC [5] ERROR:  ZZ999: not a class\n' +
        '2026-11-29 17:17:16.760 UTC [5] ERROR:  P0001: raised\n' +
        '2026-11-29 17:17:16.760 UTC [5] ERROR:  42p01: lower case\n',
    );
    expect(records(frame(input2, {}).out).map((r) => [r.sqlstate, r.message])).toEqual([
      [null, 'AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,1'],
      [null, 'ZZ999: not a class'],
      ['P0001', 'raised'],
      [null, '42p01: lower case'],
    ]);
  });
});

describe('createStderrFramer: time zones', () => {
  it('uses an exact numeric zone (+07) as printed', () => {
    const recs = records(frame(fixture('padded-q-plus07.log'), { logLinePrefix: '%t [%-8p] %q%-10u@%8d %-22r %-14a %4l: ' }).out);
    expect([recs.length, recs[0]?.timeMs, recs[6]?.severity, recs[6]?.detail?.slice(0, 18)]).toEqual([
      24,
      Date.UTC(2026, 10, 29, 18, 10, 30),
      'FATAL',
      'Connection matched',
    ]);
  });

  it('converts a WIB abbreviation with the operator-given Asia/Jakarta zone (UTC-7h)', () => {
    const input = Buffer.from('2026-06-01 07:00:00.250 WIB [9] LOG:  x\n');
    expect(records(frame(input, { timezone: 'Asia/Jakarta' }).out)[0]?.timeMs).toBe(Date.UTC(2026, 5, 1, 0, 0, 0, 250));
  });
});

describe('createStderrFramer: bytes', () => {
  const text = '2026-11-29 17:17:16.517 UTC [1] LOG:  AUDIT: é 🙏 Ω\n\tdua 🙏\n2026-11-29 17:17:16.518 UTC [2] LOG:  next\n';
  const input = Buffer.from(text);

  it('reassembles a multibyte character split across two pushes, at every byte boundary', () => {
    const whole = frame(input, {}).out;
    expect(records(whole).map((r) => r.message)).toEqual(['AUDIT: é 🙏 Ω\ndua 🙏', 'next']);
    for (let cut = 0; cut <= input.length; cut++) {
      const framer = createStderrFramer({});
      const out = [...framer.push(input.subarray(0, cut)), ...framer.push(input.subarray(cut)), ...framer.end()];
      expect(out).toEqual(whole);
    }
  });

  it('replaces invalid UTF-8 with U+FFFD and counts the raw bytes', () => {
    const bad = Buffer.concat([
      Buffer.from('2026-11-29 17:17:16.517 UTC [1] LOG:  bad '),
      Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]),
      Buffer.from('\n'),
    ]);
    const [r] = records(frame(bad, {}).out);
    expect([r?.message, r?.byteLength]).toEqual(['bad \uFFFD\uFFFD(\uFFFD', 48]);
  });

  it('holds a partial last line until the next push completes it', () => {
    const framer = createStderrFramer({ startOffset: 1000 });
    expect(framer.push(input.subarray(0, 20))).toEqual([]);
    expect(framer.push(input.subarray(20, 70))).toEqual([]);
    expect(framer.safeOffset).toBe(1000);
    const out = framer.push(input.subarray(70));
    expect(records(out).map((r) => [r.offset, r.message])).toEqual([[1000, 'AUDIT: é 🙏 Ω\ndua 🙏']]);
    const first = bytes('2026-11-29 17:17:16.517 UTC [1] LOG:  AUDIT: é 🙏 Ω\n\tdua 🙏\n');
    expect(first).toBe(66);
    expect(framer.safeOffset).toBe(1000 + first);
    expect(records(framer.flush()).map((r) => [r.offset, r.message])).toEqual([[1000 + first, 'next']]);
    expect(framer.safeOffset).toBe(1000 + input.length);
  });

  it('keeps the open record across pushes until a later line shows it is complete', () => {
    const framer = createStderrFramer({ logLinePrefix: CORPUS_PREFIX });
    const fatal = '2026-11-29 17:18:52.729 UTC [14694] dba_admin@crm 127.0.0.2(35035) [unknown]: FATAL:  password authentication failed for user "dba_admin"\n';
    const detail = '2026-11-29 17:18:52.729 UTC [14694] dba_admin@crm 127.0.0.2(35035) [unknown]: DETAIL:  Connection matched pg_hba.conf line 3\n';
    expect(framer.push(Buffer.from(fatal))).toEqual([]);
    expect(framer.push(Buffer.from(detail))).toEqual([]);
    const [r] = framer.flush();
    expect([(r as LogRecord).detail, (r as LogRecord).byteLength]).toEqual(['Connection matched pg_hba.conf line 3', bytes(fatal + detail)]);
  });

  it('flush keeps the open record while a partial line may still continue it, end emits everything', () => {
    const framer = createStderrFramer({});
    framer.push(Buffer.from('2026-11-29 17:17:16.517 UTC [1] LOG:  first\n\tcontin'));
    expect(framer.flush()).toEqual([]);
    framer.push(Buffer.from('ued\n2026-11-29 17:17:16.518 UTC [2] LOG:  partial, no newline'));
    const flushed = records(framer.flush());
    expect(flushed.map((r) => r.message)).toEqual(['first\ncontinued']);
    const ended = records(framer.end());
    expect(ended.map((r) => [r.offset, r.byteLength, r.message])).toEqual([[55, 57, 'partial, no newline']]);
    expect(framer.safeOffset).toBe(55 + 57);
  });

  it('reports lines before any record as bad_prefix failures, one per line, then frames normally', () => {
    const input2 = Buffer.from('\t LIMIT 10",4156,6\nforeign line\n2026-11-29 17:17:16.517 UTC [1] LOG:  ok\n');
    const { out, framer } = frame(input2, { startOffset: 50 });
    expect(out).toEqual([
      { failure: 'bad_prefix', offset: 50, byteLength: 19 },
      { failure: 'bad_prefix', offset: 69, byteLength: 13 },
      record(82, 41, { timeMs: Date.UTC(2026, 10, 29, 17, 17, 16, 517), pid: 1, severity: 'LOG', message: 'ok' }),
    ]);
    expect(framer.safeOffset).toBe(123);
  });
});

describe('createStderrFramer: records over maxRecordBytes', () => {
  const head = '2026-11-29 17:17:16.517 UTC [1] LOG:  AUDIT: start\n';
  const next = '2026-11-29 17:17:16.518 UTC [2] LOG:  after\n';

  it('cuts a record at maxRecordBytes, flags it, skips the rest of its lines, and keeps the next record intact', () => {
    const input = Buffer.from(head + '\tline two is here\n\tline three\n2026-11-29 17:17:16.517 UTC [1] STATEMENT:  select 1\n' + next);
    const { out, framer } = frame(input, { maxRecordBytes: 60 }, 7);
    const recs = records(out);
    expect(recs.map((r) => [r.offset, r.byteLength, r.truncated, r.message, r.statement])).toEqual([
      [0, input.length - bytes(next), true, 'AUDIT: start\nline two', null],
      [input.length - bytes(next), bytes(next), false, 'after', null],
    ]);
    expect(framer.safeOffset).toBe(input.length);
  });

  it('cuts a single line longer than maxRecordBytes at a character boundary, however it is chunked', () => {
    const long = `2026-11-29 17:17:16.517 UTC [1] LOG:  ${'é'.repeat(5000)}\n`;
    const input = Buffer.from(long + next);
    for (const chunk of [7, 64, 1 << 16]) {
      const recs = records(frame(input, { maxRecordBytes: 100 }, chunk).out);
      expect(recs.map((r) => [r.byteLength, r.truncated, r.message])).toEqual([
        [bytes(long), true, 'é'.repeat(31)], // 38 prefix bytes + 31 × 2 = 100
        [bytes(next), false, 'after'],
      ]);
    }
  });
});

describe('createStderrFramer: the whole corpus stderr file', () => {
  const input = readFileSync(CORPUS_LOG);

  const summary = (out: FramedRecord[]) => {
    const recs = records(out);
    return {
      outputs: out.length,
      records: recs.length,
      failures: out.length - recs.length,
      audit: recs.filter((r) => r.message.startsWith('AUDIT: ')).length,
      truncated: recs.filter((r) => r.truncated).length,
      bytes: recs.reduce((sum, r) => sum + r.byteLength, 0),
    };
  };

  it('gives 5,905 records, 0 failures and 5,538 AUDIT messages in 64 KiB chunks and in 7-byte chunks', () => {
    const big = frame(input, { logLinePrefix: CORPUS_PREFIX }, 64 * 1024);
    const small = frame(input, { logLinePrefix: CORPUS_PREFIX }, 7);
    const want = { outputs: 5905, records: 5905, failures: 0, audit: 5538, truncated: 0, bytes: 1424192 };
    expect(summary(big.out)).toEqual(want);
    expect(summary(small.out)).toEqual(want);
    expect(small.out).toEqual(big.out);
    expect([big.framer.safeOffset, small.framer.safeOffset]).toEqual([1424192, 1424192]);
    const failedLogins = records(big.out).filter((r) => r.severity === 'FATAL' && r.detail?.startsWith('Connection matched'));
    expect(failedLogins.length).toBe(33);
  });

  it('prints its parse throughput (measured, not asserted)', () => {
    for (let i = 0; i < 3; i++) frame(input, { logLinePrefix: CORPUS_PREFIX }, 64 * 1024);
    const runs = 10;
    const started = performance.now();
    const cpu = process.cpuUsage();
    let count = 0;
    for (let i = 0; i < runs; i++) count += frame(input, { logLinePrefix: CORPUS_PREFIX }, 64 * 1024).out.length;
    const cpuUsed = process.cpuUsage(cpu);
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
    const mb = (input.length * runs) / 1e6;
    console.log(
      `stderr framer: ${(mb / seconds).toFixed(1)} MB/s wall, ${(mb / cpuSeconds).toFixed(1)} MB/s of CPU time, ` +
        `${runs} parses of the ${input.length}-byte corpus file`,
    );
    expect(count).toBe(5905 * runs);
  });
});

describe('createStderrFramer: a wrong log_line_prefix', () => {
  const input = fixture('corpus-excerpt.log');
  const { out, framer } = frame(input, { logLinePrefix: '%m [%p] ' });
  const failures = out.filter(isFramingFailure);

  it('counts every session line as a bad_prefix failure instead of gluing it to the previous record', () => {
    const lines = input.toString('utf8').split('\n').filter((l) => l !== '');
    const postmaster = lines.filter((l) => /^\S+ \S+ \S+ \[\d+\] [A-Z]+: {2}/.test(l));
    expect(records(out).length).toBe(postmaster.length);
    // the session lines and the TAB continuations that belong to them (no record to continue)
    expect(failures.length).toBe(lines.length - postmaster.length);
    expect(failures.every((f) => f.failure === 'bad_prefix')).toBe(true);
    expect(records(out).every((r) => !r.message.includes('\n'))).toBe(true);
  });

  it('still covers the file byte for byte', () => {
    const covered = out.reduce((sum, o) => sum + o.byteLength, 0);
    expect(covered).toBe(input.length);
    expect(framer.safeOffset).toBe(input.length);
  });
});
