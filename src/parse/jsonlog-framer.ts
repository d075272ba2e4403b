import type { ParseFailureReason } from '../domain/access-event.js';
import { utf8SafeEnd } from './csv-field-splitter.js';
import { parseJsonObjectPrefix, parseJsonObjectSuffix } from './json-object-prefix.js';
import { buildJsonlogRecord } from './json-record-builder.js';
import {
  DEFAULT_MAX_RECORD_BYTES,
  type FramedRecordSink,
  type FramerOptions,
  type StreamingRecordFramer,
} from './record-framer.js';
import { createCachedTimestampParser } from './csv-time-cache.js';
import { HeldBytesFramer } from './held-bytes-framer.js';
import type { LogRecord } from './log-record.js';
import { StringInterner } from './string-interner.js';
import { createTimestampParser, type TimestampParser } from './timestamp-parser.js';

const NEWLINE = 0x0a;
/** Most bytes kept of the end of an oversized line, to recover the keys after the cut value. */
const TAIL_BYTES = 64 * 1024;
/** Tail pieces kept before they are merged (bounds copying when a long line arrives in tiny chunks). */
const MAX_TAIL_PIECES = 64;

/**
 * Builds a `RecordFramer` for PostgreSQL jsonlog files (PostgreSQL 15+; PostgreSQL docs,
 * runtime-config-logging, "Using JSON-Format Log Output"): one JSON object per line, keys left out
 * when empty. See `buildJsonlogRecord` for how keys map to `LogRecord` fields.
 *
 * Lines are found as bytes and decoded whole (invalid UTF-8 becomes U+FFFD; a multibyte character
 * split across pushes is whole because an unfinished line is held as bytes). Failures, never
 * exceptions: a line that is not a JSON object is `bad_json`; a missing or bad `timestamp` is
 * `bad_timestamp`. A line longer than `maxRecordBytes` is cut: the keys of its first
 * `maxRecordBytes` bytes (the cut string value kept up to the cut) and the complete keys of its
 * last 64 KiB are kept, and it is emitted with `truncated: true`, or as an `oversized` failure
 * when not even its `timestamp` can be read. `options.maxRecordBytes` (default 1 MiB) is raised to
 * 64 when smaller. User, database, host and application name are interned (a `StringInterner`
 * each per framer: records of one client share one string per value).
 *
 * @throws RangeError when `options.timezone` is not a known IANA zone
 */
export function createJsonlogFramer(options: FramerOptions = {}): StreamingRecordFramer {
  return new JsonlogFramer(options);
}

/** The end of a line longer than the limit, consumed without keeping its middle. */
interface OversizeLine {
  startOffset: number;
  head: Buffer;
  tailPieces: Buffer[];
  tailBytes: number;
}

/** See `createJsonlogFramer`. Positions are indexes into `buf`. */
class JsonlogFramer extends HeldBytesFramer implements StreamingRecordFramer {
  private oversize: OversizeLine | null = null;
  private readonly maxRecordBytes: number;
  private readonly tailLimit: number;
  private readonly parseTime: TimestampParser;
  private readonly eventFieldsOnly: boolean;
  private readonly users = new StringInterner();
  private readonly databases = new StringInterner();
  private readonly hosts = new StringInterner();
  private readonly applications = new StringInterner();

  constructor(options: FramerOptions) {
    super(options.startOffset ?? 0);
    this.maxRecordBytes = Math.max(64, options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
    this.tailLimit = Math.min(TAIL_BYTES, this.maxRecordBytes);
    this.parseTime = createCachedTimestampParser(createTimestampParser(options.timezone ?? 'UTC'));
    this.eventFieldsOnly = options.eventFieldsOnly === true;
  }

  get safeOffset(): number {
    return this.oversize ? this.oversize.startOffset : this.base + this.recStart;
  }

  override restart(startOffset: number): void {
    super.restart(startOffset);
    this.oversize = null;
  }

  /** No oversized line being consumed: the held bytes are only the start of the next line. */
  get restartable(): boolean {
    return this.oversize === null;
  }

  pushTo(chunk: Buffer, out: FramedRecordSink): void {
    if (chunk.length === 0) return;
    this.append(chunk);
    this.drain(out, false);
    this.retain();
  }

  flushTo(out: FramedRecordSink): void {
    this.drain(out, false);
    this.retain();
  }

  endTo(out: FramedRecordSink): void {
    this.drain(out, true);
    this.retain();
  }

  private drain(out: FramedRecordSink, atEof: boolean): void {
    for (;;) {
      const s = this.recStart;
      if (this.oversize) {
        const nl = this.findNewline(s);
        const stop = nl >= 0 ? nl : this.len;
        this.keepTail(this.oversize, s, stop);
        if (nl < 0 && !atEof) {
          this.recStart = this.scanPos = this.len;
          return;
        }
        this.finishOversize(out, this.oversize, nl >= 0 ? nl + 1 : this.len);
        continue;
      }
      if (s >= this.len) return;
      const nl = this.findNewline(this.scanPos);
      if (nl >= 0 && nl + 1 - s <= this.maxRecordBytes) {
        this.emitLine(out, s, nl, nl + 1);
      } else if (nl >= 0 || this.len - s > this.maxRecordBytes) {
        const cut = utf8SafeEnd(this.buf, s, s + this.maxRecordBytes);
        this.oversize = { startOffset: this.base + s, head: Buffer.from(this.buf.subarray(s, cut)), tailPieces: [], tailBytes: 0 };
        this.recStart = this.scanPos = cut;
      } else if (atEof) {
        this.emitLine(out, s, this.len, this.len);
      } else {
        this.scanPos = this.len;
        return;
      }
    }
  }

  /** First newline in `buf[from, len)`, or -1 (short ranges looped: `indexOf` would search unused capacity). */
  private findNewline(from: number): number {
    const b = this.buf;
    const len = this.len;
    if (len - from <= 256) {
      for (let i = from; i < len; i++) if (b[i] === NEWLINE) return i;
      return -1;
    }
    const nl = b.indexOf(NEWLINE, from);
    return nl >= 0 && nl < len ? nl : -1;
  }

  /** Parses the line `buf[s, contentEnd)` spanning `[s, recordEnd)`. */
  private emitLine(out: FramedRecordSink, s: number, contentEnd: number, recordEnd: number): void {
    const line = this.buf.toString('utf8', s, contentEnd);
    const offset = this.base + s;
    const byteLength = recordEnd - s;
    const object = parseObject(line);
    const built = object === null ? 'bad_json' : buildJsonlogRecord(object, line, offset, byteLength, this.parseTime, false, this.eventFieldsOnly);
    out.push(typeof built === 'string' ? { failure: built, offset, byteLength } : this.interned(built));
    this.recStart = this.scanPos = recordEnd;
  }

  /** `record` with its user, database, host and application name interned (changed in place). */
  private interned(record: LogRecord): LogRecord {
    if (record.user !== null) record.user = this.users.intern(record.user);
    if (record.database !== null) record.database = this.databases.intern(record.database);
    if (record.host !== null) record.host = this.hosts.intern(record.host);
    if (record.application_name !== null) record.application_name = this.applications.intern(record.application_name);
    return record;
  }

  private keepTail(line: OversizeLine, from: number, to: number): void {
    if (to <= from) return;
    line.tailPieces.push(Buffer.from(this.buf.subarray(Math.max(from, to - this.tailLimit), to)));
    line.tailBytes += Math.min(to - from, this.tailLimit);
    if (line.tailPieces.length > MAX_TAIL_PIECES || line.tailBytes > 2 * this.tailLimit) {
      const merged = Buffer.concat(line.tailPieces);
      const kept = merged.subarray(Math.max(0, merged.length - this.tailLimit));
      line.tailPieces = [kept];
      line.tailBytes = kept.length;
    }
  }

  private finishOversize(out: FramedRecordSink, line: OversizeLine, recordEnd: number): void {
    this.oversize = null;
    const byteLength = this.base + recordEnd - line.startOffset;
    const merged = Buffer.concat(line.tailPieces);
    const tail = merged.subarray(Math.max(0, merged.length - this.tailLimit));
    const tailText = tail.toString('utf8');
    const head = parseJsonObjectPrefix(line.head.toString('utf8'));
    const object = head === null ? null : { ...parseJsonObjectSuffix(tailText), ...head };
    const built =
      object === null ? null : buildJsonlogRecord(object, tailText, line.startOffset, byteLength, this.parseTime, true, this.eventFieldsOnly);
    const failure: ParseFailureReason = 'oversized';
    out.push(built === null || typeof built === 'string' ? { failure, offset: line.startOffset, byteLength } : this.interned(built));
    this.recStart = this.scanPos = recordEnd;
  }
}

/** The line as a JSON object, or null when it is not one. */
function parseObject(line: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    if (error instanceof SyntaxError) return null;
    throw error;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
