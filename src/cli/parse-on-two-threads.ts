import { Worker } from 'node:worker_threads';
import type { AccessEvent, ParseFailure } from '../domain/access-event.js';
import type { QueryEnricher } from '../enrich/query-enricher.js';
import { withCarriedStatement } from '../parse/event-builder.js';
import type { LogFormat } from '../parse/log-format.js';
import { StatementOnceTracker } from '../parse/statement-once-tracker.js';
import type { EventJsonSerializer } from './event-json-serializer.js';
import type { EventJsonWorkerData, SpareBuffersMessage } from './event-json-worker.js';
import { canReplaySegmentMemory, replaySegmentMemory } from './parse-segment-memory.js';
import { SegmentReader } from './parse-segment-reader.js';
import { type SegmentInput, type SegmentParseOptions, type SegmentResult, SegmentRun } from './parse-segment-run.js';
import { type LineWriter, SpareBuffers } from './write-lines.js';

/** Segments read ahead of the one being written (their bytes and results are held). */
const READ_AHEAD_SEGMENTS = 4;
/** Most segments queued on the worker. */
const WORKER_QUEUE_SEGMENTS = 2;
/** Written output buffers posted back to the worker in one message. */
const SPARES_PER_MESSAGE = 4;

/** What `parseOnTwoThreads` needs of `jaga parse`. */
export interface TwoThreadParse {
  workerUrl: URL;
  execArgv: string[] | undefined;
  /** the worker's options; `data.enrich` must be `enricher !== null` */
  data: EventJsonWorkerData;
  /** this thread's enricher, or null for `--no-enrich` */
  enricher: QueryEnricher | null;
  /** this thread's serializer of events as JSON lines */
  serializer: EventJsonSerializer;
  /** the chunk at a byte position (empty at the end) @throws CliError */
  readChunk: (position: number) => Promise<Buffer>;
  /** smallest segment, bytes */
  segmentBytes: number;
  writer: LineWriter;
  /** counts every record, event and failure of the file */
  summary: { records: number; events: number; failures: number };
  /** receives the file's failures in file order */
  addFailure: (format: LogFormat, failure: ParseFailure) => void;
  /** called after each written segment (reports the failures added) */
  afterWrite: () => Promise<void>;
}

/**
 * Parses a whole file (to its end) on two threads with exactly the output of one parser on one
 * thread. The file is cut into segments at line starts (`SegmentReader`); each segment is parsed
 * from its first byte by a parser restarted there (exactly as a fresh one), by whichever thread is
 * free: the worker is kept two segments ahead, and the main thread parses the next segment nobody
 * has taken whenever the one it must write next is not ready. The main thread writes the segments
 * in file order, once each is proven: its parser completed every record at its end (so the next
 * segment's parser starts where one parser would have started a record), and its
 * log_statement_once memory replays onto the file's (`replaySegmentMemory`), which also completes
 * the events whose statement was printed in an earlier segment. A segment
 * that fails either check is parsed again by the main thread on the file's memory, running on
 * into the next segments until a segment end is a record end; their speculative results are
 * dropped. A read error is thrown after the output before it is written, as on one thread.
 * @throws CliError when unreadable; the worker's error if it fails
 */
export async function parseOnTwoThreads(t: TwoThreadParse): Promise<void> {
  const worker = new SegmentWorker(t.workerUrl, t.execArgv, t.data);
  const options: SegmentParseOptions = { ...t.data, enricher: t.enricher, serializer: t.serializer };
  // Output buffers, once written, are written into again (fresh memory costs a page fault per 4 KiB):
  // this thread keeps up to its limit, the others go back to the worker.
  const spares = new SpareBuffers();
  const recycle = (buffer: ArrayBufferLike): void => {
    if (!spares.give(buffer)) worker.giveSpare(buffer, spares.bytes);
  };
  /** this thread's parser of every run (one at a time) */
  const run = new SegmentRun(options, spares);
  const reader = new SegmentReader(t.data.format, t.readChunk, t.segmentBytes);
  const fileMemory = new StatementOnceTracker();
  /** segments read and not yet written */
  const inputs = new Map<number, SegmentInput>();
  /** the segments posted to the worker */
  const onWorker = new Set<number>();
  /** results of segments the main thread parsed ahead of their turn */
  const parsedAhead = new Map<number, SegmentResult>();
  let readAll = false;
  const readUpTo = async (index: number): Promise<void> => {
    while (!readAll && !inputs.has(index)) {
      const input = await reader.next();
      if (input === null) readAll = true;
      else inputs.set(input.index, input);
    }
  };
  /** The first segment after `index` that nobody has taken, or undefined. */
  const untakenAfter = (index: number): SegmentInput | undefined => {
    for (const [k, input] of inputs) if (k > index && !onWorker.has(k) && !parsedAhead.has(k)) return input;
    return undefined;
  };
  /** The speculative result of segment `index`: parsed here, or by the worker while this thread parses ahead. */
  const resultOf = async (index: number, input: SegmentInput): Promise<SegmentResult> => {
    for (;;) {
      const ahead = parsedAhead.get(index);
      if (ahead !== undefined) {
        parsedAhead.delete(index);
        return ahead;
      }
      if (!onWorker.has(index)) return parseSegment(run, input);
      // Let the worker's answers in (they wait for this thread's event loop) and keep it fed before
      // choosing to parse ahead: without this turn, reads served from memory never yield, and this
      // thread parsed several segments in a row while the worker sat idle with its answers unread.
      await nextTurn();
      feedWorker(index);
      if (worker.has(index)) return worker.result(index);
      const untaken = untakenAfter(index);
      if (untaken === undefined) return worker.result(index);
      parsedAhead.set(untaken.index, parseSegment(run, untaken));
      await readUpTo(index + READ_AHEAD_SEGMENTS);
      feedWorker(index);
    }
  };
  /** Posts the untaken segments after `index` to the worker while it has room. */
  const feedWorker = (index: number): void => {
    for (let input = untakenAfter(index); input !== undefined && worker.queued < WORKER_QUEUE_SEGMENTS; input = untakenAfter(input.index)) {
      worker.parse(input);
      onWorker.add(input.index);
    }
  };
  const write = async (result: SegmentResult): Promise<void> => {
    for (const piece of result.pieces) {
      if (piece instanceof Uint8Array) t.writer.addBytes(piece, () => recycle(piece.buffer));
      else {
        t.enricher?.enrich(piece);
        t.writer.add(t.serializer.serialize(piece));
      }
    }
    for (const failure of result.failures) t.addFailure(t.data.format, failure);
    t.summary.records += result.records;
    t.summary.events += result.events;
    t.summary.failures += result.failures.length;
    await t.writer.flush();
    await t.afterWrite();
  };
  try {
    for (let index = 0; ; ) {
      await readUpTo(index + READ_AHEAD_SEGMENTS);
      feedWorker(index);
      const input = inputs.get(index);
      if (input === undefined) break;
      const result = await resultOf(index, input);
      const memory = result.memory;
      if (result.accepted && memory !== null && canReplaySegmentMemory(fileMemory, memory)) {
        replaySegmentMemory(fileMemory, memory, (piece, carried) => {
          const event = result.pieces[piece] as AccessEvent;
          event.audit = withCarriedStatement(event.audit as NonNullable<AccessEvent['audit']>, carried);
        });
        inputs.delete(index);
        await write(result);
        index++;
        continue;
      }
      // Parse again from this segment's start on the file's memory, until a segment end is a record end.
      run.begin(input.startOffset, fileMemory);
      let last = input;
      let accepted = run.add(input, 0);
      inputs.delete(index);
      while (!accepted) {
        const skip = (last.nextLine as Uint8Array).byteLength;
        await readUpTo(last.index + 1);
        last = inputs.get(last.index + 1) as SegmentInput;
        inputs.delete(last.index);
        if (onWorker.has(last.index)) worker.drop(last.index);
        parsedAhead.delete(last.index);
        accepted = run.add(last, skip);
      }
      await write(run.result(index, true));
      index = last.index + 1;
    }
    if (reader.error !== null) throw reader.error;
  } finally {
    await worker.stop();
  }
}

/** Resolves after the event loop has run once (its pending messages and I/O callbacks included). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Parses one segment speculatively on `run` (restarted at its start with a fresh memory). */
function parseSegment(run: SegmentRun, input: SegmentInput): SegmentResult {
  run.begin(input.startOffset);
  const accepted = run.add(input, 0);
  return run.result(input.index, accepted);
}

/** The worker thread of `parseOnTwoThreads`: segments posted in, results awaited by index. */
class SegmentWorker {
  private readonly worker: Worker;
  private readonly arrived = new Map<number, SegmentResult>();
  /** indexes whose results are no longer wanted */
  private readonly dropped = new Set<number>();
  private waiting: { index: number; resolve: (result: SegmentResult) => void; reject: (error: Error) => void } | null = null;
  private failed: Error | null = null;
  private stopping = false;
  /** written output buffers not posted back yet */
  private readonly spares: ArrayBuffer[] = [];
  /** segments posted whose results have not arrived */
  queued = 0;

  constructor(url: URL, execArgv: string[] | undefined, data: EventJsonWorkerData) {
    this.worker = new Worker(url, { workerData: data, execArgv, stdout: false, stderr: false });
    this.worker.on('message', (result: SegmentResult) => {
      this.queued--;
      if (this.dropped.delete(result.index)) return;
      if (this.waiting !== null && this.waiting.index === result.index) {
        this.waiting.resolve(result);
        this.waiting = null;
      } else this.arrived.set(result.index, result);
    });
    this.worker.on('error', (error: Error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (!this.stopping) this.fail(new Error(`jaga parse worker thread exited early (code ${code})`));
    });
  }

  /** Posts a copy of a segment (the main thread keeps its bytes, to parse them again if needed). */
  parse(input: SegmentInput): void {
    const bytes = new Uint8Array(input.endOffset - input.startOffset);
    let at = 0;
    for (const piece of input.bytes) {
      bytes.set(piece, at);
      at += piece.byteLength;
    }
    const nextLine = input.nextLine === null ? null : new Uint8Array(input.nextLine);
    const transfer = nextLine === null ? [bytes.buffer] : [bytes.buffer, nextLine.buffer];
    this.worker.postMessage({ ...input, bytes: [bytes], nextLine } satisfies SegmentInput, transfer);
    this.queued++;
  }

  /**
   * Passes a written output buffer on to the worker (batched; posted, transferred) when it is an
   * `ArrayBuffer` of `bytes` (the worker's `SpareBuffers` size); anything else is left to GC.
   */
  giveSpare(buffer: ArrayBufferLike, bytes: number): void {
    if (this.stopping || !(buffer instanceof ArrayBuffer) || buffer.byteLength !== bytes) return;
    this.spares.push(buffer);
    if (this.spares.length < SPARES_PER_MESSAGE) return;
    const spares = this.spares.splice(0);
    this.worker.postMessage({ spares } satisfies SpareBuffersMessage, spares);
  }

  /** True when the result of segment `index` has arrived. */
  has(index: number): boolean {
    return this.arrived.has(index);
  }

  /** The result of segment `index` (posted earlier). @throws the worker's error */
  result(index: number): Promise<SegmentResult> {
    const result = this.arrived.get(index);
    if (result !== undefined) {
      this.arrived.delete(index);
      return Promise.resolve(result);
    }
    if (this.failed !== null) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting = { index, resolve, reject };
    });
  }

  /** Forgets the result of segment `index`, posted earlier (now or when it arrives). */
  drop(index: number): void {
    if (!this.arrived.delete(index)) this.dropped.add(index);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failed ??= error;
    this.waiting?.reject(this.failed);
    this.waiting = null;
  }
}
