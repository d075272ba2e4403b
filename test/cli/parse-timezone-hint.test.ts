/**
 * `jaga parse` prints one hint line before its summary line when the zone text of the first record's
 * time contradicts --timezone (`WIB` read as the default UTC shifts every time by 7 hours), and none
 * when it agrees or says nothing known. Fixture: the first 12 records of the pg15-pgaudit corpus
 * csvlog (times in `UTC`), with the zone text of every time replaced.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJaga } from '../helpers/jaga-cli.js';

const CSV = fileURLToPath(new URL('../fixtures/cli-fixes/twelve-records.csv', import.meta.url));

describe('jaga parse: hint when the log times\' zone contradicts --timezone', () => {
  let dir: string;
  /** the fixture with its times written in `zone` */
  const inZone = async (zone: string): Promise<string> => {
    const path = join(dir, `${zone.replace(/[^A-Za-z0-9]/g, '_')}.csv`);
    await writeFile(path, (await readFile(CSV, 'utf8')).replace(/(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{3})?) UTC,/g, `$1 ${zone},`));
    return path;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-parse-zone-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('prints the hint, naming the zone text, both offsets and what to do, right before the summary line', async () => {
    const run = await runJaga(['parse', '--no-enrich', await inZone('WIB')]);
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n')).toEqual([
      'hint: log times say "WIB" (UTC+07:00) but --timezone is UTC (UTC+00:00): every time is converted with the wrong offset; give the server\'s log_timezone with --timezone (SHOW log_timezone)',
      '{"records":12,"events":12,"failures":0}',
      '',
    ]);
  });

  it('prints it for a numeric zone too: +07 with --timezone Europe/Berlin', async () => {
    const run = await runJaga(['parse', '--no-enrich', '--timezone', 'Europe/Berlin', await inZone('+07')]);
    expect(run.stderr.split('\n')).toEqual([
      'hint: log times say "+07" (UTC+07:00) but --timezone is Europe/Berlin (UTC+01:00): every time is converted with the wrong offset; give the server\'s log_timezone with --timezone (SHOW log_timezone)',
      '{"records":12,"events":12,"failures":0}',
      '',
    ]);
  });

  it('prints only the summary when the zone agrees (WIB with Asia/Jakarta, UTC with UTC) or is unknown (XYZT)', async () => {
    for (const [zone, timezone] of [['WIB', 'Asia/Jakarta'], ['UTC', 'UTC'], ['XYZT', 'UTC']] as const) {
      const run = await runJaga(['parse', '--no-enrich', '--timezone', timezone, await inZone(zone)]);
      expect(run.stderr).toBe(`{"records":12,"events":12,"failures":0}\n`);
    }
  });
});
