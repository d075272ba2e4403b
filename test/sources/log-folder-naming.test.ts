import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { fileNameGlob } from '../../src/sources/file-name-glob.js';
import { DEFAULT_GLOB_BY_DESTINATION, pickLogDestination } from '../../src/sources/log-destination.js';
import { LogFolderSource } from '../../src/sources/log-folder-source.js';
import { Collector, sleep, tempFolder, waitFor } from './log-folder-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const fixture = (name: string): string => new URL(`../fixtures/sources/${name}`, import.meta.url).pathname;
const fixtureLines = (name: string): string[] => readFileSync(fixture(name), 'utf8').split('\n').slice(0, -1);

describe('fileNameGlob', () => {
  it('matches base names with *, ?, classes and alternatives', () => {
    const log = fileNameGlob('*.log');
    expect(['postgresql-Mon.log', '.log', 'postgresql.log.1', 'a.csv'].map(log)).toEqual([true, true, false, false]);
    const alt = fileNameGlob('postgresql-?.{log,csv}');
    expect(['postgresql-1.log', 'postgresql-2.csv', 'postgresql-12.log', 'postgresql-1.json'].map(alt)).toEqual([true, true, false, false]);
    const cls = fileNameGlob('[!b]*-[0-9].log');
    expect(['a-1.log', 'b-1.log', 'a-x.log'].map(cls)).toEqual([true, false, false]);
    expect(fileNameGlob('a+(b).log')('a+(b).log')).toBe(true);
  });

  it('rejects an empty pattern, a path and an unclosed brace', () => {
    expect(() => fileNameGlob('')).toThrow('invalid file name glob: ""');
    expect(() => fileNameGlob('log/*.log')).toThrow('invalid file name glob: "log/*.log"');
    expect(() => fileNameGlob('*.{log,csv')).toThrow('unclosed brace');
  });
});

describe('pickLogDestination', () => {
  it('prefers csvlog, then jsonlog, then stderr, and waits (null) when no log file is present', () => {
    expect(pickLogDestination(['a.log', 'a.csv', 'a.json'])).toBe('csvlog');
    expect(pickLogDestination(['a.log', 'a.json'])).toBe('jsonlog');
    expect(pickLogDestination(['a.log', 'notes.txt'])).toBe('stderr');
    expect(pickLogDestination(['notes.txt'])).toBeNull();
    expect(DEFAULT_GLOB_BY_DESTINATION).toEqual({ stderr: '*.log', csvlog: '*.csv', jsonlog: '*.json' });
  });
});

describe('LogFolderSource format auto', () => {
  it('reads only the csvlog files of a folder holding all three destinations and logs its choice', async () => {
    const folder = tempFolder();
    copyFileSync(fixture('pg15-stderr-excerpt.log'), join(folder.dir, 'postgresql-2026-11-29_171716.log'));
    copyFileSync(fixture('pg15-csvlog-excerpt.csv'), join(folder.dir, 'postgresql-2026-11-29_171716.csv'));
    copyFileSync(fixture('pg15-jsonlog-excerpt.json'), join(folder.dir, 'postgresql-2026-11-29_171716.json'));
    const stream = new PassThrough();
    const logged: string[] = [];
    stream.on('data', (d: Buffer) => logged.push(...d.toString('utf8').split('\n').filter(Boolean)));
    const source = new LogFolderSource({ id: 'pg1', dir: folder.dir, format: 'auto', rescanIntervalMs: 200, logger: createLogger({ stream }) });
    expect(source.destination).toBeNull();
    const collector = new Collector(source);
    cleanups.push(folder.cleanup, () => collector.stop());
    const csv = fixtureLines('pg15-csvlog-excerpt.csv');
    await waitFor(() => collector.lines.length >= csv.length, 'csv lines');
    await sleep(300);
    expect(source.destination).toBe('csvlog');
    expect(collector.lines).toEqual(csv);
    const picked = logged.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'log destination picked');
    expect(picked).toMatchObject({ source: 'pg1', destination: 'csvlog', glob: '*.csv', level: 'info' });
  });

  it('waits on an empty folder, then picks jsonlog when the first .json file appears', async () => {
    const folder = tempFolder();
    const source = new LogFolderSource({ id: 'pg1', dir: folder.dir, format: 'auto', rescanIntervalMs: 100 });
    const collector = new Collector(source);
    cleanups.push(folder.cleanup, () => collector.stop());
    await sleep(300);
    expect(source.destination).toBeNull();
    writeFileSync(join(folder.dir, 'postgresql.json'), readFileSync(fixture('pg15-jsonlog-excerpt.json')));
    const json = fixtureLines('pg15-jsonlog-excerpt.json');
    await waitFor(() => collector.lines.length >= json.length, 'json lines');
    expect(source.destination).toBe('jsonlog');
    expect(collector.lines).toEqual(json);
  });

  it('an explicit glob narrows the files of a fixed format', async () => {
    const folder = tempFolder();
    writeFileSync(join(folder.dir, 'postgresql-Mon.log'), 'monday\n');
    writeFileSync(join(folder.dir, 'other.log'), 'other\n');
    const collector = new Collector(new LogFolderSource({ id: 'pg1', dir: folder.dir, format: 'stderr', glob: 'postgresql-*.log', rescanIntervalMs: 100 }));
    cleanups.push(folder.cleanup, () => collector.stop());
    await waitFor(() => collector.lines.length >= 1, 'monday');
    await sleep(300);
    expect(collector.lines).toEqual(['monday']);
  });
});
