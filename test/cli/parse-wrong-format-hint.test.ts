/**
 * `jaga parse`'s hints (wrong --format, default log_line_prefix) are about records in another format:
 * records in the right format whose time is impossible (`bad_timestamp`, e.g. 2026-02-30) do not
 * count towards them, while a file really read in the wrong format still gets its hint.
 * Fixtures: the first 12 records of the pg15-pgaudit corpus csvlog, and 41 stderr records of the
 * corpus (log_line_prefix '%m [%p] %q%u@%d %r %a: '), with every record's date made impossible.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInProcess } from '../helpers/parse-in-process.js';

const CSV = fileURLToPath(new URL('../fixtures/cli-fixes/twelve-records.csv', import.meta.url));
const STDERR = fileURLToPath(new URL('../fixtures/stderr/corpus-excerpt.log', import.meta.url));
const CORPUS_PREFIX = '%m [%p] %q%u@%d %r %a: ';

/** The text with the date at the start of every record line replaced by 2026-02-30 (a day February never has). */
function impossibleDates(text: string): string {
  return text.replace(/^\d{4}-\d{2}-\d{2}/gm, '2026-02-30');
}

/** stderr lines of a run other than the `parse_failure` / `log_suppressed` log lines: the hint (if any) and the summary. */
function hintAndSummary(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.includes('"parse_failure"') && !line.includes('"log_suppressed"'));
}

describe('jaga parse hints and impossible times', () => {
  let dir: string;
  let badCsv: string;
  let badLog: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-parse-hint-'));
    badCsv = join(dir, 'impossible.csv');
    badLog = join(dir, 'impossible.log');
    await writeFile(badCsv, impossibleDates(await readFile(CSV, 'utf8')));
    await writeFile(badLog, impossibleDates(await readFile(STDERR, 'utf8')));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('gives no wrong-format hint for a csvlog file read as csvlog whose records all have impossible times', async () => {
    const run = await parseInProcess(['--no-enrich', '--format', 'csvlog', badCsv]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('"reason":"bad_timestamp"');
    expect(hintAndSummary(run.stderr)).toEqual(['{"records":12,"events":0,"failures":12}']);
  });

  it('gives no wrong-format hint for a stderr file read with its own prefix whose records all have impossible times', async () => {
    const run = await parseInProcess(['--no-enrich', '--format', 'stderr', '--log-line-prefix', CORPUS_PREFIX, badLog]);
    expect(run.code).toBe(0);
    expect(hintAndSummary(run.stderr)).toEqual(['{"records":32,"events":0,"failures":32}']);
  });

  it('still hints at the format auto would pick when the file is in another format (the impossible times do not hide it)', async () => {
    const run = await parseInProcess(['--no-enrich', '--format', 'stderr', badCsv]);
    expect(hintAndSummary(run.stderr)).toEqual([
      'hint: 12 of 12 records did not parse as stderr (--format); by name and content the files look like csvlog: try --format auto (formats: auto, stderr, csvlog, jsonlog)',
      '{"records":12,"events":0,"failures":12}',
    ]);
  });
});
