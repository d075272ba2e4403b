import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { JagaProcess, runJaga } from '../helpers/jaga-cli.js';
import { RotatingLogWriter, WRITER_LOG_LINE_PREFIX, seededRandom } from '../helpers/rotating-log-writer.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A temp folder with `logs/` (and room for `state/`), removed after the test. */
function workFolder(): { root: string; logs: string; state: string } {
  const root = mkdtempSync(join(tmpdir(), 'jaga-tail-cli-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const logs = join(root, 'logs');
  mkdirSync(logs);
  return { root, logs, state: join(root, 'state') };
}

/** Starts `jaga tail` and SIGKILLs it after the test if the test did not stop it. */
function startTail(args: string[]): JagaProcess {
  const tail = new JagaProcess(['tail', ...args]);
  cleanups.push(() => tail.kill('SIGKILL'));
  return tail;
}

/** `jaga parse` of every `*.log` file of `dir` (sorted by name) with the writer's prefix; its events in order. */
async function parseFolder(dir: string, server: string): Promise<AccessEvent[]> {
  const files = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort().map((n) => join(dir, n));
  const run = await runJaga(['parse', '--format', 'stderr', '--log-line-prefix', WRITER_LOG_LINE_PREFIX, '--server', server, '--no-enrich', ...files]);
  expect(run.code).toBe(0);
  return run.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AccessEvent);
}

/** An event without its file path (which names the file as it was when read: rotation renames it). */
function withoutPath(event: AccessEvent): unknown {
  return { ...event, source: { ...event.source, file: null } };
}

const tailArgs = (server: string, dir: string, extra: string[] = []): string[] => [
  '--format', 'stderr', '--log-line-prefix', WRITER_LOG_LINE_PREFIX, '--server', server, '--no-enrich', ...extra, dir,
];

describe('jaga tail: bad options', () => {
  /** Runs `main(['tail', ...args])` in this process and returns the exit code and what it wrote. */
  async function tailInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const stdoutSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    const stderrSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
    try {
      const code = await main(['tail', ...args]);
      return { code, stdout: out.join(''), stderr: err.join('') };
    } finally {
      stdoutSpy.mockRestore();
      stderrSpy.mockRestore();
    }
  }

  it('returns exit code 2 with a one-line reason on stderr and nothing on stdout, for each bad option', async () => {
    const { root, logs } = workFolder();
    const file = join(root, 'a-file.log');
    writeFileSync(file, 'x\n');
    const cases: Array<[string[], string]> = [
      [['--format', 'xml', logs], '--format must be auto, stderr, csvlog or jsonlog, not "xml"'],
      [['--start-at', 'middle', logs], '--start-at must be beginning or end'],
      [[], 'give exactly one LOG_DIR (jaga tail --help)'],
      [[logs, root], 'give exactly one LOG_DIR (jaga tail --help)'],
      [['--checkpoint-interval-ms', '5', logs], '--checkpoint-interval-ms must be an integer >= 10'],
      [['--checkpoint-interval-ms', '1.5e3x', logs], '--checkpoint-interval-ms must be an integer >= 10'],
      [[join(root, 'missing')], `${join(root, 'missing')} is not a readable folder`],
      [[file], `${file} is not a readable folder`],
      [['--timezone', 'Mars/Olympus_Mons', logs], 'log_timezone "Mars/Olympus_Mons" is not a known IANA time zone'],
      [['--log-line-prefix', '%m [%p] %Y ', logs], 'log_line_prefix has an unknown escape "%Y" at position 8'],
      [['--glob', '{a,b', logs], 'invalid file name glob (unclosed brace): "{a,b"'],
      [['--glob', 'sub/*.log', logs], 'invalid file name glob: "sub/*.log"'],
    ];
    const seen = [];
    for (const [args] of cases) {
      const run = await tailInProcess(args);
      seen.push({ code: run.code, stdout: run.stdout, stderr: run.stderr });
    }
    expect(seen).toEqual(cases.map(([, reason]) => ({ code: 2, stdout: '', stderr: `jaga tail: ${reason}\n` })));

    const unknown = await tailInProcess(['--bogus', logs]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')).toHaveLength(2);
    expect(unknown.stderr).toMatch(/^jaga tail: unknown option --bogus \(see --help\)/);
  });

  it('as a process: exits 2 with the reason as its only stderr line', async () => {
    const run = await runJaga(['tail', '--format', 'xml', '/tmp']);
    expect(run).toEqual({ code: 2, signal: null, stdout: '', stderr: 'jaga tail: --format must be auto, stderr, csvlog or jsonlog, not "xml"\n' });
  });
});

describe('jaga tail: following a folder', () => {
  it('prints the records already there, then each appended record within 5 s, across a rename + create rotation', async () => {
    const { logs } = workFolder();
    const writer = new RotatingLogWriter(logs);
    writer.append(6);
    const tail = startTail(tailArgs('follow', logs));
    await tail.waitUntil(() => tail.events.length >= 6, 'the 6 records already there', 60_000);

    const latenciesMs: number[] = [];
    for (let i = 0; i < 12; i++) {
      if (i === 6) writer.rotate();
      const writtenAt = Date.now();
      writer.append(1);
      await tail.waitUntil(() => tail.events.length >= 7 + i, `appended record ${i}`, 5_000);
      latenciesMs.push(tail.events[6 + i]!.receivedAtMs - writtenAt);
    }
    expect(Math.max(...latenciesMs)).toBeLessThanOrEqual(5_000);
    console.log(`jaga tail write-to-stdout latency (12 records): max ${Math.max(...latenciesMs)} ms`);

    expect(await tail.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const parsed = await parseFolder(logs, 'follow');
    expect(parsed).toHaveLength(18);
    expect(tail.badStdoutLines).toEqual([]);
    expect(tail.events.map((e) => withoutPath(e.event))).toEqual(parsed.map(withoutPath));
    expect(new Set(tail.events.map((e) => e.event.source.fingerprint)).size).toBe(2);
  });

  it('with --start-at end skips what the files held at start and prints only what is appended after', async () => {
    const { logs } = workFolder();
    const writer = new RotatingLogWriter(logs);
    writer.append(5);
    const tail = startTail(tailArgs('late', logs, ['--start-at', 'end']));
    await tail.waitUntil(() => tail.stderrLines.some((line) => line.includes('"message":"log_file"') && line.includes('"event":"discovered"')), 'the first scan', 60_000);
    writer.append(2);
    await tail.waitUntil(() => tail.events.length >= 2, 'the 2 appended records', 5_000);
    expect(await tail.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const parsed = await parseFolder(logs, 'late');
    expect(tail.events.map((e) => withoutPath(e.event))).toEqual(parsed.slice(5).map(withoutPath));
  });

  it('after SIGTERM (final checkpoint saved) a restart with the same --state repeats nothing and loses nothing, while a writer appends and rotates', async () => {
    const { logs, state } = workFolder();
    const writer = new RotatingLogWriter(logs);
    cleanups.push(() => writer.stop());
    writer.append(100);
    writer.start(seededRandom(7), { tickMs: 10, maxPerTick: 4, recordsPerFile: 150 });
    const args = tailArgs('graceful', logs, ['--state', state]);

    const first = startTail(args);
    await first.waitUntil(() => first.events.length >= 100, 'the first 100 records', 90_000);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const rotationsAtFirstStop = writer.rotations;

    const second = startTail(args);
    await second.waitUntil(() => second.events.length > 0, 'the restart to print', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await writer.stop();
    const parsed = await parseFolder(logs, 'graceful');
    expect(parsed).toHaveLength(writer.records);
    const expectedIds = parsed.map((e) => e.id);
    const seen = (): number => first.events.length + second.events.length;
    await second.waitUntil(() => seen() >= expectedIds.length, `all ${expectedIds.length} records`, 30_000);
    expect(await second.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    const firstIds = new Set(first.events.map((e) => e.event.id));
    const repeats = second.events.filter((e) => firstIds.has(e.event.id)).map((e) => e.event.id);
    expect(repeats).toEqual([]);
    // every record once, in file order across the rotations and the restart
    const all = [...first.events, ...second.events];
    expect(all.map((e) => e.event.id)).toEqual(expectedIds);
    expect(all.map((e) => withoutPath(e.event))).toEqual(parsed.map(withoutPath));
    expect(writer.rotations).toBeGreaterThan(rotationsAtFirstStop);
    expect(first.badStdoutLines.length + second.badStdoutLines.length).toBe(0);
  });
});

describe('jaga tail: time zone check', () => {
  /** The csvlog excerpt with its times written as a server on Asia/Jakarta writes them (`WIB`). */
  function wibFolder(): string {
    const { logs } = workFolder();
    const text = readFileSync(join(import.meta.dirname, '../fixtures/csvlog/pg15-excerpt.csv'), 'utf8').replaceAll(' UTC,', ' WIB,');
    writeFileSync(join(logs, 'postgresql.csv'), text);
    return logs;
  }
  const zoneLines = (tail: JagaProcess): Record<string, unknown>[] =>
    tail.stderrLines.filter((line) => line.includes('source_timezone_mismatch')).map((line) => JSON.parse(line) as Record<string, unknown>);

  it('warns once, with the zone text and both offsets only, when WIB times are read as UTC', async () => {
    const logs = wibFolder();
    const tail = startTail(['--format', 'csvlog', '--server', 'jakarta', '--no-enrich', '--start-at', 'beginning', logs]);
    await tail.waitUntil(() => tail.events.length >= 7 && zoneLines(tail).length > 0, 'the 7 events and the zone warning', 30_000);
    expect(await tail.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const [line, ...more] = zoneLines(tail);
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      level: 'warn',
      event: 'source_timezone_mismatch',
      source: 'jakarta',
      zone_text: 'WIB',
      zone_text_offsets: 'UTC+07:00',
      timezone: 'UTC',
      timezone_offset: 'UTC+00:00',
      description: 'log times say "WIB" (UTC+07:00) but the source\'s timezone is UTC (UTC+00:00)',
    });
  });

  it('says nothing when --timezone is the server\'s zone', async () => {
    const logs = wibFolder();
    const tail = startTail(['--format', 'csvlog', '--server', 'jakarta', '--timezone', 'Asia/Jakarta', '--no-enrich', '--start-at', 'beginning', logs]);
    await tail.waitUntil(() => tail.events.length >= 7, 'the 7 events', 30_000);
    expect(await tail.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(zoneLines(tail)).toEqual([]);
  });
});
