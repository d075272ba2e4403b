import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticHistory, writeSyntheticHistory, type SyntheticHistoryOptions } from '../../src/demo/synthetic-history.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { ConfigError } from '../../src/domain/errors.js';
import { parseLogFile } from '../helpers/parse-log-file.js';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/pg15-pgaudit/', import.meta.url));
/** the corpus run's first record */
const RUN_START = new Date('2026-11-29T17:17:16.517Z');
const DAY_MS = 86_400_000;
const OFFICE_ROLES = ['support_budi', 'support_sari', 'analyst', 'bi_readonly', 'dba_admin', 'dormant_ops'];
const WEEKDAY_ONLY_ROLES = ['analyst', 'bi_readonly', 'dba_admin', 'dormant_ops'];

async function collect(options: SyntheticHistoryOptions): Promise<string> {
  let text = '';
  for await (const chunk of generateSyntheticHistory(options)) text += chunk;
  return text;
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isWeekend(time: string): boolean {
  const day = new Date(time).getUTCDay();
  return day === 0 || day === 6;
}

describe('generateSyntheticHistory on the pg15-pgaudit corpus', () => {
  let dir: string;
  const base: SyntheticHistoryOptions = { corpusDir: CORPUS, seed: 11, weeks: 3, endAt: RUN_START, maxEvents: 60_000 };
  let written: Awaited<ReturnType<typeof writeSyntheticHistory>>;
  let events: AccessEvent[];
  let failures: number;
  let records: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-history-'));
    written = await writeSyntheticHistory(join(dir, 'history.csv'), base);
    const parsed = await parseLogFile(join(dir, 'history.csv'), { format: 'csvlog' });
    events = parsed.events;
    failures = parsed.failures.length;
    records = parsed.records;
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes csvlog that jaga parses with 0 failures, one event per record written', () => {
    expect(failures).toBe(0);
    expect(records).toBe(written.records);
    expect(events.length).toBe(written.records);
    expect(written.records).toBeGreaterThan(40_000);
  });

  it('keeps within maxEvents and spans the weeks before endAt, in time order', () => {
    expect(written.records).toBeLessThanOrEqual(60_000);
    const times = events.map((event) => event.time);
    expect([...times].sort()).toEqual(times);
    expect(written.firstTime).toBe(`${times[0]!.slice(0, 10)} ${times[0]!.slice(11, 23)} UTC`);
    expect(times[0]! >= '2026-11-08T00:00:00.000Z').toBe(true);
    expect(times[0]! < '2026-11-09T00:00:00.000Z').toBe(true);
    expect(times[times.length - 1]! < RUN_START.toISOString()).toBe(true);
  });

  it('is byte-identical for the same seed and differs for another seed', async () => {
    const small = { ...base, weeks: 1, maxEvents: 8_000 };
    const first = await collect(small);
    const again = await collect(small);
    const other = await collect({ ...small, seed: 12 });
    expect(sha(again)).toBe(sha(first));
    expect(sha(other)).not.toBe(sha(first));
  });

  it('has history for every role of the corpus normal traffic plus dormant_ops', () => {
    const roles = new Set(events.filter((e) => e.kind === 'audit').map((e) => e.user));
    expect([...roles].sort()).toEqual(['analyst', 'app_batch', 'app_web', 'bi_readonly', 'dba_admin', 'dormant_ops', 'support_budi', 'support_sari']);
  });

  it('puts office roles in 08:00-17:59 UTC and weekday-only roles on Monday-Friday', () => {
    const logins = events.filter((e) => e.kind === 'authorization');
    const office = logins.filter((e) => OFFICE_ROLES.includes(e.user ?? ''));
    expect(office.length).toBeGreaterThan(500);
    const hours = new Set(office.map((e) => new Date(e.time).getUTCHours()));
    expect([...hours].every((h) => h >= 8 && h <= 17)).toBe(true);
    expect(logins.filter((e) => WEEKDAY_ONLY_ROLES.includes(e.user ?? '') && isWeekend(e.time))).toEqual([]);
    const batchHours = new Set(logins.filter((e) => e.user === 'app_batch').map((e) => new Date(e.time).getUTCHours()));
    expect([...batchHours].sort()).toEqual([17, 18]);
  });

  it('makes weekdays busier than weekends and varies the volume from day to day', () => {
    const perDay = new Map<string, number>();
    for (const e of events) if (e.user === 'support_budi' && e.kind === 'audit') perDay.set(e.time.slice(0, 10), (perDay.get(e.time.slice(0, 10)) ?? 0) + 1);
    const weekday = [...perDay].filter(([day]) => !isWeekend(day)).map(([, n]) => n);
    const weekend = [...perDay].filter(([day]) => isWeekend(day)).map(([, n]) => n);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(weekday.length).toBe(15);
    expect(mean(weekday)).toBeGreaterThan(2 * mean(weekend));
    expect(new Set(weekday).size).toBeGreaterThan(10);
  });

  it('keeps dormant_ops to the first week only', () => {
    const dormant = events.filter((e) => e.user === 'dormant_ops');
    expect(dormant.length).toBeGreaterThan(0);
    const weekOneEnd = new Date(Date.parse('2026-11-08T00:00:00Z') + 7 * DAY_MS).toISOString();
    expect(dormant.every((e) => e.time < weekOneEnd)).toBe(true);
  });

  it('copies no attack behaviour: no analyst from 127.0.0.3, no support_sari bulk read or psql, no 127.0.0.2', () => {
    expect(events.filter((e) => e.user === 'analyst' && e.client_addr === '127.0.0.3')).toEqual([]);
    expect(events.filter((e) => e.user === 'support_sari' && ((e.audit?.rows ?? 0) > 100 || e.application_name === 'psql'))).toEqual([]);
    expect(events.filter((e) => e.client_addr !== null && e.client_addr !== '127.0.0.1')).toEqual([]);
    expect(events.filter((e) => e.user === 'backdoor')).toEqual([]);
  });

  it('gives every copied session its own PID and a session id of <start hex>.<pid hex>', () => {
    const pidsBySession = new Map<string, Set<number>>();
    for (const e of events) {
      const set = pidsBySession.get(e.session_id!) ?? new Set<number>();
      set.add(e.pid!);
      pidsBySession.set(e.session_id!, set);
    }
    const pids = new Set<number>();
    for (const [sessionId, set] of pidsBySession) {
      expect(set.size).toBe(1);
      const pid = [...set][0]!;
      expect(sessionId.split('.')[1]).toBe(pid.toString(16));
      pids.add(pid);
    }
    expect(pids.size).toBe(pidsBySession.size);
  });

  it('rewrites the disconnection session time to the copy`s own length', () => {
    const sessionStart = new Map<string, number>();
    for (const e of events) if (!sessionStart.has(e.session_id!)) sessionStart.set(e.session_id!, Date.parse(e.time));
    const disconnections = events.filter((e) => e.kind === 'disconnection');
    expect(disconnections.length).toBeGreaterThan(100);
    for (const e of disconnections.slice(0, 200)) {
      const seenMs = Date.parse(e.time) - sessionStart.get(e.session_id!)!;
      // session_start_time has whole seconds; the first record can be up to 1 s after it
      expect(e.session_duration_ms! - seenMs).toBeGreaterThanOrEqual(0);
      expect(e.session_duration_ms! - seenMs).toBeLessThan(1000);
    }
  });
});

describe('generateSyntheticHistory options', () => {
  it('appends the corpus run byte for byte after the history', async () => {
    const corpus = await readFile(join(CORPUS, 'postgresql-2026-11-29_171716.csv'), 'utf8');
    const text = await collect({ corpusDir: CORPUS, seed: 3, weeks: 1, endAt: RUN_START, maxEvents: 20_000, includeCorpusRun: true });
    expect(text.endsWith(corpus)).toBe(true);
    expect(text.length).toBeGreaterThan(corpus.length);
  });

  it('writes a held-out normal day on the next weekday after the run, different for another seed', async () => {
    const options = { corpusDir: CORPUS, seed: 3, weeks: 1, endAt: RUN_START, maxEvents: 40_000, includeCorpusRun: true };
    const a = await collect({ ...options, heldOutDay: { seed: 100 } });
    const b = await collect({ ...options, heldOutDay: { seed: 101 } });
    const corpus = await readFile(join(CORPUS, 'postgresql-2026-11-29_171716.csv'), 'utf8');
    const dayA = a.slice(a.indexOf(corpus) + corpus.length);
    const dayB = b.slice(b.indexOf(corpus) + corpus.length);
    expect(a.slice(0, a.indexOf(corpus))).toBe(b.slice(0, b.indexOf(corpus)));
    expect(dayA).not.toBe(dayB);
    // 2026-11-29 is a Sunday: the held-out day is Monday 2026-11-30 (sessions may run past midnight)
    const days = new Set(dayA.split('\n').filter((l) => /^\d{4}-/.test(l)).map((l) => l.slice(0, 10)));
    expect([...days].sort()[0]).toBe('2026-11-30');
    expect(dayA).toContain('"analyst","crm"');
    expect(dayA).not.toContain('127.0.0.3');
    expect(dayA).not.toContain('dormant_ops');
  });

  it('stays within the default budget of 300,000 records for 4 weeks with the corpus run and a held-out day', async () => {
    let records = 0;
    for await (const chunk of generateSyntheticHistory({ corpusDir: CORPUS, seed: 1, weeks: 4, endAt: RUN_START, includeCorpusRun: true, heldOutDay: { seed: 2 } })) {
      records += chunk.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC,/gm)?.length ?? 0;
    }
    expect(records).toBeLessThanOrEqual(300_000);
    expect(records).toBeGreaterThan(250_000);
  });

  it('refuses a history that would overlap the corpus run, and bad weeks', async () => {
    await expect(collect({ corpusDir: CORPUS, seed: 1, weeks: 1, endAt: new Date('2026-11-29T18:00:00Z'), includeCorpusRun: true })).rejects.toThrow(ConfigError);
    await expect(collect({ corpusDir: CORPUS, seed: 1, weeks: 0, endAt: RUN_START })).rejects.toThrow(/weeks must be a whole number >= 1/);
    await expect(collect({ corpusDir: '/nonexistent', seed: 1, weeks: 1, endAt: RUN_START })).rejects.toThrow(ConfigError);
  });
});
