import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/domain/errors.js';
import {
  compileLogLinePrefix,
  emptyLogLinePrefixMatch,
  type LogLinePrefixMatch,
} from '../../src/parse/log-line-prefix.js';

const CORPUS_PREFIX = '%m [%p] %q%u@%d %r %a: ';
const fixtureLines = (name: string): string[] =>
  readFileSync(new URL(`../fixtures/stderr/${name}`, import.meta.url), 'utf8').split('\n');

/** The match with every field null, overridden by `fields`. */
const expected = (fields: Partial<LogLinePrefixMatch>): LogLinePrefixMatch => ({ ...emptyLogLinePrefixMatch(), ...fields });

describe('compileLogLinePrefix: default prefix %m [%p]', () => {
  const matcher = compileLogLinePrefix();

  it('parses time, pid, severity and the message position', () => {
    const line = '2026-11-29 17:17:16.517 UTC [14439] LOG:  starting PostgreSQL 15.18';
    expect(matcher.match(line)).toEqual(
      expected({ timeMs: Date.UTC(2026, 10, 29, 17, 17, 16, 517), pid: 14439, severity: 'LOG', messageStart: 36, textStart: 42 }),
    );
    expect(line.slice(36)).toBe('LOG:  starting PostgreSQL 15.18');
  });

  it('returns null for a TAB continuation, a foreign line and a missing double space', () => {
    expect(matcher.match('\t  FROM orders o')).toBeNull();
    expect(matcher.match('could not open file "x": No such file or directory')).toBeNull();
    expect(matcher.match('2026-11-29 17:17:16.517 UTC [14439] LOG: one space')).toBeNull();
    expect(matcher.match('2026-11-29 17:17:16.517 UTC [14439] AUDIT:  not a severity')).toBeNull();
  });

  it('recognises every severity word, DEBUG1-5 included', () => {
    const words = ['DEBUG1', 'DEBUG5', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'LOG', 'FATAL', 'PANIC', 'DETAIL', 'HINT', 'QUERY', 'CONTEXT', 'LOCATION', 'STATEMENT'];
    const seen = words.map((w) => matcher.match(`2026-11-29 17:17:16.517 UTC [1] ${w}:  x`)?.severity);
    expect(seen).toEqual(words);
    expect(matcher.match('2026-11-29 17:17:16.517 UTC [1] DEBUG6:  x')).toBeNull();
  });
});

describe('compileLogLinePrefix: the corpus prefix with %q', () => {
  const matcher = compileLogLinePrefix(CORPUS_PREFIX);

  it('stops at %q for postmaster and checkpointer lines', () => {
    expect(matcher.match('2026-11-29 17:22:16.825 UTC [14441] LOG:  checkpoint starting: time')).toEqual(
      expected({ timeMs: Date.UTC(2026, 10, 29, 17, 22, 16, 825), pid: 14441, severity: 'LOG', messageStart: 36, textStart: 42 }),
    );
  });

  it('reads user, database, host(port) and application_name of a session line', () => {
    const line = '2026-11-29 17:20:31.404 UTC [14833] app_web@crm 127.0.0.1(42817) crm-web: ERROR:  permission denied for view pg_shadow';
    expect(matcher.match(line)).toEqual(
      expected({
        timeMs: Date.UTC(2026, 10, 29, 17, 20, 31, 404),
        pid: 14833,
        user: 'app_web',
        database: 'crm',
        host: '127.0.0.1',
        port: 42817,
        application_name: 'crm-web',
        severity: 'ERROR',
        messageStart: 74,
        textStart: 82,
      }),
    );
  });

  it('turns [unknown] user, database and application_name into null', () => {
    const m = matcher.match('2026-11-29 17:18:52.725 UTC [14694] [unknown]@[unknown] 127.0.0.2(35035) [unknown]: LOG:  connection received: host=127.0.0.2 port=35035');
    expect([m?.user, m?.database, m?.application_name, m?.host, m?.port]).toEqual([null, null, null, '127.0.0.2', 35035]);
  });

  it('keeps application names with spaces, colons and @, and takes the first severity anchor', () => {
    const m = matcher.match('2026-11-29 17:20:31.404 UTC [7] bob@crm 10.0.0.1(5) my app: v2@prod: LOG:  AUDIT: x LOG:  y');
    expect([m?.user, m?.database, m?.application_name, m?.textStart]).toEqual(['bob', 'crm', 'my app: v2@prod', 75]);
  });

  it('attributes a session line to its role even when the role name looks like a severity', () => {
    const m = matcher.match('2026-11-29 17:20:31.404 UTC [7] LOG:  x@crm 10.0.0.1(5) psql: LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,1');
    expect([m?.user, m?.database, m?.application_name, m?.textStart]).toEqual(['LOG:  x', 'crm', 'psql', 68]);
  });

  it('reads [local] from %r as host "[local]" without a port', () => {
    const m = matcher.match('2026-11-29 17:20:31.404 UTC [7] postgres@postgres [local] psql: LOG:  x');
    expect([m?.host, m?.port]).toEqual(['[local]', null]);
  });

  it('reads an IPv6 client address', () => {
    const m = matcher.match('2026-11-29 17:20:31.404 UTC [7] bob@crm ::1(5432) psql: LOG:  x');
    expect([m?.host, m?.port]).toEqual(['::1', 5432]);
  });
});

describe('compileLogLinePrefix: each escape', () => {
  const cases: Array<[string, string, Partial<LogLinePrefixMatch>]> = [
    ['%a', 'crm web', { application_name: 'crm web' }],
    ['%a', '[unknown]', { application_name: null }],
    ['%u', 'app user', { user: 'app user' }],
    ['%u', '[unknown]', { user: null }],
    ['%d', 'crm', { database: 'crm' }],
    ['%d', '[unknown]', { database: null }],
    ['%r', '192.168.1.20(51234)', { host: '192.168.1.20', port: 51234 }],
    ['%r', '[local]', { host: '[local]', port: null }],
    ['%h', 'db-client.example.org', { host: 'db-client.example.org' }],
    ['%h', '[local]', { host: '[local]' }],
    ['%L', '10.0.0.5', {}],
    ['%b', 'autovacuum worker', { backend_type: 'autovacuum worker' }],
    ['%p', '4242', { pid: 4242 }],
    ['%P', '4240', { leader_pid: 4240 }],
    ['%P', '', { leader_pid: null }],
    ['%t', '2026-11-29 17:17:16 UTC', { timeMs: Date.UTC(2026, 10, 29, 17, 17, 16) }],
    ['%m', '2026-11-29 17:17:16.517 UTC', { timeMs: Date.UTC(2026, 10, 29, 17, 17, 16, 517) }],
    ['%n', '1795972636.517', { timeMs: Date.UTC(2026, 10, 29, 17, 17, 16, 517) }],
    ['%i', 'idle in transaction', { command_tag: 'idle in transaction' }],
    ['%i', '', { command_tag: null }],
    ['%e', '42P01', { sqlstate: '42P01' }],
    ['%c', '6b0c6a8d.3270', { session_id: '6b0c6a8d.3270' }],
    ['%l', '17', { session_line: 17 }],
    ['%s', '2026-11-29 17:00:00 UTC', { sessionStartMs: Date.UTC(2026, 10, 29, 17, 0, 0) }],
    ['%v', '3/11', { vxid: '3/11' }],
    ['%v', '', { vxid: null }],
    ['%x', '727', { xid: '727' }],
    ['%Q', '-5100948521186865427', { query_id: '-5100948521186865427' }],
    ['%%', '%', {}],
  ];
  it.each(cases)('%s printed as "%s"', (escape, printed, fields) => {
    const line = `<${printed}> LOG:  message`;
    const start = printed.length + 3;
    expect(compileLogLinePrefix(`<${escape}> `).match(line)).toEqual(
      expected({ ...fields, severity: 'LOG', messageStart: start, textStart: start + 6 }),
    );
  });

  it('matches a literal % and escapes RegExp characters in literal text', () => {
    const matcher = compileLogLinePrefix('100%% (%p)|*.+? ');
    expect(matcher.match('100% (12)|*.+? LOG:  x')?.pid).toBe(12);
    expect(matcher.match('100% (12)|*X+? LOG:  x')).toBeNull();
  });
});

describe('compileLogLinePrefix: padding', () => {
  it('reads left-aligned (%-10u) and right-aligned (%10p) values without their spaces', () => {
    const m = compileLogLinePrefix('[%10p] %-10u|%8d: ').match('[     14439] bob       |     crm: LOG:  x');
    expect([m?.pid, m?.user, m?.database]).toEqual([14439, 'bob', 'crm']);
  });

  it('reads values longer than their width (never truncated by the server)', () => {
    const m = compileLogLinePrefix('%-3u|%2a: ').match('postgres|psql: LOG:  x');
    expect([m?.user, m?.application_name]).toEqual(['postgres', 'psql']);
  });

  it('parses real lines of a server with %t [%-8p] %q%-10u@%8d %-22r %-14a %4l and log_timezone +07', () => {
    const matcher = compileLogLinePrefix('%t [%-8p] %q%-10u@%8d %-22r %-14a %4l: ', 'Asia/Jakarta');
    const lines = fixtureLines('padded-q-plus07.log');
    expect(matcher.match(lines[0] as string)).toEqual(
      expected({ timeMs: Date.UTC(2026, 10, 29, 18, 10, 30), pid: 13073, severity: 'LOG', messageStart: 35, textStart: 41 }),
    );
    expect(matcher.match(lines[5] as string)).toEqual(
      expected({
        timeMs: Date.UTC(2026, 10, 29, 18, 10, 31),
        pid: 13082,
        host: '127.0.0.1',
        port: 36642,
        session_line: 1,
        severity: 'LOG',
        messageStart: 100,
        textStart: 106,
      }),
    );
    const audit = matcher.match(lines[11] as string);
    expect([audit?.user, audit?.database, audit?.application_name, audit?.session_line]).toEqual(['app user', 'postgres', 'crm-web', 4]);
  });

  it('gives null for the blank padded values of background processes without %q', () => {
    const matcher = compileLogLinePrefix('%m [%p] %-10u|%10d|%-20r|%8a|%b: ');
    const lines = fixtureLines('padded-noq-utc.log');
    const postmaster = matcher.match(lines[0] as string);
    expect(postmaster).toEqual(
      expected({
        timeMs: Date.UTC(2026, 10, 29, 18, 10, 32, 596),
        pid: 13136,
        backend_type: 'postmaster',
        severity: 'LOG',
        messageStart: 100,
        textStart: 106,
      }),
    );
    const session = matcher.match(lines[11] as string);
    expect([session?.user, session?.database, session?.host, session?.port, session?.application_name, session?.backend_type]).toEqual([
      'app user',
      'postgres',
      '127.0.0.1',
      36656,
      'crm-web',
      'client backend',
    ]);
  });
});

describe('compileLogLinePrefix: every escape on a real Asia/Jakarta server', () => {
  const matcher = compileLogLinePrefix('%m|%t|%n|%s [%p:%P] %b %e %c %l %v %x %q<%a|%u|%d|%r|%h|%i|%Q> ', 'Asia/Jakarta');
  const lines = fixtureLines('all-escapes-verbose-jakarta.log');

  it('converts WIB local time to UTC (UTC+7) and agrees with the epoch of %n', () => {
    const m = matcher.match(lines[0] as string);
    expect(m).toEqual(
      expected({
        timeMs: Date.UTC(2026, 10, 29, 18, 10, 21, 101),
        pid: 12912,
        backend_type: 'postmaster',
        sqlstate: '00000',
        session_id: '6b0c6a8d.3270',
        session_line: 6,
        xid: '0',
        sessionStartMs: Date.UTC(2026, 10, 29, 18, 10, 21),
        severity: 'LOG',
        messageStart: 136,
        textStart: 142,
      }),
    );
    expect(m?.timeMs).toBe(1795975821101);
  });

  it('reads a client session line: vxid, xid, command tag, negative query id, [local]', () => {
    expect(matcher.match(lines[14] as string)).toEqual(
      expected({
        timeMs: Date.UTC(2026, 10, 29, 18, 10, 21, 314),
        pid: 12923,
        user: 'postgres',
        database: 'postgres',
        host: '[local]',
        session_id: '6b0c6a8d.327b',
        session_line: 5,
        command_tag: 'INSERT',
        vxid: '3/5',
        xid: '727',
        application_name: 'psql',
        backend_type: 'client backend',
        query_id: '-5100948521186865427',
        sqlstate: '00000',
        sessionStartMs: Date.UTC(2026, 10, 29, 18, 10, 21),
        severity: 'LOG',
        messageStart: 214,
        textStart: 220,
      }),
    );
  });

  it('reads an application_name with a colon and @ and a user with a space', () => {
    const m = matcher.match(lines[37] as string);
    expect([m?.application_name, m?.user, m?.host, m?.port, m?.sqlstate, m?.severity]).toEqual([
      'crm:web@prod',
      'app user',
      '127.0.0.1',
      55262,
      '42501',
      'ERROR',
    ]);
  });
});

describe('compileLogLinePrefix: matchInto', () => {
  it('overwrites every field of the target and leaves it alone on no match', () => {
    const matcher = compileLogLinePrefix(CORPUS_PREFIX);
    const target = emptyLogLinePrefixMatch();
    expect(matcher.matchInto('2026-11-29 17:20:31.404 UTC [1] bob@crm 10.0.0.1(5) psql: LOG:  x', target)).toBe(true);
    expect(matcher.matchInto('2026-11-29 17:22:16.825 UTC [2] LOG:  y', target)).toBe(true);
    expect(target).toEqual(expected({ timeMs: Date.UTC(2026, 10, 29, 17, 22, 16, 825), pid: 2, severity: 'LOG', messageStart: 32, textStart: 38 }));
    expect(matcher.matchInto('\tcontinued', target)).toBe(false);
    expect(target.pid).toBe(2);
  });
});

describe('compileLogLinePrefix: bad configuration', () => {
  it('throws a ConfigError naming an unknown escape', () => {
    expect(() => compileLogLinePrefix('%m [%p] %z ')).toThrow(ConfigError);
    expect(() => compileLogLinePrefix('%m [%p] %z ')).toThrow('log_line_prefix has an unknown escape "%z" at position 8');
  });

  it('throws a ConfigError for an escape cut off at the end', () => {
    expect(() => compileLogLinePrefix('%m %')).toThrow('log_line_prefix ends with an incomplete escape "%"');
    expect(() => compileLogLinePrefix('%m %-10')).toThrow('log_line_prefix ends with an incomplete escape "%-10"');
  });

  it('throws a ConfigError naming an unknown time zone', () => {
    expect(() => compileLogLinePrefix('%m ', 'Mars/Olympus')).toThrow('log_timezone "Mars/Olympus" is not a known IANA time zone');
  });
});
