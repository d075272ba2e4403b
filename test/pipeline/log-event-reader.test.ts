import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { LogEventReader, type LogEventBatch } from '../../src/pipeline/log-event-reader.js';
import { LogFolderSource } from '../../src/sources/log-folder-source.js';
import { parseLogFile } from '../helpers/parse-log-file.js';
import { RotatingLogWriter, WRITER_LOG_LINE_PREFIX } from '../helpers/rotating-log-writer.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-reader-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Reads batches in the background, acking each position as the pipeline would; `stop()` ends it. */
function follow(reader: LogEventReader, source: LogFolderSource): { batches: LogEventBatch[]; events: () => AccessEvent[]; stop: () => Promise<void> } {
  const controller = new AbortController();
  const batches: LogEventBatch[] = [];
  const done = (async () => {
    for await (const batch of reader.batches(controller.signal)) {
      batches.push(batch);
      if (batch.position) source.ack(batch.position);
    }
  })();
  const stop = async (): Promise<void> => {
    controller.abort();
    await source.stop();
    await done;
  };
  cleanups.push(stop);
  return { batches, events: () => batches.flatMap((b) => b.events), stop };
}

async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const withoutPath = (event: AccessEvent): unknown => ({ ...event, source: { ...event.source, file: null } });

describe('LogEventReader', () => {
  it('delivers a rotated file whole, its last held record included, before the records of the file after it', async () => {
    const dir = tempDir();
    const writer = new RotatingLogWriter(dir);
    writer.append(9);
    writer.rotate();
    writer.append(5);
    const source = new LogFolderSource({ id: 'r1', dir, format: 'stderr' });
    const run = follow(new LogEventReader(source, 'r1', { logLinePrefix: WRITER_LOG_LINE_PREFIX }), source);
    await until(() => run.events().length >= 14, '14 events');

    const options = { format: 'stderr' as const, logLinePrefix: WRITER_LOG_LINE_PREFIX, server: 'r1' };
    const rotated = await parseLogFile(join(dir, 'postgresql-0001.log'), options);
    const active = await parseLogFile(join(dir, 'postgresql.log'), options);
    expect(rotated.events).toHaveLength(9);
    expect(active.events).toHaveLength(5);
    expect(run.events().map(withoutPath)).toEqual([...rotated.events, ...active.events].map(withoutPath));
    // The rotated file's 9th record is flushed as its own batch the moment the source moves on.
    const lastOfRotated = run.batches.find((b) => b.events.some((e) => e.id === rotated.events[8]!.id))!;
    expect(lastOfRotated.events.map((e) => e.id)).toEqual([rotated.events[8]!.id]);
    expect(lastOfRotated.position).toEqual({ fingerprint: rotated.events[8]!.source.fingerprint, offset: statSync(join(dir, 'postgresql-0001.log')).size });
  });

  it('gives positions on record boundaries only: each is where the next delivered record of its file starts, or the file size', async () => {
    const dir = tempDir();
    const writer = new RotatingLogWriter(dir);
    writer.append(40);
    const source = new LogFolderSource({ id: 'r2', dir, format: 'stderr', chunkBytes: 700 });
    const run = follow(new LogEventReader(source, 'r2', { logLinePrefix: WRITER_LOG_LINE_PREFIX }), source);
    await until(() => run.events().length >= 40, '40 events');
    writer.append(3);
    await until(() => run.events().length >= 43, '43 events');

    const offsets = run.events().map((e) => e.source.offset);
    const size = statSync(writer.activePath).size;
    const boundaries = new Set([...offsets, size]);
    const positions = run.batches.map((b) => b.position!.offset);
    expect(positions.filter((p) => !boundaries.has(p))).toEqual([]);
    // ... and never ahead of what was delivered: a position past a record comes after that record's batch.
    let delivered = 0;
    for (const batch of run.batches) {
      delivered += batch.events.length;
      const nextOffset = delivered < offsets.length ? offsets[delivered]! : size;
      expect(batch.position!.offset).toBeLessThanOrEqual(nextOffset);
    }
    expect(positions.at(-1)).toBe(size);
    expect(run.batches.length).toBeGreaterThan(10);
  });

  it('counts a bad record as a failure (batch.failures and onFailure, without its content) and keeps reading', async () => {
    const dir = tempDir();
    const path = join(dir, 'postgresql.csv');
    copyFileSync(new URL('../fixtures/csvlog/pg15-excerpt.csv', import.meta.url), path);
    const good = await parseLogFile(path, { format: 'csvlog', server: 'r3' });
    const badOffset = statSync(path).size;
    appendFileSync(path, '2026-11-29 17:17:17.000 UTC,too,few,columns\n');
    const telemetry = new Telemetry(createSilentLogger());
    const reported: Array<{ labels: Record<string, string>; fields: unknown }> = [];
    const source = new LogFolderSource({ id: 'r3', dir, format: 'auto', telemetry });
    const run = follow(
      new LogEventReader(source, 'r3', { onFailure: (labels, fields) => reported.push({ labels, fields }) }),
      source,
    );
    await until(() => reported.length === 1, 'the failure');
    const failures = run.batches.flatMap((b) => b.failures);
    expect(source.destination).toBe('csvlog');
    expect(failures).toEqual([{ reason: 'wrong_column_count', source: { id: 'r3', file: path, fingerprint: good.events[0]!.source.fingerprint, offset: badOffset }, byteLength: 44 }]);
    expect(reported).toEqual([{ labels: { source: 'r3', format: 'csvlog', reason: 'wrong_column_count' }, fields: { file: path, offset: badOffset, byte_length: 44 } }]);

    appendFileSync(path, `${readFileSync(path, 'utf8').split('\n')[0]}\n`);
    await until(() => run.events().length === good.events.length + 1, 'the record after the bad one');
    expect(run.events().slice(0, good.events.length).map(withoutPath)).toEqual(good.events.map(withoutPath));
    expect(run.events().at(-1)!.source.offset).toBe(badOffset + 44);
  });
});
