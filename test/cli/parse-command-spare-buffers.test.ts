import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ParseCommandThreads, parseCommand } from '../../src/cli/parse-command.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CORPUS = join(HERE, '../../../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716.log');
const CORPUS_PREFIX = '%m [%p] %q%u@%d %r %a: ';

/** The worker entry as a `data:` URL that first registers tsx (as in parse-command-threads.test.ts). */
const TS_WORKER_URL = new URL(
  `data:text/javascript,${encodeURIComponent(
    `import { register } from ${JSON.stringify(pathToFileURL(join(HERE, '../../node_modules/tsx/dist/esm/api/index.mjs')).href)}; register();` +
      ` await import(${JSON.stringify(pathToFileURL(join(HERE, '../../src/cli/event-json-worker-main.ts')).href)});`,
  )}`,
);

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Runs `jaga parse ARGS` in this process with a stdout that completes each write later (its
 * callback on the next turn, as a pipe does), so written output buffers really are handed back
 * and written into again. Returns the bytes as each write saw them, and the writes whose bytes
 * changed between the write and its callback (a buffer reused too early).
 */
async function parseWithCallbacks(args: string[], threads: ParseCommandThreads): Promise<{ stdout: Buffer; changedBeforeDone: number; buffers: Set<ArrayBufferLike>; writes: number }> {
  const chunks: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const pending: Promise<void>[] = [];
  let changedBeforeDone = 0;
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: Uint8Array, callback?: (error?: Error | null) => void) => {
    const copy = Buffer.from(chunk);
    chunks.push(copy);
    buffers.add(chunk.buffer);
    pending.push(
      new Promise<void>((resolve) =>
        setImmediate(() => {
          if (!copy.equals(chunk)) changedBeforeDone++;
          callback?.();
          resolve();
        }),
      ),
    );
    return true;
  }) as unknown as typeof process.stdout.write);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  expect(await parseCommand(args, threads)).toBe(0);
  await Promise.all(pending);
  return { stdout: Buffer.concat(chunks), changedBeforeDone, buffers, writes: chunks.length };
}

describe('jaga parse on two threads: written output buffers are written into again', () => {
  it('gives exactly the one-thread output while buffers go round (main thread and worker), none changed before its write is done', async () => {
    const args = ['--format', 'stderr', '--log-line-prefix', CORPUS_PREFIX, CORPUS];
    const one = await parseWithCallbacks(args, { twoThreadMinBytes: Number.POSITIVE_INFINITY });
    const two = await parseWithCallbacks(args, { twoThreadMinBytes: 0, workerUrl: TS_WORKER_URL, segmentBytes: 16 * 1024 });
    expect(two.stdout.equals(one.stdout)).toBe(true);
    expect(two.changedBeforeDone).toBe(0);
    // ~87 segments, each at least one write; the main thread's buffers are the same objects when reused
    expect(two.writes).toBeGreaterThan(80);
    expect(two.buffers.size).toBeLessThan(two.writes);
  }, 120_000);
});
