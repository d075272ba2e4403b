import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogFolderSource } from '../../src/sources/log-folder-source.js';
import { Collector, sleep, tempFolder, waitFor } from './log-folder-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('LogFolderSource latency', () => {
  it('yields each of 200 appended lines once (prints p50/p99 write-to-delivery with the default 1 s re-scan; timing is not asserted)', async () => {
    const folder = tempFolder();
    const active = join(folder.dir, 'postgresql.log');
    appendFileSync(active, 'first line\n');
    const collector = new Collector(new LogFolderSource({ id: 'pg1', dir: folder.dir, format: 'stderr' }));
    cleanups.push(folder.cleanup, () => collector.stop());
    await waitFor(() => collector.lines.length === 1, 'first line');
    const latenciesMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      appendFileSync(active, `latency probe ${i}\n`);
      await collector.linesReached(i + 2);
      latenciesMs.push(performance.now() - started);
      await sleep(i % 10 === 0 ? 40 : 3);
    }
    const sorted = [...latenciesMs].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    console.log(`write-to-delivery latency over 200 writes: p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, max ${at(1).toFixed(2)} ms`);
    expect(collector.lines).toEqual(['first line', ...Array.from({ length: 200 }, (_, i) => `latency probe ${i}`)]);
  });
});
