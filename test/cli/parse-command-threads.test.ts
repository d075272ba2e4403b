import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ParseCommandThreads } from '../../src/cli/parse-command.js';
import { createLineWriter } from '../../src/cli/write-lines.js';
import { parseInProcess } from '../helpers/parse-in-process.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, '../fixtures');
const CORPUS_PREFIX = '%m [%p] %q%u@%d %r %a: ';
const MIB = 1024 * 1024;

/**
 * The worker entry as a `data:` URL that first registers tsx, so the worker thread can load the
 * TypeScript sources this suite runs on (the built CLI loads dist/cli/event-json-worker-main.js).
 */
const TS_WORKER_URL = new URL(
  `data:text/javascript,${encodeURIComponent(
    `import { register } from ${JSON.stringify(pathToFileURL(join(HERE, '../../node_modules/tsx/dist/esm/api/index.mjs')).href)}; register();` +
      ` await import(${JSON.stringify(pathToFileURL(join(HERE, '../../src/cli/event-json-worker-main.ts')).href)});`,
  )}`,
);
const TWO_THREADS: ParseCommandThreads = { twoThreadMinBytes: 0, workerUrl: TS_WORKER_URL };
const ONE_THREAD: ParseCommandThreads = { twoThreadMinBytes: Number.POSITIVE_INFINITY };

/** Runs `jaga parse ARGS` in-process, capturing stdout bytes (and how many writes) and stderr. */
const runParse = (args: string[], threads: ParseCommandThreads): ReturnType<typeof parseInProcess> => parseInProcess(args, threads);

/** The summary line (last line of stderr). */
function summaryOf(stderr: string): unknown {
  return JSON.parse(stderr.trim().split('\n').pop() ?? 'null');
}

/** `copies` copies of `excerpt` with a different statement id in each, so events differ per copy. */
function repeated(excerpt: string, copies: number): string {
  const parts: string[] = [];
  for (let i = 0; i < copies; i++) parts.push(excerpt.replaceAll('AUDIT: SESSION,', `AUDIT: SESSION,${i}`));
  return parts.join('');
}

describe('jaga parse on two threads: the same bytes as on one thread', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-parse-threads-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('stderr of 2.2 MiB (three chunks, records across chunk borders, damaged bytes): identical stdout and summary, both threads serialise', async () => {
    const excerpt = await readFile(join(FIXTURES, 'stderr/corpus-excerpt.log'), 'latin1');
    const copies = Math.ceil((2.2 * MIB) / excerpt.length);
    const bytes = Buffer.from(repeated(excerpt, copies), 'latin1');
    // damage: invalid UTF-8, a control character, a quote and a lone continuation line
    for (const [at, byte] of [
      [1000, 0xff],
      [MIB + 17, 0x01],
      [2 * MIB + 3, 0x22],
      [2 * MIB + 9, 0x0a],
    ] as const)
      bytes[at] = byte;
    const path = join(dir, 'big.log');
    await writeFile(path, bytes);
    const args = ['--format', 'stderr', '--log-line-prefix', CORPUS_PREFIX, path];
    const one = await runParse(args, ONE_THREAD);
    const two = await runParse(args, TWO_THREADS);
    expect(two.code).toBe(0);
    expect(one.stdout.length).toBeGreaterThan(6 * MIB);
    expect(two.stdout.equals(one.stdout)).toBe(true);
    expect(summaryOf(two.stderr)).toEqual(summaryOf(one.stderr));
    expect((summaryOf(one.stderr) as { events: number }).events).toBeGreaterThan(10_000);
    expect((summaryOf(one.stderr) as { failures: number }).failures).toBeGreaterThan(0);
  }, 120_000);

  it('csvlog and jsonlog of over 1 MiB (two chunks), with and without enrichment: identical stdout and summary', async () => {
    for (const [fixture, format] of [
      ['csvlog/pg15-excerpt.csv', 'csvlog'],
      ['jsonlog/pg15-excerpt.json', 'jsonlog'],
    ] as const) {
      const excerpt = await readFile(join(FIXTURES, fixture), 'utf8');
      const path = join(dir, `big-${format}`);
      await writeFile(path, repeated(excerpt, Math.ceil((1.2 * MIB) / Buffer.byteLength(excerpt))));
      for (const extra of [[], ['--no-enrich']]) {
        const args = ['--format', format, ...extra, path];
        const one = await runParse(args, ONE_THREAD);
        const two = await runParse(args, TWO_THREADS);
        expect(two.stdout.equals(one.stdout)).toBe(true);
        expect(summaryOf(two.stderr)).toEqual(summaryOf(one.stderr));
        expect((summaryOf(one.stderr) as { failures: number }).failures).toBe(0);
      }
    }
  }, 120_000);

  it('a file below the threshold and a missing worker file both stay on one thread with the same output', async () => {
    const path = join(FIXTURES, 'stderr/corpus-excerpt.log');
    const args = ['--format', 'stderr', '--log-line-prefix', CORPUS_PREFIX, path];
    const one = await runParse(args, ONE_THREAD);
    const missing = await runParse(args, { twoThreadMinBytes: 0, workerUrl: pathToFileURL(join(dir, 'no-such-worker.js')) });
    const small = await runParse(args, { twoThreadMinBytes: 8 * MIB, workerUrl: TS_WORKER_URL });
    expect(missing.stdout.equals(one.stdout)).toBe(true);
    expect(small.stdout.equals(one.stdout)).toBe(true);
    expect(one.stdout.length).toBeGreaterThan(0);
  });

  it('parse failures are logged in file order as parse_failure warnings without record content, on one thread and on two', async () => {
    // the corpus excerpt read with the default prefix '%m [%p] ': its application lines do not match
    const path = join(FIXTURES, 'stderr/corpus-excerpt.log');
    for (const threads of [ONE_THREAD, TWO_THREADS]) {
      const run = await runParse(['--format', 'stderr', path], threads);
      const lines = run.stderr.trim().split('\n');
      const warnings = lines.filter((line) => line.includes('"event":"parse_failure"')).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(summaryOf(run.stderr)).toEqual({ records: 41, events: 5, failures: 36 });
      // Telemetry writes the first 10 lines of an event per minute and counts the rest as log_suppressed
      expect(warnings).toHaveLength(10);
      expect(warnings.map((w) => w.offset)).toEqual([...new Set(warnings.map((w) => w.offset))].sort((a, b) => (a as number) - (b as number)));
      expect(warnings[0]).toMatchObject({ level: 'warn', event: 'parse_failure', format: 'stderr', reason: 'bad_prefix', file: path });
      expect(Object.keys(warnings[0] ?? {}).sort()).toEqual(['byte_length', 'event', 'file', 'format', 'level', 'message', 'offset', 'reason', 'time']);
      expect(lines.at(-1)).toBe('{"records":41,"events":5,"failures":36}');
    }
  });

  it('a worker that fails is an error of the command, not a hang or a partial success', async () => {
    const excerpt = await readFile(join(FIXTURES, 'stderr/corpus-excerpt.log'), 'latin1');
    const path = join(dir, 'two-chunks.log');
    await writeFile(path, repeated(excerpt, Math.ceil((1.5 * MIB) / excerpt.length)), 'latin1');
    const broken = new URL(`data:text/javascript,${encodeURIComponent("throw new Error('worker broke')")}`);
    await expect(runParse(['--format', 'stderr', '--log-line-prefix', CORPUS_PREFIX, path], { twoThreadMinBytes: 0, workerUrl: broken })).rejects.toThrow('worker broke');
  });
});

describe('LineWriter.addBytes', () => {
  it('keeps lines added as strings and as bytes in order, in as few writes as the buffers allow', async () => {
    const written: Buffer[] = [];
    const stream = { write: (bytes: Buffer) => written.push(Buffer.from(bytes)) > 0 } as unknown as NodeJS.WritableStream;
    const writer = createLineWriter(stream, 64);
    writer.add('a');
    writer.addBytes(Buffer.from('b\nc\n'));
    writer.add('d');
    writer.addBytes(new Uint8Array(0));
    writer.add('é');
    await writer.flush();
    expect(Buffer.concat(written).toString('utf8')).toBe('a\nb\nc\nd\né\n');
    expect(written.map((b) => b.toString('utf8'))).toEqual(['a\n', 'b\nc\n', 'd\né\n']);
  });
});
