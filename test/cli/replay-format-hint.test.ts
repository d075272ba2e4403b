/**
 * `jaga replay --format`: a wrong value names the choices (with a "did you mean" for csv/json), a missing
 * value lists them, and a format that parses at most half of the records ends with a hint naming the
 * format `auto` would pick; `jaga parse` gives the same hint. Fixture: the first 12 records of the pg15-pgaudit corpus csvlog.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cli-error.js';
import { replayCommand } from '../../src/cli/replay-command.js';
import { parseInProcess } from '../helpers/parse-in-process.js';

const CSV = fileURLToPath(new URL('../fixtures/cli-fixes/twelve-records.csv', import.meta.url));
/** 41 stderr records of the corpus, written with log_line_prefix '%m [%p] %q%u@%d %r %a: ' (5 have only '%m [%p] ': %q) */
const STDERR = fileURLToPath(new URL('../fixtures/stderr/corpus-excerpt.log', import.meta.url));

async function replay(args: string[]): Promise<{ code: number; stderr: string[] }> {
  const stderr = Object.assign(new PassThrough(), { isTTY: false });
  const err: string[] = [];
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await replayCommand(args, { stdout: new PassThrough(), stderr });
  return { code, stderr: err.join('').split('\n').filter((l) => l !== '') };
}

describe('jaga replay --format hints', () => {
  it('suggests the format meant by csv or json, and lists the formats when the value is missing', async () => {
    await expect(replay(['--format', 'csv', CSV])).rejects.toThrow(new CliError('--format must be auto, stderr, csvlog or jsonlog, not "csv" (did you mean "csvlog"?)'));
    await expect(replay(['--format', 'JSON', CSV])).rejects.toThrow(new CliError('--format must be auto, stderr, csvlog or jsonlog, not "JSON" (did you mean "jsonlog"?)'));
    await expect(replay(['--format', 'stdrr', CSV])).rejects.toThrow(new CliError('--format must be auto, stderr, csvlog or jsonlog, not "stdrr" (did you mean "stderr"?)'));
    await expect(replay([CSV, '--format'])).rejects.toThrow(new CliError("Option '--format <value>' argument missing (formats: auto, stderr, csvlog, jsonlog)"));
  });

  it('ends a replay whose --format parsed none of the records with a hint naming the detected format', async () => {
    const run = await replay(['--format', 'stderr', CSV]);
    expect(run.code).toBe(0);
    expect(run.stderr.slice(-2)).toEqual([
      '{"files":1,"records":12,"events":0,"failures":12,"detections":0,"suppressed":0,"incidents":0}',
      'hint: 12 of 12 records did not parse as stderr (--format); by name and content the files look like csvlog: try --format auto (formats: auto, stderr, csvlog, jsonlog)',
    ]);
  });

  it('gives no hint for a csvlog file whose records all have impossible times (bad_timestamp is the right format)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jaga-replay-hint-'));
    try {
      const bad = join(dir, 'impossible.csv');
      await writeFile(bad, (await readFile(CSV, 'utf8')).replace(/^\d{4}-\d{2}-\d{2}/gm, '2026-02-30'));
      const run = await replay(['--format', 'csvlog', bad]);
      expect(run.code).toBe(0);
      expect(run.stderr.filter((line) => !line.includes('"parse_failure"') && !line.includes('"log_suppressed"'))).toEqual([
        '{"files":1,"records":12,"events":0,"failures":12,"detections":0,"suppressed":0,"incidents":0}',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ends with a time zone hint when the file times say WIB and --timezone is the default UTC, and none with Asia/Jakarta', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jaga-replay-zone-'));
    try {
      const wib = join(dir, 'wib.csv');
      await writeFile(wib, (await readFile(CSV, 'utf8')).replaceAll(' UTC,', ' WIB,'));
      const run = await replay([wib]);
      expect(run.code).toBe(0);
      expect(run.stderr.slice(-2)).toEqual([
        '{"files":1,"records":12,"events":12,"failures":0,"detections":0,"suppressed":0,"incidents":0}',
        'hint: log times say "WIB" (UTC+07:00) but --timezone is UTC (UTC+00:00): every time is converted with the wrong offset; give the server\'s log_timezone with --timezone (SHOW log_timezone)',
      ]);
      const jakarta = await replay(['--timezone', 'Asia/Jakarta', wib]);
      expect(jakarta.stderr).toEqual(['{"files":1,"records":12,"events":12,"failures":0,"detections":0,"suppressed":0,"incidents":0}']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives no hint when the format fits', async () => {
    const run = await replay(['--format', 'csvlog', CSV]);
    expect(run.stderr).toEqual(['{"files":1,"records":12,"events":12,"failures":0,"detections":0,"suppressed":0,"incidents":0}']);
  });
});

describe('jaga parse --format hints', () => {
  it('puts the same hint just before the summary line (which stays last) when --format parsed none of the records', async () => {
    const run = await parseInProcess(['--format', 'stderr', CSV]);
    expect(run.code).toBe(0);
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    expect(lines.slice(-2)).toEqual([
      'hint: 12 of 12 records did not parse as stderr (--format); by name and content the files look like csvlog: try --format auto (formats: auto, stderr, csvlog, jsonlog)',
      '{"records":12,"events":0,"failures":12}',
    ]);
    const fitting = await parseInProcess(['--format', 'csvlog', CSV]);
    expect(fitting.stderr).toBe('{"records":12,"events":12,"failures":0}\n');
  });

  it('says to give --log-line-prefix when a stderr log read with the default prefix mostly fails, with or without --format stderr', async () => {
    const hint = "hint: 36 of 41 records did not parse with the default log_line_prefix '%m [%p] ': give the server's exact prefix with --log-line-prefix (SHOW log_line_prefix)";
    for (const args of [[STDERR], ['--format', 'stderr', STDERR]]) {
      const run = await parseInProcess(args);
      expect(run.code).toBe(0);
      expect(run.stderr.split('\n').filter((l) => l !== '').slice(-2)).toEqual([hint, '{"records":41,"events":5,"failures":36}']);
    }
    const fitting = await parseInProcess(['--log-line-prefix', '%m [%p] %q%u@%d %r %a: ', STDERR]);
    expect(fitting.stderr).toBe('{"records":28,"events":28,"failures":0}\n');
  });
});

