import type { ParseFailureReason } from '../domain/access-event.js';
import type { LogRecord } from './log-record.js';

/** A framed record that could not be parsed: where it was and why, never its content. */
export interface FramingFailure {
  failure: ParseFailureReason;
  /** byte offset of the failed record in its file */
  offset: number;
  /** bytes it spans */
  byteLength: number;
}

/** What a framer emits, in file order. */
export type FramedRecord = LogRecord | FramingFailure;

/** True when a framer output is a failure. */
export function isFramingFailure(out: FramedRecord): out is FramingFailure {
  return 'failure' in out;
}

/**
 * Turns a byte stream of one log file into records, incrementally (one implementation per
 * destination: stderr, csvlog, jsonlog).
 *
 * Contract:
 * - `push` takes the file's bytes in order, in chunks of any size (a chunk may end inside a line
 *   or inside a multibyte UTF-8 character); the first push starts at `startOffset` given to the
 *   factory. It returns the records completed by this chunk.
 * - A partial last line is held until its newline arrives. For stderr, a complete record is also held
 *   until the next line shows it has no more continuation / DETAIL / STATEMENT lines.
 * - `flush` emits held complete records (call it when the file has been idle briefly) but keeps a
 *   partial last line; `end` emits everything, the partial line included (end of a rotated-away file,
 *   or end of input for `jaga parse`).
 * - `safeOffset` is the byte offset just after the last byte of the last record emitted: resuming a
 *   file there repeats and loses nothing.
 * - Invalid UTF-8 is replaced (U+FFFD), never fatal. A record longer than `maxRecordBytes` is cut
 *   (`truncated: true`); the rest of it is skipped, never emitted as another record.
 */
export interface RecordFramer {
  push(chunk: Buffer): FramedRecord[];
  flush(): FramedRecord[];
  end(): FramedRecord[];
  readonly safeOffset: number;
  /**
   * True when the framer holds nothing but bytes past `safeOffset`: a new framer with the same
   * options and `startOffset = safeOffset`, pushed the bytes from `safeOffset` up to those pushed so
   * far, would be in the same state and frame every later byte identically (caches that do not
   * change the output, such as time caches, do not count). False while a stderr record is open, a
   * csvlog record is cut or forced to end, or an oversized jsonlog line is being consumed.
   */
  readonly restartable: boolean;
}

/** Where a framer delivers records one at a time, in file order (an array is one). */
export interface FramedRecordSink {
  push(record: FramedRecord): unknown;
}

/**
 * A `RecordFramer` that can also hand each record to a sink as soon as it is complete, so the
 * consumer converts it while it is young instead of holding a whole chunk's records at once.
 * `pushTo`/`flushTo`/`endTo` deliver exactly what `push`/`flush`/`end` return, in the same order.
 */
export interface StreamingRecordFramer extends RecordFramer {
  pushTo(chunk: Buffer, sink: FramedRecordSink): void;
  flushTo(sink: FramedRecordSink): void;
  endTo(sink: FramedRecordSink): void;
  /**
   * Drops everything held (bytes, an open or cut record, scan state) and starts again at byte
   * `startOffset`, exactly as a new framer of the same options given that `startOffset` would: the
   * same records for the same later pushes. Only caches that never change a record's value stay
   * (time conversions, interned and repeated strings). Lets one framer parse many runs of a file
   * (`jaga parse`'s segments) so the code the JIT optimized for it stays valid.
   */
  restart(startOffset: number): void;
}

/** Options every framer takes. */
export interface FramerOptions {
  /** byte offset of the first byte pushed (default 0) */
  startOffset?: number;
  /** IANA zone of the server's `log_timezone` (default `UTC`) */
  timezone?: string;
  /** largest record kept whole, bytes (default 1 MiB) */
  maxRecordBytes?: number;
  /**
   * csvlog and jsonlog: fill only the `LogRecord` fields an `AccessEvent` is built from (what
   * `createLogParser` asks for); `command_tag`, `sessionStartMs`, `vxid`, `xid`, `internal_query`,
   * `location`, `leader_pid` and `query_id` may then be null whatever the log says. Default false.
   */
  eventFieldsOnly?: boolean;
}

/** Default record size limit: 1 MiB. */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
