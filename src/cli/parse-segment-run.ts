import type { AccessEvent, EventSource, ParseFailure } from '../domain/access-event.js';
import type { QueryEnricher } from '../enrich/query-enricher.js';
import { createEventBuilder } from '../parse/event-builder.js';
import type { LogFormat } from '../parse/log-format.js';
import { type LogParser, type ParseOutputSink, createLogParser, isParseFailure } from '../parse/log-parser.js';
import type { StatementMemory } from '../parse/statement-once-tracker.js';
import type { EventJsonSerializer } from './event-json-serializer.js';
import { type SegmentMemoryLog, SegmentStatementMemory } from './parse-segment-memory.js';
import { type LineWriter, createLineWriter } from './write-lines.js';

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
 * Parses consecutive segments of a file with a parser started at the first one's offset: with a
 * fresh log_statement_once memory (a speculative segment, either thread), or with the file's own
 * memory (the main thread, after the file before the first segment is done).
 */
export class SegmentRun {
  private readonly parser: LogParser;
  private readonly memory: SegmentStatementMemory | null;
  private readonly pieces: (Uint8Array | AccessEvent)[] = [];
  private readonly failures: ParseFailure[] = [];
  private readonly writer: LineWriter;
  private readonly sink: ParseOutputSink;
  private events = 0;

  /**
   * @param fileMemory the file's memory, holding the state at `startOffset`; omitted: a fresh one
   * @throws ConfigError / RangeError for options `jaga parse` rejects first
   */
  constructor(options: SegmentParseOptions, startOffset: number, fileMemory?: StatementMemory) {
    this.memory = fileMemory === undefined ? new SegmentStatementMemory() : null;
    const builder = createEventBuilder({ server: options.server, statementMemory: fileMemory ?? (this.memory as SegmentStatementMemory) });
    this.parser = createLogParser({ ...options, startOffset, builder });
    const pieces = this.pieces;
    this.writer = createLineWriter({ write: (bytes: Uint8Array) => pieces.push(bytes) > 0 } as unknown as NodeJS.WritableStream);
    const enricher = options.enricher;
    const serializer = options.serializer;
    this.sink = {
      push: (out) => {
        if (isParseFailure(out)) {
          this.failures.push(out);
          return;
        }
        this.events++;
        const missed = this.memory?.takeMissed();
        if (missed) {
          this.cutOutput();
          missed.piece = pieces.length;
          pieces.push(out);
          return;
        }
        enricher?.enrich(out);
        this.writer.add(serializer.serialize(out));
      },
    };
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
      if (from < bytes.byteLength) this.parser.pushTo(Buffer.from(bytes.buffer, bytes.byteOffset + from, bytes.byteLength - from), this.sink);
    }
    const next = segment.nextLine;
    if (next === null) {
      if (segment.atEnd) this.parser.endTo(this.sink);
      return true;
    }
    this.parser.pushTo(Buffer.from(next.buffer, next.byteOffset, next.byteLength), this.sink);
    this.parser.flushTo(this.sink);
    return this.parser.safeOffset === segment.endOffset && this.parser.restartable;
  }

  /** The output so far. @param index the first segment's index; @param accepted what the last `add` returned */
  result(index: number, accepted: boolean): SegmentResult {
    this.cutOutput();
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
