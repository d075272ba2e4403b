import { type FileHandle, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ParseCommandThreads } from '../../src/cli/parse-command.js';
import { SegmentRun } from '../../src/cli/parse-segment-run.js';
import { parseInProcess } from '../helpers/parse-in-process.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, '../fixtures');
const CORPUS_PREFIX = '%m [%p] %q%u@%d %r %a: ';

/** The worker entry as a `data:` URL that first registers tsx (as in parse-command-threads.test.ts). */
const TS_WORKER_URL = new URL(
  `data:text/javascript,${encodeURIComponent(
    `import { register } from ${JSON.stringify(pathToFileURL(join(HERE, '../../node_modules/tsx/dist/esm/api/index.mjs')).href)}; register();` +
      ` await import(${JSON.stringify(pathToFileURL(join(HERE, '../../src/cli/event-json-worker-main.ts')).href)});`,
  )}`,
);
const ONE_THREAD: ParseCommandThreads = { twoThreadMinBytes: Number.POSITIVE_INFINITY };
const twoThreads = (segmentBytes: number): ParseCommandThreads => ({ twoThreadMinBytes: 0, workerUrl: TS_WORKER_URL, segmentBytes });

/** Runs `jaga parse ARGS` in-process, capturing stdout bytes and stderr. */
const runParse = parseInProcess;

/** stderr without the times of its log lines (they differ from run to run). */
function timeless(stderr: string): string {
  return stderr.replace(/"(time|since)":"[^"]*"/g, '"$1":"-"');
}

/**
 * Runs `run` counting the main thread's `SegmentRun.add` calls that continue a record past a
 * segment end (parsing a segment again on the file's memory and running on into the next).
 */
async function countingContinuations<T>(run: () => Promise<T>): Promise<{ value: T; continuations: number }> {
  const add = SegmentRun.prototype.add;
  let continuations = 0;
  SegmentRun.prototype.add = function (this: SegmentRun, ...args: Parameters<SegmentRun['add']>) {
    if (args[1] > 0) continuations++;
    return add.apply(this, args);
  };
  try {
    return { value: await run(), continuations };
  } finally {
    SegmentRun.prototype.add = add;
  }
}

/** A small deterministic PRNG (mulberry32), so the generated logs are the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Format = 'stderr' | 'csvlog' | 'jsonlog';

/** One log record of a backend, before formatting. */
interface Entry {
  pid: number;
  session: string;
  message: string;
  /** stderr only: a DETAIL line from the same backend */
  detail?: string;
}

/** Formats one entry as a record of `format` (`n`: its position, for time and line numbers). */
function formatEntry(format: Format, entry: Entry, n: number): string {
  const time = `2026-01-01 00:${String(Math.floor(n / 60000) % 60).padStart(2, '0')}:${String(Math.floor(n / 1000) % 60).padStart(2, '0')}.${String(n % 1000).padStart(3, '0')} UTC`;
  switch (format) {
    case 'stderr': {
      const lines = [`${time} [${entry.pid}] LOG:  ${entry.message.replaceAll('\n', '\n\t')}`];
      if (entry.detail !== undefined) lines.push(`${time} [${entry.pid}] DETAIL:  ${entry.detail}`);
      return `${lines.join('\n')}\n`;
    }
    case 'csvlog':
      return `${time},u,d,${entry.pid},"127.0.0.1:5000",${entry.session},${n},SELECT,2026-01-01 00:00:00 UTC,3/1,0,LOG,00000,"${entry.message.replaceAll('"', '""')}",,,,,,,,,"psql","client backend",,0\n`;
    case 'jsonlog':
      return `${JSON.stringify({ timestamp: time, user: 'u', dbname: 'd', pid: entry.pid, remote_host: '127.0.0.1', remote_port: 5000, session_id: entry.session, line_num: n, ps: 'SELECT', session_start: '2026-01-01 00:00:00 UTC', vxid: '3/1', txid: 0, error_severity: 'LOG', message: entry.message, application_name: 'psql', backend_type: 'client backend', query_id: 0 })}\n`;
  }
}

/**
 * A log of `backends` concurrent backends running statements with `pgaudit.log_statement_once`:
 * each substatement's first entry carries the statement (sometimes over several lines) and its
 * later entries `<previously logged>`; backends disconnect and their pid comes back as a new
 * session; some statements have more substatements than the memory keeps (64), and some entries
 * refer to a statement whose first entry is not in the file.
 */
function statementOnceLog(format: Format, seed: number, entries: number, backends: number): string {
  const next = random(seed);
  const pick = (n: number): number => Math.floor(next() * n);
  const state = Array.from({ length: backends }, (_, k) => ({ pid: 1000 + k, generation: 0, statementId: 0, substatements: 0, printed: new Set<number>() }));
  const out: string[] = [];
  for (let n = 0; n < entries; n++) {
    const backend = state[pick(backends)] as (typeof state)[number];
    const session = `6b0c5e1c.${backend.pid.toString(16)}${backend.generation}`;
    const roll = next();
    let entry: Entry;
    if (roll < 0.03) {
      entry = { pid: backend.pid, session, message: 'disconnection: session time: 0:00:01.000 user=u database=d host=127.0.0.1 port=5000' };
      backend.generation++;
      backend.statementId = 0;
      backend.printed.clear();
    } else if (roll < 0.05) {
      // an entry whose first entry is not in the file: the placeholder stays
      entry = { pid: backend.pid, session, message: `AUDIT: SESSION,${backend.statementId + 1000},1,READ,SELECT,TABLE,public.t,<previously logged>,<previously logged>` };
    } else {
      if (backend.statementId === 0 || next() < 0.3) {
        backend.statementId++;
        backend.substatements = next() < 0.05 ? 70 : 1 + pick(4);
        backend.printed.clear();
      }
      const sub = 1 + pick(backend.substatements);
      const first = !backend.printed.has(sub);
      backend.printed.add(sub);
      const text = pick(5) === 0 ? `SELECT a,\nb FROM t${sub} WHERE x = '${n}'` : `SELECT * FROM t${sub} WHERE id = ${n}`;
      const statement = first ? `"${text.replaceAll('"', '""')}",<none>` : '<previously logged>,<previously logged>';
      entry = { pid: backend.pid, session, message: `AUDIT: OBJECT,${backend.statementId},${sub},READ,SELECT,TABLE,public.t${sub},${statement}` };
      if (format === 'stderr' && pick(10) === 0) entry.detail = `row ${n}`;
    }
    out.push(formatEntry(format, entry, n));
  }
  return out.join('');
}

/** The summary line (last line of stderr). */
function summaryOf(stderr: string): { records: number; events: number; failures: number } {
  return JSON.parse(stderr.trim().split('\n').pop() ?? 'null') as { records: number; events: number; failures: number };
}

/** Events of a `jaga parse` output. */
function eventsOf(stdout: Buffer): { audit: { statement: string } | null }[] {
  return stdout
    .toString('utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { audit: { statement: string } | null });
}

describe('jaga parse on two threads in segments: the bytes of one thread', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-parse-segments-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  for (const format of ['stderr', 'csvlog', 'jsonlog'] as const) {
    it(`${format}: log_statement_once statements carried across segment ends (tiny segments) are completed, output identical`, async () => {
      const path = join(dir, `once.${format}`);
      await writeFile(path, statementOnceLog(format, 7, 3000, 6));
      const args = ['--format', format, path];
      const one = await runParse(args, ONE_THREAD);
      const events = eventsOf(one.stdout);
      const carried = events.filter((e) => e.audit !== null && e.audit.statement !== '<previously logged>').length;
      const kept = events.filter((e) => e.audit?.statement === '<previously logged>').length;
      // the log has both carried statements and placeholders whose first entry is missing or forgotten
      expect(carried).toBeGreaterThan(1500);
      expect(kept).toBeGreaterThan(30);
      for (const segmentBytes of [600, 16384]) {
        const two = await runParse(args, twoThreads(segmentBytes));
        expect(two.code).toBe(0);
        expect(timeless(two.stderr)).toBe(timeless(one.stderr));
        expect(two.stdout.equals(one.stdout)).toBe(true);
      }
      expect(summaryOf(one.stderr).failures).toBe(0);
    }, 120_000);
  }

  it('more live sessions than the statement memory keeps (10,000): sessions forgotten for room are forgotten on two threads too', async () => {
    // 10,100 sessions print a statement's first entry, then each prints a later entry of it: on one
    // parser the first 100 sessions were forgotten for room, so their placeholders stay.
    const lines: string[] = [];
    for (let k = 0; k < 10_100; k++) lines.push(formatEntry('jsonlog', { pid: 10 + k, session: `s${k}`, message: `AUDIT: SESSION,1,1,READ,SELECT,TABLE,,"SELECT ${k}",<none>` }, k));
    for (let k = 0; k < 10_100; k += 7) lines.push(formatEntry('jsonlog', { pid: 10 + k, session: `s${k}`, message: 'AUDIT: SESSION,1,1,READ,SELECT,TABLE,,<previously logged>,<previously logged>' }, 20_000 + k));
    const path = join(dir, 'many-sessions.json');
    await writeFile(path, lines.join(''));
    const args = ['--format', 'jsonlog', '--no-enrich', path];
    const one = await runParse(args, ONE_THREAD);
    const kept = eventsOf(one.stdout).filter((e) => e.audit?.statement === '<previously logged>').length;
    expect(kept).toBe(Math.ceil(100 / 7));
    const two = await runParse(args, twoThreads(64 * 1024));
    expect(timeless(two.stderr)).toBe(timeless(one.stderr));
    expect(two.stdout.equals(one.stdout)).toBe(true);
  }, 120_000);

  it('a read error mid-file: the records before it are written, then the same error, as on one thread', async () => {
    const path = join(dir, 'read-error.log');
    await writeFile(path, statementOnceLog('stderr', 3, 12_000, 4));
    const handle = await open(path);
    const prototype = Object.getPrototypeOf(handle) as FileHandle;
    await handle.close();
    const read = prototype.read;
    // the command's reads (1 MiB chunks) from 1 MiB on fail
    prototype.read = function (this: FileHandle, ...args: unknown[]) {
      if ((args[0] as Buffer).length === 1024 * 1024 && (args[3] as number) >= 1024 * 1024) return Promise.reject(Object.assign(new Error('i/o error'), { code: 'EIO' }));
      return (read as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    } as FileHandle['read'];
    const outputs: Buffer[][] = [];
    try {
      for (const threads of [ONE_THREAD, twoThreads(64 * 1024)]) {
        const written: Buffer[] = [];
        await expect(runParse(['--format', 'stderr', path], threads, written)).rejects.toThrow(`cannot read ${path}: EIO`);
        outputs.push(written);
      }
    } finally {
      prototype.read = read;
    }
    const [one, two] = outputs.map((written) => Buffer.concat(written ?? []));
    expect(one?.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(two?.equals(one as Buffer)).toBe(true);
  }, 120_000);

  it('stderr records that span segment ends (continuation and DETAIL lines, damaged lines) and csv quoted newlines: identical output', async () => {
    let continuations = 0;
    const stderrLog = await readFile(join(FIXTURES, 'stderr/corpus-excerpt.log'));
    const csvLog = await readFile(join(FIXTURES, 'csvlog/pg15-excerpt.csv'));
    for (const [name, bytes, args] of [
      ['corpus.log', stderrLog, ['--format', 'stderr', '--log-line-prefix', CORPUS_PREFIX]],
      ['default-prefix.log', stderrLog, ['--format', 'stderr', '--timezone', 'Asia/Jakarta']],
      ['corpus.csv', csvLog, ['--format', 'csvlog', '--no-enrich']],
    ] as const) {
      const path = join(dir, name);
      await writeFile(path, bytes);
      const one = await runParse([...args, path], ONE_THREAD);
      expect(one.stdout.length).toBeGreaterThan(1000);
      for (const segmentBytes of [1, 200, 3000]) {
        const counted = await countingContinuations(() => runParse([...args, path], twoThreads(segmentBytes)));
        continuations += counted.continuations;
        const two = counted.value;
        expect(timeless(two.stderr)).toBe(timeless(one.stderr));
        expect(two.stdout.equals(one.stdout)).toBe(true);
      }
    }
    // lines of the wrong prefix look like record starts but continue the record before them
    expect(continuations).toBeGreaterThan(0);
  }, 120_000);
});
