import type { AccessEvent, EventSource, ParseFailure } from '../domain/access-event.js';
import type { QueryEnricher } from '../enrich/query-enricher.js';
import { createEventBuilder } from '../parse/event-builder.js';
import type { LogFormat } from '../parse/log-format.js';
import { type LogParser, type ParseOutput, type ParseOutputSink, createLogParser, isParseFailure } from '../parse/log-parser.js';
import type { StatementMemory } from '../parse/statement-once-tracker.js';
import type { EventJsonSerializer } from './event-json-serializer.js';
import { type SegmentMemoryLog, SegmentStatementMemory } from './parse-segment-memory.js';
import { type LineWriter, type SpareBuffers, createLineWriter } from './write-lines.js';

/** How every segment of one file is parsed: `jaga parse`'s options for it. */
export interface SegmentParseOptions {
  format: LogFormat;
  logLinePrefix: string | undefined;
  timezone: string;
  maxRecordBytes: number | undefined;
  server: string;
  source: Omit<EventSource, 'offset'>;
  /** the SQL enricher of this thread, or null for `--no-enrich` */
  enricher: QueryEnricher | null;
  /** the serializer of events as JSON lines of this thread */
  serializer: EventJsonSerializer;
}

/**
 * A run of bytes of one file, starting at a line start (structured-cloneable: it is posted to the
 * worker thread). `nextLine` is the boundary check: the segment is only accepted when the parser,
 * given the segment and then `nextLine`, has completed every record before it.
 */
export interface SegmentInput {
  /** 0, 1, 2, ... in file order */
  index: number;
  /** file offset of the first byte */
  startOffset: number;
  /** file offset just after the last byte */
  endOffset: number;
  /** the bytes, in order */
  bytes: Uint8Array[];
  /** the first line after the segment, without its newline (not empty); null for the last segment */
  nextLine: Uint8Array | null;
  /** true when the file ends with this segment; false for the last segment before a read error */
  atEnd: boolean;
}

/**
 * What parsing one or more segments gave (structured-cloneable). `pieces` are the output in file
 * order: UTF-8 JSON lines (each `JSON.stringify(event)` + `\n`, enriched, as `EventJsonSerializer`
 * writes it) and, between them, the events whose log_statement_once statement only the main thread
 * can complete (not enriched yet).
 */
export interface SegmentResult {
  /** index of the first segment parsed */
  index: number;
  /** false when the last segment's records run on past its end: the result must not be used */
  accepted: boolean;
  pieces: (Uint8Array | AccessEvent)[];
  /** parse failures, in file order */
  failures: ParseFailure[];
  /** log records completed (events + failures) */
  records: number;
  /** events, serialised or not */
  events: number;
  /** what a segment parsed without the file's memory did to it; null when run on the file's memory */
  memory: SegmentMemoryLog | null;
}

/**
 * Parses runs of consecutive segments of a file, one run at a time, each with its parser started
 * at the run's first segment: with a fresh log_statement_once memory (a speculative segment,
 * either thread), or with the file's own memory (the main thread, after the file before the first
 * segment is done). One `SegmentRun` per thread serves every run of the file: its parser, event
 * builder and output writer are restarted, not made anew, so the code the JIT optimized for them
 * stays valid from segment to segment (new closures per segment deoptimized it, and the next
 * segment ran slower code until it was compiled again). Each run's output is exactly that of a
 * new parser (`LogParser.restart`).
 */
export class SegmentRun implements ParseOutputSink {
  private readonly parser: LogParser;
  private readonly writer: LineWriter;
  private readonly enricher: QueryEnricher | null;
  private readonly serializer: EventJsonSerializer;
  /** the run's own memory, or null when it runs on the file's */
  private memory: SegmentStatementMemory | null = null;
  private pieces: (Uint8Array | AccessEvent)[] = [];
  private failures: ParseFailure[] = [];
  private events = 0;
  /** true from `begin` to `result` */
  private open = false;

  /**
   * @param spares where the output's buffers come from (each byte piece of a result is then the
   *   start of one whole buffer of `spares.bytes`, or of a buffer of its own for a longer line); default new buffers
   * @throws ConfigError / RangeError for options `jaga parse` rejects first
   */
  constructor(options: SegmentParseOptions, spares?: SpareBuffers) {
    this.parser = createLogParser({ ...options, builder: createEventBuilder({ server: options.server }) });
    const collect = { write: (bytes: Uint8Array) => this.pieces.push(bytes) > 0 } as unknown as NodeJS.WritableStream;
    this.writer = createLineWriter(collect, undefined, spares);
    this.enricher = options.enricher;
    this.serializer = options.serializer;
  }

  /**
   * Starts a run at file offset `startOffset` (a line start).
   * @param fileMemory the file's memory, holding the state at `startOffset`; omitted: a fresh one
   * @throws Error while the previous run is open (its `result` not taken)
   */
  begin(startOffset: number, fileMemory?: StatementMemory): void {
    if (this.open) throw new Error('SegmentRun.begin: the previous run is still open (take its result first)');
    this.open = true;
    this.memory = fileMemory === undefined ? new SegmentStatementMemory() : null;
    this.parser.restart(startOffset, fileMemory ?? (this.memory as SegmentStatementMemory));
    this.pieces = [];
    this.failures = [];
    this.events = 0;
  }

  /** The parser's sink (not for callers): one output of the run, in file order. */
  push(out: ParseOutput): void {
    if (isParseFailure(out)) {
      this.failures.push(out);
      return;
    }
    this.events++;
    const missed = this.memory?.takeMissed();
    if (missed) {
      this.cutOutput();
      missed.piece = this.pieces.length;
      this.pieces.push(out);
      return;
    }
    this.enricher?.enrich(out);
    this.writer.add(this.serializer.serialize(out));
  }

  /**
   * Parses `segment` (after the parser has been given its first `skip` bytes: the previous segment's
   * `nextLine`) and, unless it is the last, its boundary check.
   * @returns true when the output now ends exactly at the segment's end (or the file's), false when
   *   a record runs on past it (then `add` the next segment with `skip = nextLine.length`)
   */
  add(segment: SegmentInput, skip: number): boolean {
    let toSkip = skip;
    for (const bytes of segment.bytes) {
      const from = Math.min(toSkip, bytes.byteLength);
      toSkip -= from;
      if (from < bytes.byteLength) this.parser.pushTo(Buffer.from(bytes.buffer, bytes.byteOffset + from, bytes.byteLength - from), this);
    }
    const next = segment.nextLine;
    if (next === null) {
      if (segment.atEnd) this.parser.endTo(this);
      return true;
    }
    this.parser.pushTo(Buffer.from(next.buffer, next.byteOffset, next.byteLength), this);
    this.parser.flushTo(this);
    return this.parser.safeOffset === segment.endOffset && this.parser.restartable;
  }

  /**
   * The run's output; ends the run. @param index the first segment's index; @param accepted what
   * the last `add` returned
   */
  result(index: number, accepted: boolean): SegmentResult {
    this.cutOutput();
    this.open = false;
    return { index, accepted, pieces: this.pieces, failures: this.failures, records: this.parser.records, events: this.events, memory: this.memory?.log() ?? null };
  }

  /** Moves the JSON lines collected so far into `pieces`. */
  private cutOutput(): void {
    // flush() only calls the collecting write() synchronously: nothing waits on a stream
    void this.writer.flush();
  }
}

/** The `ArrayBuffer`s of a result's byte pieces, each once: what to transfer when posting it. */
export function transferablesOf(result: SegmentResult): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const piece of result.pieces) if (piece instanceof Uint8Array) buffers.add(piece.buffer as ArrayBuffer);
  return [...buffers];
}
