import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/open-store.js';
import type { Store } from '../../src/db/store.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { LogFolderPipelineSource } from '../../src/pipeline/log-folder-pipeline-source.js';
import type { SourceBatch } from '../../src/pipeline/pipeline-source.js';

/** One csvlog record (PostgreSQL 15, 26 columns) of exactly 256 bytes with its newline, number `n` in its message. */
function record256(n: number): string {
  const head = `2026-11-29 17:17:16.733 UTC,,,14458,"127.0.0.1:40975",6b0c5e1c.387a,1,"",2026-11-29 17:17:16 UTC,,0,LOG,00000,"connection received: host=127.0.0.1 port=${40000 + n} `;
  const tail = `",,,,,,,,,"","not initialized",,0\n`;
  return head + 'x'.repeat(256 - head.length - tail.length) + tail;
}

describe('LogFolderPipelineSource', () => {
  let store: Store;
  let dir: string;

  beforeAll(async () => {
    store = await openStore({ memory: true });
    dir = await mkdtemp(join(tmpdir(), 'jaga-pipeline-source-'));
  });

  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a backlog 256 KiB at a time: one batch per read (1,024 records of 256 bytes), the remainder last', async () => {
    const records = 2_600; // 665,600 bytes: two full reads and a remainder
    await writeFile(join(dir, 'postgresql-2026-11-29_171716.csv'), Array.from({ length: records }, (_, i) => record256(i)).join(''));
    const source = await LogFolderPipelineSource.open(
      { type: 'log_folder', name: 'pg', path: dir, format: 'csvlog', glob: null, logLinePrefix: null, timezone: 'UTC', startAt: 'beginning', server: 'crm' },
      { store, agent: 'test', enricher: null, telemetry: new Telemetry(createSilentLogger()) },
    );
    const abort = new AbortController();
    const batches: SourceBatch[] = [];
    let events = 0;
    for await (const batch of source.batches(abort.signal)) {
      batches.push(batch);
      events += batch.events.length;
      if (events === records) abort.abort();
    }
    await source.stop();
    const reads = batches.filter((batch) => (batch.bytesRead ?? 0) > 0);
    expect(reads.map((batch) => batch.bytesRead)).toEqual([262_144, 262_144, 141_312]);
    expect(events).toBe(records);
    expect(batches.at(-1)?.position).toEqual({ fingerprint: expect.any(String), offset: records * 256 });
  });
});
