import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, readdirSync, readFileSync, renameSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileCheckpoint } from '../../src/sources/file-checkpoint.js';
import { LogFolderSource } from '../../src/sources/log-folder-source.js';
import { Collector, LineWriter, linesHash, sleep, tempFolder, waitFor } from './log-folder-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const childScript = fileURLToPath(new URL('../fixtures/sources/tail-child.ts', import.meta.url));

describe('LogFolderSource checkpoints', () => {
  it('a restart from checkpoints() resumes each known file at its acked offset (renamed meanwhile) and reads a new file from 0', async () => {
    const folder = tempFolder();
    cleanups.push(folder.cleanup);
    const writer = new LineWriter();
    const active = join(folder.dir, 'postgresql.log');
    writer.append(active, 1000);
    const ackLimit = Buffer.byteLength(writer.written.slice(0, 600).map((l) => `${l}\n`).join(''));
    const first = new Collector(new LogFolderSource({ id: 'pg1', dir: folder.dir, format: 'stderr', rescanIntervalMs: 200, chunkBytes: 4096 }), {
      ack: (chunk) => chunk.type === 'data' && chunk.offset + chunk.bytes.length <= ackLimit,
    });
    await waitFor(() => first.lines.length === 1000, '1000 lines');
    const saved = first.source.checkpoints();
    await first.stop();
    expect(saved).toHaveLength(1);
    const acked = saved[0]!.offset;
    expect(acked).toBeLessThanOrEqual(ackLimit);
    expect(acked).toBeGreaterThan(ackLimit - 4096);
    // while stopped: more lines, a rename inside the glob, a new file
    writer.append(active, 100);
    renameSync(active, join(folder.dir, 'postgresql-1.log'));
    writer.append(active, 50);
    const second = new Collector(new LogFolderSource({ id: 'pg1', dir: folder.dir, format: 'stderr', rescanIntervalMs: 200, chunkBytes: 4096, checkpoints: saved }));
    cleanups.push(() => second.stop());
    const starts: number[] = [];
    writer.written.slice(0, 1100).reduce((offset, line) => (starts.push(offset), offset + Buffer.byteLength(line) + 1), 0);
    const ackedLines = starts.filter((start) => start < acked).length;
    const replayed = writer.written.slice(ackedLines, 1100);
    await waitFor(() => second.lines.length >= replayed.length + 50, 'second run');
    await sleep(400);
    expect(second.dataNotes()[0]).toMatchObject({ offset: acked, path: join(folder.dir, 'postgresql-1.log'), fingerprint: saved[0]!.fingerprint });
    expect(second.lines).toEqual([...replayed, ...writer.written.slice(1100)]);
    expect(linesHash([...first.lines.slice(0, ackedLines), ...second.lines])).toBe(linesHash(writer.written));
  });

  it('startAt end skips what files hold at the first scan (from their last line start); files appearing later are read from 0', async () => {
    const folder = tempFolder();
    cleanups.push(folder.cleanup);
    const writer = new LineWriter();
    writer.append(join(folder.dir, 'postgresql-1.log'), 100);
    writer.append(join(folder.dir, 'postgresql-2.log'), 50);
    appendFileSync(join(folder.dir, 'postgresql-2.log'), 'being written');
    const collector = new Collector(new LogFolderSource({ id: 'pg1', dir: folder.dir, format: 'stderr', startAt: 'end', rescanIntervalMs: 200 }));
    cleanups.push(() => collector.stop());
    await sleep(400);
    expect(collector.lines).toEqual([]);
    appendFileSync(join(folder.dir, 'postgresql-2.log'), ' now\n');
    const more = writer.append(join(folder.dir, 'postgresql-2.log'), 5);
    const later = writer.append(join(folder.dir, 'postgresql-3.log'), 10);
    await waitFor(() => collector.lines.length >= 16, '16 lines');
    await sleep(300);
    expect(collector.lines).toEqual(['being written now', ...more, ...later]);
  });

  it('kill -9 at random points while the folder is written and rotated: no line lost, repeats only past the last saved checkpoint', async () => {
    const logs = tempFolder('jaga-k9-logs-');
    const out = tempFolder('jaga-k9-out-');
    if (process.env.JAGA_KILL9_KEEP === undefined) cleanups.push(logs.cleanup, out.cleanup);
    else console.log(`kill -9 test folders kept: ${logs.dir} ${out.dir}`);
    let seed = Number(process.env.JAGA_KILL9_SEED ?? Date.now() % 100_000);
    console.log(`kill -9 test seed ${seed}`);
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const writer = new LineWriter('k9');
    const active = join(logs.dir, 'postgresql.log');
    let rotations = 0;
    let sinceRotation = 0;
    const writeFor = async (ms: number): Promise<void> => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const count = 1 + Math.floor(random() * 20);
        writer.append(active, count);
        sinceRotation += count;
        if (sinceRotation > 150) {
          const rotated = join(logs.dir, `postgresql-${++rotations}.log`);
          if (rotations % 2 === 0) renameSync(active, rotated);
          else {
            copyFileSync(active, rotated);
            truncateSync(active, 0);
          }
          sinceRotation = 0;
        }
        await sleep(2 + Math.floor(random() * 4));
      }
    };
    const children: ChildProcess[] = [];
    cleanups.push(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));
    const startChild = (run: number): { child: ChildProcess; exited: Promise<number | null> } => {
      const child = spawn(process.execPath, ['--import', 'tsx', childScript, logs.dir, out.dir, String(run)], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
      return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
    };
    const kills = 6;
    for (let run = 0; run < kills; run++) {
      const { child, exited } = startChild(run);
      await waitFor(() => existsSync(join(out.dir, `delivered-${run}.tsv`)), `child ${run} started`, 20_000);
      await writeFor(100 + Math.floor(random() * 900));
      child.kill('SIGKILL');
      await exited;
      await writeFor(Math.floor(random() * 150)); // rotations may happen while nobody watches
    }
    const last = startChild(kills);
    const writtenSet = new Set(writer.written);
    await waitFor(() => new Set(readDelivered(out.dir).flatMap((r) => r.entries.map((e) => e.line))).size >= writtenSet.size, 'every line delivered', 60_000);
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);

    const runs = readDelivered(out.dir);
    expect(runs).toHaveLength(kills + 1);
    const delivered = runs.flatMap((r) => r.entries.map((e) => e.line));
    expect(new Set(delivered)).toEqual(writtenSet);
    // saved checkpoints never go backwards: a run saves at least what it resumed from (even when
    // killed before its first scan)
    const regressed: string[] = [];
    for (let run = 1; run < runs.length; run++) {
      const now = new Map(runs[run]!.resumedFrom.map((c) => [c.fingerprint, c.offset]));
      for (const c of runs[run - 1]!.resumedFrom) {
        if ((now.get(c.fingerprint) ?? -1) < c.offset) regressed.push(`run ${run}: ${c.fingerprint} ${c.offset} -> ${now.get(c.fingerprint)}`);
      }
    }
    expect(regressed).toEqual([]);
    const belowCheckpoint: string[] = [];
    const repeatedWithinRun: string[] = [];
    for (const [run, { resumedFrom, entries }] of runs.entries()) {
      const resume = new Map(resumedFrom.map((c) => [c.fingerprint, c.offset]));
      const seen = new Set<string>();
      for (const e of entries) {
        if (e.offset < (resume.get(e.fingerprint) ?? 0)) belowCheckpoint.push(`run ${run}: ${e.fingerprint}@${e.offset}`);
        const key = `${e.fingerprint}@${e.offset}`;
        if (seen.has(key)) repeatedWithinRun.push(`run ${run}: ${key}`);
        seen.add(key);
      }
    }
    expect(belowCheckpoint).toEqual([]);
    expect(repeatedWithinRun).toEqual([]);
    expect(runs.at(-1)!.stopped).toBe(true);
    console.log(`kill -9 test: ${writer.written.length} lines written, ${rotations} rotations, ${delivered.length - writtenSet.size} repeated after ${kills} kills`);
  }, 120_000);
});

interface DeliveredRun {
  resumedFrom: FileCheckpoint[];
  entries: Array<{ fingerprint: string; offset: number; line: string }>;
  stopped: boolean;
}

/** Parses the child's delivered-<run>.tsv files in run order; a torn last line (killed mid-write) is ignored. */
function readDelivered(dir: string): DeliveredRun[] {
  const files = readdirSync(dir).filter((n) => n.startsWith('delivered-')).sort((a, b) => parseInt(a.slice(10), 10) - parseInt(b.slice(10), 10));
  return files.map((name) => {
    const path = join(dir, name);
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const rows = text.split('\n').slice(0, -1);
    const run: DeliveredRun = { resumedFrom: [], entries: [], stopped: false };
    for (const row of rows) {
      const [a, b, ...rest] = row.split('\t');
      if (a === '#resume') run.resumedFrom = JSON.parse(b ?? '[]') as FileCheckpoint[];
      else if (a === '#stopped') run.stopped = true;
      else run.entries.push({ fingerprint: a ?? '', offset: Number(b), line: rest.join('\t') });
    }
    return run;
  });
}
