import { appendFileSync, copyFileSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { LogFolderSource, type LogFolderSourceOptions } from '../../src/sources/log-folder-source.js';
import { Collector, fileEventCounts, LineWriter, linesHash, sleep, tempFolder, waitFor } from './log-folder-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A folder, a source on it (stderr, 200 ms re-scan) and a collector consuming it. */
function tail(options: Partial<LogFolderSourceOptions> = {}, dir?: string) {
  const folder = dir ? { dir, cleanup: () => undefined } : tempFolder();
  const telemetry = new Telemetry(createSilentLogger());
  const source = new LogFolderSource({ id: 'pg1', dir: folder.dir, format: 'stderr', rescanIntervalMs: 200, telemetry, ...options });
  const collector = new Collector(source);
  cleanups.push(folder.cleanup, () => collector.stop());
  return { dir: folder.dir, source, collector, telemetry };
}

/** Waits until exactly `lines` are delivered, then a little longer to catch repeats, and checks count + hash. */
async function expectDeliveredExactly(collector: Collector, lines: readonly string[]): Promise<void> {
  await waitFor(() => collector.lines.length >= lines.length, `${lines.length} lines (have ${collector.lines.length})`);
  await sleep(450);
  expect(collector.lines.length).toBe(lines.length);
  expect(linesHash(collector.lines)).toBe(linesHash(lines));
  expect(collector.gaps).toEqual([]);
}

describe('LogFolderSource rotation schemes', () => {
  it('write / rename out of the glob / create: the renamed file is read to its end (even writes after the rename), then dropped', async () => {
    const { dir, collector, telemetry } = tail();
    const writer = new LineWriter();
    const active = join(dir, 'postgresql.log');
    writer.append(active, 500);
    await waitFor(() => collector.lines.length >= 1, 'first line');
    renameSync(active, join(dir, 'postgresql.log.1'));
    writer.append(join(dir, 'postgresql.log.1'), 10);
    writer.append(active, 500);
    await expectDeliveredExactly(collector, writer.written);
    await waitFor(() => collector.notes.some((n) => n.type === 'end'), 'end chunk of the renamed file');
    const end = collector.notes.find((n) => n.type === 'end');
    expect(end).toMatchObject({ path: join(dir, 'postgresql.log'), length: 0 });
    expect(await fileEventCounts(telemetry, 'pg1')).toEqual({ discovered: 2, gone: 1, dropped: 1 });
  });

  it('rename inside the glob keeps the identity and position (a real corpus excerpt, no line read twice)', async () => {
    const { dir, collector, telemetry } = tail();
    const corpus = readFileSync(new URL('../fixtures/sources/pg15-stderr-excerpt.log', import.meta.url), 'utf8').split('\n').slice(0, -1);
    const active = join(dir, 'postgresql.log');
    appendFileSync(active, corpus.slice(0, 200).map((l) => `${l}\n`).join(''));
    await waitFor(() => collector.lines.length >= 200, 'first 200 corpus lines');
    renameSync(active, join(dir, 'postgresql-1.log'));
    appendFileSync(join(dir, 'postgresql-1.log'), corpus.slice(200, 300).map((l) => `${l}\n`).join(''));
    appendFileSync(active, corpus.slice(300).map((l) => `${l}\n`).join(''));
    await expectDeliveredExactly(collector, corpus);
    expect(new Set(collector.dataNotes().map((n) => n.fingerprint)).size).toBe(2);
    expect(await fileEventCounts(telemetry, 'pg1')).toEqual({ discovered: 2, rotated: 1 });
  });

  it('copytruncate: the copy carries the old fingerprint and is continued from the known offset, never re-read', async () => {
    const { dir, collector, telemetry } = tail();
    const writer = new LineWriter();
    const active = join(dir, 'app.log');
    writer.append(active, 300);
    await waitFor(() => collector.lines.length === 300, '300 lines');
    collector.pause();
    writer.append(active, 200); // not read yet: the consumer does not pull
    copyFileSync(active, join(dir, 'app-1.log'));
    truncateSync(active, 0);
    writer.append(active, 400); // larger than before: the size alone does not show the truncation
    collector.resume();
    await expectDeliveredExactly(collector, writer.written);
    const fingerprints = [...new Set(collector.dataNotes().map((n) => n.fingerprint))];
    expect(fingerprints.length).toBe(2);
    expect(collector.dataNotes().filter((n) => n.fingerprint === fingerprints[0]).map((n) => n.path).at(-1)).toBe(join(dir, 'app-1.log'));
    expect(await fileEventCounts(telemetry, 'pg1')).toEqual({ discovered: 2, rotated: 1 });
  });

  it('truncate-in-place to the same name (log_truncate_on_rotation, postgresql-%a.log), shorter and longer than before', async () => {
    const { dir, collector, telemetry } = tail();
    const writer = new LineWriter();
    const monday = join(dir, 'postgresql-Mon.log');
    writer.append(monday, 200);
    await waitFor(() => collector.lines.length === 200, '200 lines');
    writeFileSync(monday, ''); // O_TRUNC, as the server reopens it a week later
    writer.append(monday, 20);
    await waitFor(() => collector.lines.length === 220, '220 lines');
    collector.pause();
    writeFileSync(monday, '');
    writer.append(monday, 500);
    collector.resume();
    await expectDeliveredExactly(collector, writer.written);
    expect(statSync(monday).size).toBeGreaterThan(0);
    expect(collector.notes.filter((n) => n.type === 'end').map((n) => n.length)).toEqual([0, 0]);
    expect(await fileEventCounts(telemetry, 'pg1')).toEqual({ discovered: 3, truncated: 2, dropped: 2 });
  });

  it('a new file that reuses a deleted file’s inode is a new file (read from 0), live and across a restart', async () => {
    const folder = tempFolder();
    cleanups.push(folder.cleanup);
    const writer = new LineWriter();
    // ext4 hands a freed inode out again to the next file created nearby. The source frees it when it
    // ends the deleted file, so the new file is created in the same tick as the `end` chunk arrives;
    // a parallel test may still take the inode first, so this is retried a few times.
    let previous = join(folder.dir, 'a-0.log');
    let attempt = 0;
    let reusedLive = false;
    let created = false;
    const first = new Collector(new LogFolderSource({ id: 'pg1', dir: folder.dir, format: 'stderr', rescanIntervalMs: 200 }), {
      onChunk: (chunk) => {
        if (chunk.type !== 'end') return;
        previous = join(folder.dir, `a-${++attempt}.log`);
        writer.append(previous, 30);
        created = true;
      },
    });
    writer.append(previous, 100);
    while (!reusedLive && attempt < 5) {
      await waitFor(() => first.lines.length === writer.written.length, `${previous} read`);
      const inode = statSync(previous).ino;
      created = false;
      unlinkSync(previous);
      await waitFor(() => created, `${previous} dropped`);
      reusedLive = statSync(previous).ino === inode;
    }
    expect(reusedLive).toBe(true);
    await waitFor(() => first.lines.length === writer.written.length, 'reusing file read');
    const saved = first.source.checkpoints();
    await first.stop();
    // while stopped: the last file is deleted and a new one takes its inode; its checkpoint must not apply
    const inode = statSync(previous).ino;
    unlinkSync(previous);
    const c = join(folder.dir, 'c.log');
    writer.append(c, 7);
    expect(statSync(c).ino).toBe(inode);
    const second = new Collector(new LogFolderSource({ id: 'pg1', dir: folder.dir, format: 'stderr', rescanIntervalMs: 200, checkpoints: saved }));
    cleanups.push(() => second.stop());
    await waitFor(() => second.lines.length >= 7, 'c.log');
    await sleep(300);
    expect(second.dataNotes()[0]?.offset).toBe(0);
    expect([...first.lines, ...second.lines]).toEqual(writer.written);
  });
});

describe('LogFolderSource lines and files', () => {
  it('holds a partial line until its newline arrives 2 s later, then delivers it once, whole', async () => {
    const { dir, collector } = tail();
    const writer = new LineWriter();
    const active = join(dir, 'postgresql.log');
    writer.append(active, 3);
    await waitFor(() => collector.lines.length === 3, '3 lines');
    appendFileSync(active, '2026-11-29 17:20:00.000 UTC [4242] LOG:  AUDIT: SESSION,1,1,READ,SELECT,');
    await sleep(2000);
    expect(collector.lines.length).toBe(3);
    const chunksBefore = collector.notes.filter((n) => n.type === 'data').length;
    appendFileSync(active, 'TABLE,public.customers,SELECT 1,<none>,1\n');
    await waitFor(() => collector.lines.length === 4, 'completed line');
    await sleep(300);
    expect(collector.lines.slice(3)).toEqual(['2026-11-29 17:20:00.000 UTC [4242] LOG:  AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.customers,SELECT 1,<none>,1']);
    expect(collector.notes.filter((n) => n.type === 'data').length).toBe(chunksBefore + 1);
  });

  it('a burst of 100k lines arrives once, in order, in chunks no larger than chunkBytes', async () => {
    const { dir, collector } = tail({ chunkBytes: 64 * 1024 });
    const writer = new LineWriter('burst');
    const active = join(dir, 'postgresql.log');
    for (let i = 0; i < 100; i++) writer.append(active, 1000);
    await expectDeliveredExactly(collector, writer.written);
    expect(writer.written.length).toBe(100_000);
    expect(Math.max(...collector.dataNotes().map((n) => n.length))).toBeLessThanOrEqual(64 * 1024);
  });

  it('a new 150-byte file after a rotation is identified and read at once; an incomplete first line waits', async () => {
    const { dir, collector } = tail();
    const writer = new LineWriter();
    writer.append(join(dir, 'postgresql-1.log'), 50);
    await waitFor(() => collector.lines.length === 50, 'first file');
    const record = `2026-11-29 17:18:52.725 UTC [14694] dba_admin@crm 127.0.0.2(40000) [unknown]: FATAL:  password authentication failed for user "dba_admin"`;
    const line = record.padEnd(150 - 1, ' ');
    writeFileSync(join(dir, 'postgresql-2.log'), `${line}\n`);
    expect(statSync(join(dir, 'postgresql-2.log')).size).toBe(150);
    await waitFor(() => collector.lines.length === 51, 'the 150-byte file');
    expect(collector.lines[50]).toBe(line);
    writeFileSync(join(dir, 'postgresql-3.log'), 'no newline yet');
    await sleep(500);
    expect(collector.lines.length).toBe(51);
    appendFileSync(join(dir, 'postgresql-3.log'), ' now\n');
    await waitFor(() => collector.lines.length === 52, 'the third file');
    expect(collector.lines[51]).toBe('no newline yet now');
  });

  it('a file deleted mid-read is read to its end through the open descriptor, partial last line in the end chunk', async () => {
    const { dir, collector, telemetry } = tail({ chunkBytes: 16 * 1024 });
    const writer = new LineWriter();
    const active = join(dir, 'postgresql.log');
    writer.append(active, 20_000);
    appendFileSync(active, 'last record without newline');
    await waitFor(() => collector.lines.length > 0, 'first chunk');
    collector.pause();
    const deliveredAtDelete = collector.lines.length;
    unlinkSync(active);
    collector.resume();
    await expectDeliveredExactly(collector, [...writer.written, 'last record without newline']);
    expect(deliveredAtDelete).toBeLessThan(20_000);
    expect(collector.notes.filter((n) => n.type === 'end').map((n) => n.length)).toEqual(['last record without newline'.length]);
    expect(await fileEventCounts(telemetry, 'pg1')).toEqual({ discovered: 1, gone: 1, dropped: 1 });
  });

  it('reads older files before newer ones (by mtime at discovery) and emits idle once a file has no more lines', async () => {
    const folder = tempFolder();
    const writer = new LineWriter();
    const names = ['postgresql-c.log', 'postgresql-a.log', 'postgresql-b.log'];
    const expected: string[] = [];
    names.forEach((name, i) => {
      expected.push(...writer.append(join(folder.dir, name), 10));
      const when = new Date(Date.UTC(2026, 10, 29, 10 + i));
      utimesSync(join(folder.dir, name), when, when);
    });
    const { collector } = tail({}, folder.dir);
    cleanups.push(folder.cleanup);
    await expectDeliveredExactly(collector, expected);
    expect([...new Set(collector.dataNotes().map((n) => n.path))]).toEqual(names.map((n) => join(folder.dir, n)));
    expect(collector.notes.filter((n) => n.type === 'idle').map((n) => n.path)).toEqual(names.map((n) => join(folder.dir, n)));
  });

  it('a second file with the same first line is a different file (inode tie-break); a plain copy of a live file is not re-read', async () => {
    const { dir, collector } = tail();
    const header = '2026-11-29 17:17:16.517 UTC [14439] LOG:  starting PostgreSQL 15.18';
    writeFileSync(join(dir, 'one.log'), `${header}\nbody of one\n`);
    await waitFor(() => collector.lines.length === 2, 'one.log');
    writeFileSync(join(dir, 'two.log'), `${header}\nbody of two\n`);
    copyFileSync(join(dir, 'one.log'), join(dir, 'one-backup.log'));
    await waitFor(() => collector.lines.length === 4, 'two.log');
    await sleep(500);
    expect(collector.lines).toEqual([header, 'body of one', header, 'body of two']);
    const fingerprints = [...new Set(collector.dataNotes().map((n) => n.fingerprint))];
    expect(fingerprints.length).toBe(2);
    const twoIno = statSync(join(dir, 'two.log'));
    expect(fingerprints[1]).toBe(`${fingerprints[0]}~${twoIno.dev}.${twoIno.ino}`);
  });
});
