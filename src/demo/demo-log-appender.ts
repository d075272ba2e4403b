import { open } from 'node:fs/promises';
import type { ShiftedCsvRecord } from './demo-time-shift.js';

/** What a DemoLogAppender writes, where and how fast. */
export interface DemoLogAppenderOptions {
  /** whole csvlog records in file order (times already shifted) */
  records: readonly ShiftedCsvRecord[];
  /** the log file appended to (created when missing) */
  path: string;
  /** replay speed-up: 4 writes 4 s of recorded time per wall second (> 0) */
  speed: number;
  /** wall clock, epoch ms; default Date.now */
  nowMs?: () => number;
  /** longest sleep between checks, ms; default 50 */
  tickMs?: number;
}

/** How an append run ended. */
export interface DemoAppendResult {
  /** records written */
  appended: number;
  /** true when every record was written (false: stopped by the signal first) */
  complete: boolean;
}

/**
 * Replays recorded csvlog records into a live log file at a speed-up (issue 8, `jaga demo`), as a
 * server would write them: a record is appended when (wall time since `run` started) x `speed`
 * reaches its offset from the first record's time. File order is kept: a record whose time is
 * earlier than a previous one's (csvlog is written by many backends) goes right after it. Each
 * write holds whole records only (all that are due at that moment), so a tailer never sees half a
 * record. A record without a readable time is due with the record before it.
 *
 * @example await new DemoLogAppender({ records, path: '/tmp/log/postgresql.csv', speed: 4 }).run(signal)
 */
export class DemoLogAppender {
  private written = 0;
  private readonly dueOffsetsMs: number[];

  /** @throws RangeError when `speed` is not a positive finite number */
  constructor(private readonly options: DemoLogAppenderOptions) {
    if (!Number.isFinite(options.speed) || options.speed <= 0) throw new RangeError(`speed must be a positive number, not ${options.speed}`);
    const firstMs = options.records.find((record) => !Number.isNaN(record.timeMs))?.timeMs ?? 0;
    let due = 0;
    this.dueOffsetsMs = options.records.map((record) => (due = Number.isNaN(record.timeMs) ? due : Math.max(due, record.timeMs - firstMs)));
  }

  /** records written so far */
  get appended(): number {
    return this.written;
  }

  /** recorded time the whole run spans, ms (last due offset) */
  get spanMs(): number {
    return this.dueOffsetsMs[this.dueOffsetsMs.length - 1] ?? 0;
  }

  /**
   * Appends every record on schedule until done or `signal` aborts; call once.
   * @throws the file system's error when the file cannot be opened or written
   */
  async run(signal: AbortSignal): Promise<DemoAppendResult> {
    const nowMs = this.options.nowMs ?? Date.now;
    const tickMs = this.options.tickMs ?? 50;
    const records = this.options.records;
    const startMs = nowMs();
    const handle = await open(this.options.path, 'a');
    try {
      while (this.written < records.length && !signal.aborted) {
        const elapsedMs = (nowMs() - startMs) * this.options.speed;
        let end = this.written;
        while (end < records.length && (this.dueOffsetsMs[end] as number) <= elapsedMs) end++;
        if (end > this.written) {
          let text = '';
          for (let i = this.written; i < end; i++) text += (records[i] as ShiftedCsvRecord).text;
          await handle.write(text);
          this.written = end;
          continue;
        }
        const waitMs = Math.min(tickMs, Math.max(1, ((this.dueOffsetsMs[end] as number) - elapsedMs) / this.options.speed));
        await sleep(waitMs, signal);
      }
    } finally {
      await handle.close();
    }
    return { appended: this.written, complete: this.written === records.length };
  }
}

/** Resolves after `ms` or as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
