import type { AccessEvent, EventSource, ParseFailure } from '../domain/access-event.js';
import { createCsvlogFramer } from './csvlog-framer.js';
import { createEventBuilder } from './event-builder.js';
import { createJsonlogFramer } from './jsonlog-framer.js';
import type { LogFormat } from './log-format.js';
import { type FramedRecord, type StreamingRecordFramer, isFramingFailure } from './record-framer.js';
import type { StatementMemory } from './statement-once-tracker.js';
import { createStderrFramer } from './stderr-framer.js';

/** Options for parsing one log file of one source. */
export interface LogParserOptions {
  format: LogFormat;
  /** the server's exact `log_line_prefix` (stderr only); default PostgreSQL's `'%m [%p] '` */
  logLinePrefix?: string;
  /** IANA zone of the server's `log_timezone`; default `UTC` */
  timezone?: string;
  /** largest record kept whole, bytes; default 1 MiB */
  maxRecordBytes?: number;
  /** the source name stamped on events as `server` */
  server: string;
  /** where the bytes come from: source id, file path, FileFingerprint */
  source: Omit<EventSource, 'offset'>;
  /** byte offset of the first byte pushed; default 0 */
  startOffset?: number;
  /** shared event builder state across the files of one source (log_statement_once spans rotations) */
  builder?: ReturnType<typeof createEventBuilder>;
}

/** What a parser yields, in file order. */
export type ParseOutput = AccessEvent | ParseFailure;

/** Receives a parser's outputs one at a time, in file order (an array is one). */
export interface ParseOutputSink {
  push(out: ParseOutput): unknown;
}

/** True when a parser output is a failure value. */
export function isParseFailure(out: ParseOutput): out is ParseFailure {
  return !('kind' in out);
}

/**
 * Parses one log file incrementally: bytes in, events (without `query`: the enrich stage adds it)
 * and failure values out. Same chunk/flush/end contract as `RecordFramer`; `records` counts log
 * records (a stderr record with its continuation and DETAIL/STATEMENT lines is one record),
 * failures included.
 */
export interface LogParser {
  push(chunk: Buffer): ParseOutput[];
  flush(): ParseOutput[];
  end(): ParseOutput[];
  /**
   * `push`, but each output goes to `sink` as soon as its record is complete instead of into an
   * array returned at the end of the chunk. Same outputs in the same order; a consumer that
   * does not keep them lets them die young (a 1 MiB chunk's array of ~4,000 events otherwise
   * outlives young-generation collections and is copied, promoted and marked: most of the parse's GC time).
   * `sink` must not call back into this parser.
   */
  pushTo(chunk: Buffer, sink: ParseOutputSink): void;
  /** `flush` into `sink` (see `pushTo`). */
  flushTo(sink: ParseOutputSink): void;
  /** `end` into `sink` (see `pushTo`). */
  endTo(sink: ParseOutputSink): void;
  /** resume position: byte offset just after the last record emitted */
  readonly safeOffset: number;
  /** the framer's `restartable` (record-framer.ts): nothing but bytes is held past `safeOffset` */
  readonly restartable: boolean;
  /** log records seen so far (events + failures) */
  readonly records: number;
  /**
   * Starts over at byte `startOffset` with `statementMemory` as the builder's log_statement_once
   * memory: from here on the parser gives exactly what a new parser of the same options, with that
   * `startOffset` and a builder on that memory, would (held bytes and open records dropped,
   * `records` back to 0; see `StreamingRecordFramer.restart` and `EventBuilder.restart`). One
   * parser reused for many runs keeps the code the JIT optimized for it valid, where each new
   * parser brings new closures that deoptimize it.
   */
  restart(startOffset: number, statementMemory: StatementMemory): void;
}

/** Builds the framer of a format. @throws ConfigError for a bad stderr `logLinePrefix`. */
function createFramer(options: LogParserOptions): StreamingRecordFramer {
  const common = {
    startOffset: options.startOffset ?? 0,
    timezone: options.timezone ?? 'UTC',
    maxRecordBytes: options.maxRecordBytes,
    eventFieldsOnly: true,
  };
  switch (options.format) {
    case 'stderr':
      return createStderrFramer({ ...common, logLinePrefix: options.logLinePrefix ?? '%m [%p] ' });
    case 'csvlog':
      return createCsvlogFramer(common);
    case 'jsonlog':
      return createJsonlogFramer(common);
  }
}

/**
 * Creates a parser for one file.
 * @throws ConfigError for a bad `logLinePrefix`; RangeError for an unknown `timezone`.
 */
export function createLogParser(options: LogParserOptions): LogParser {
  const framer = createFramer(options);
  const builder = options.builder ?? createEventBuilder({ server: options.server });
  let records = 0;
  // Each record is built as soon as the framer completes it (the record dies young), into `out`.
  let out: ParseOutputSink = [];
  const sink = {
    push(item: FramedRecord): void {
      records++;
      out.push(
        isFramingFailure(item)
          ? { reason: item.failure, source: { ...options.source, offset: item.offset }, byteLength: item.byteLength }
          : builder.build(item, options.source),
      );
    },
  };
  const collect = (run: () => void): ParseOutput[] => {
    const outputs: ParseOutput[] = [];
    out = outputs;
    run();
    return outputs;
  };
  return {
    push: (chunk) => collect(() => framer.pushTo(chunk, sink)),
    flush: () => collect(() => framer.flushTo(sink)),
    end: () => collect(() => framer.endTo(sink)),
    pushTo: (chunk, target) => {
      out = target;
      framer.pushTo(chunk, sink);
    },
    flushTo: (target) => {
      out = target;
      framer.flushTo(sink);
    },
    endTo: (target) => {
      out = target;
      framer.endTo(sink);
    },
    restart: (startOffset, statementMemory) => {
      framer.restart(startOffset);
      builder.restart(statementMemory);
      records = 0;
    },
    get safeOffset() {
      return framer.safeOffset;
    },
    get restartable() {
      return framer.restartable;
    },
    get records() {
      return records;
    },
  };
}
