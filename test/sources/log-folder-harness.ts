import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileChunk } from '../../src/sources/file-chunk.js';
import type { LogFolderSource } from '../../src/sources/log-folder-source.js';
import type { Telemetry } from '../../src/observe/telemetry.js';

/** A fresh temporary folder; `cleanup` removes it. */
export function tempFolder(prefix = 'jaga-tail-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** SHA-256 hex of lines joined by `\n` (the order matters). */
export function linesHash(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Makes unique log-like lines (`<tag> <n> ...` padded to varying lengths) and remembers them in write order. */
export class LineWriter {
  readonly written: string[] = [];
  private seq = 0;

  constructor(private readonly tag = 'line') {}

  /** A new unique line (no newline). */
  make(): string {
    const n = this.seq++;
    return `2026-11-29 17:17:16.${String(n % 1000).padStart(3, '0')} UTC [${1000 + n}] ${this.tag} ${n} ${'x'.repeat((n * 7) % 90)}`;
  }

  /** Appends `count` new lines to `path` in one write and records them. Returns the lines. */
  append(path: string, count: number): string[] {
    const lines = Array.from({ length: count }, () => this.make());
    appendFileSync(path, lines.map((l) => `${l}\n`).join(''));
    this.written.push(...lines);
    return lines;
  }
}

/** Metadata of one delivered chunk (no content). */
export interface ChunkNote {
  type: FileChunk['type'];
  fingerprint: string;
  path: string;
  offset: number;
  length: number;
}

/**
 * Consumes a source in the background like the pipeline would: records delivered lines in order
 * (an `end` chunk's partial bytes count as one line), acks every chunk, checks that each file's data
 * chunks are contiguous, and can pause pulling (the source then reads nothing: backpressure).
 */
export class Collector {
  readonly lines: string[] = [];
  readonly notes: ChunkNote[] = [];
  /** contiguity violations: `fingerprint: expected X got Y` */
  readonly gaps: string[] = [];
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private readonly nextOffset = new Map<string, number>();
  private gate: Promise<void> | null = null;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];
  private openGate: (() => void) | null = null;

  constructor(
    readonly source: LogFolderSource,
    private readonly options: {
      /** whether to ack a chunk (default all) */
      ack?: (chunk: FileChunk) => boolean;
      /** called synchronously as each chunk arrives (before the source runs again) */
      onChunk?: (chunk: FileChunk) => void;
    } = {},
  ) {
    this.done = this.run();
  }

  /** Stops pulling after the chunk being delivered now. */
  pause(): void {
    this.gate ??= new Promise((resolve) => (this.openGate = resolve));
  }

  resume(): void {
    this.openGate?.();
    this.gate = null;
    this.openGate = null;
  }

  /** Resolves as soon as `count` lines have been delivered (no polling delay: for latency measurements). */
  linesReached(count: number): Promise<void> {
    if (this.lines.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Notes of the data chunks delivered. */
  dataNotes(): ChunkNote[] {
    return this.notes.filter((n) => n.type === 'data');
  }

  async stop(): Promise<void> {
    this.resume();
    this.controller.abort();
    await this.done;
    await this.source.stop();
  }

  private async run(): Promise<void> {
    for await (const chunk of this.source.chunks(this.controller.signal)) {
      this.record(chunk);
      if (this.gate) await this.gate;
    }
  }

  private record(chunk: FileChunk): void {
    this.options.onChunk?.(chunk);
    if (chunk.type === 'idle') {
      this.notes.push({ type: 'idle', fingerprint: chunk.fingerprint, path: chunk.path, offset: -1, length: 0 });
      return;
    }
    this.notes.push({ type: chunk.type, fingerprint: chunk.fingerprint, path: chunk.path, offset: chunk.offset, length: chunk.bytes.length });
    const expected = this.nextOffset.get(chunk.fingerprint);
    if (expected !== undefined && expected !== chunk.offset) this.gaps.push(`${chunk.fingerprint}: expected ${expected} got ${chunk.offset}`);
    this.nextOffset.set(chunk.fingerprint, chunk.offset + chunk.bytes.length);
    const text = chunk.bytes.toString('utf8');
    if (chunk.type === 'data') {
      const parts = text.split('\n');
      parts.pop();
      this.lines.push(...parts);
    } else if (text.length > 0) this.lines.push(text);
    for (const waiter of this.waiters.filter((w) => this.lines.length >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (this.options.ack?.(chunk) ?? true) this.source.ack({ fingerprint: chunk.fingerprint, offset: chunk.offset + chunk.bytes.length });
  }
}

/** Polls `predicate` every 10 ms until true; throws with `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Counts of the `log_file` telemetry event by `event` label for one source. */
export async function fileEventCounts(telemetry: Telemetry, sourceId: string): Promise<Record<string, number>> {
  const metric = telemetry.registry.getSingleMetric('jaga_log_file_total');
  const counts: Record<string, number> = {};
  if (!metric) return counts;
  for (const value of (await metric.get()).values) {
    if (value.labels.source === sourceId) counts[String(value.labels.event)] = value.value;
  }
  return counts;
}
