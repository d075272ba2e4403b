import type { ParseFailureReason } from '../domain/access-event.js';
import type { LogRecord } from './log-record.js';
import { buildCsvlogRecord } from './csv-record-builder.js';
import { CsvColumnReader } from './csv-column-reader.js';
import { splitCsvFields, splitCsvText, utf8SafeEnd } from './csv-field-splitter.js';
import { findLogTimeStart, matchLogTimeAt } from './csv-log-time-shape.js';
import { CsvOversizeRecord } from './csv-oversize-record.js';
import { MAX_COMMAS, scanRecordEnd } from './csv-record-scanner.js';
import {
  DEFAULT_MAX_RECORD_BYTES,
  type FramedRecordSink,
  type FramerOptions,
  type StreamingRecordFramer,
} from './record-framer.js';
import { createCachedTimestampParser } from './csv-time-cache.js';
import { HeldBytesFramer } from './held-bytes-framer.js';
import { createTimestampParser, type TimestampParser } from './timestamp-parser.js';

const NEWLINE = 0x0a;
const CR = 0x0d;
/**
 * Builds a `RecordFramer` for PostgreSQL csvlog files (23, 24 or 26 columns: PostgreSQL 12, 13,
 * 14-17; PostgreSQL docs, runtime-config-logging, "Using CSV-Format Log Output").
 *
 * Records end at a newline outside quotes; quoted fields may hold newlines, commas and doubled
 * quotes. Bytes are scanned as bytes and decoded per field (invalid UTF-8 becomes U+FFFD; a
 * multibyte character split across pushes is whole because an unfinished record is held as bytes).
 * Repeated column values are shared between records; user, database, application name and the
 * host of `connection_from` are interned (a `StringInterner` each per framer).
 * Times are converted to UTC with `options.timezone`. `options.maxRecordBytes` (default 1 MiB) is
 * raised to 64 when smaller.
 *
 * Damaged input is never fatal and never loses the rest of the file:
 * - a record with another column count (e.g. one cut by a crash with the next record glued to
 *   it) is a `wrong_column_count` failure; parsing resumes at the first `log_time` column found
 *   inside it (`YYYY-MM-DD HH:MM:SS.mmm ZONE,`), or after it when there is none;
 * - an unterminated quote (a record cut inside a quoted field) keeps the record open; once it is
 *   longer than `maxRecordBytes`, or on `flush` when the held bytes end with a newline, the first
 *   quoted newline followed by a `log_time` column ends it: `bad_csv` failure, then resync as above;
 * - a record longer than `maxRecordBytes` without that sign is cut: its head plus the columns after
 *   the cut column are kept and it is emitted with `truncated: true`, or an `oversized` failure
 *   when its columns do not add up;
 * - a bad `log_time` gives a `bad_timestamp` failure.
 *
 * @throws RangeError when `options.timezone` is not a known IANA zone
 */
export function createCsvlogFramer(options: FramerOptions = {}): StreamingRecordFramer {
  return new CsvlogFramer(options);
}

/** The csvlog state machine; see `createCsvlogFramer`. Positions are indexes into `buf`. */
class CsvlogFramer extends HeldBytesFramer implements StreamingRecordFramer {
  inQuote = false;
  /** unquoted commas seen by the scan of the current record, and their positions from its start */
  commaCount = 0;
  readonly commas = new Int32Array(MAX_COMMAS);
  /** when >= 0, the current record is forced to end there (resync region or end of input) */
  private limitEnd = -1;
  private oversize: CsvOversizeRecord | null = null;
  private readonly maxRecordBytes: number;
  private readonly parseTime: TimestampParser;
  /** cuts all-one-byte records into columns (and keeps their repeated values) */
  private readonly columns: CsvColumnReader;
  /** `eventFieldsOnly`: records carry only the fields events are built from */
  private readonly eventFieldsOnly: boolean;

  constructor(options: FramerOptions) {
    super(options.startOffset ?? 0);
    this.maxRecordBytes = Math.max(64, options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
    this.parseTime = createCachedTimestampParser(createTimestampParser(options.timezone ?? 'UTC'));
    this.eventFieldsOnly = options.eventFieldsOnly === true;
    this.columns = new CsvColumnReader(this.parseTime);
  }

  protected override windowCleared(): void {
    this.limitEnd = -1;
  }

  override restart(startOffset: number): void {
    super.restart(startOffset);
    this.inQuote = false;
    this.commaCount = 0;
    this.oversize = null;
  }

  protected override windowShifted(shift: number): void {
    if (this.limitEnd >= 0) this.limitEnd -= shift;
  }

  get safeOffset(): number {
    return this.oversize ? this.oversize.startOffset : this.base + this.recStart;
  }

  /** No cut record being consumed and no forced record end: the held bytes are rescanned alike. */
  get restartable(): boolean {
    return this.oversize === null && this.limitEnd < 0;
  }

  pushTo(chunk: Buffer, out: FramedRecordSink): void {
    if (chunk.length === 0) return;
    this.append(chunk);
    this.drain(out, false);
    this.retain();
  }

  flushTo(out: FramedRecordSink): void {
    this.drain(out, false);
    // The server writes each record whole, so held bytes that end with a newline while a quote is
    // still open mean a damaged record: end it at the first quoted newline before a log_time.
    if (!this.oversize && this.limitEnd < 0 && this.recStart < this.len && this.buf[this.len - 1] === NEWLINE) {
      const start = this.lineStartRecord(this.recStart, this.len - 1, true);
      if (start > 0) {
        this.forceEndAt(start);
        this.drain(out, false);
      }
    }
    this.retain();
  }

  endTo(out: FramedRecordSink): void {
    this.drain(out, true);
    this.retain();
  }

  /** Emits every record the held bytes complete. */
  private drain(out: FramedRecordSink, atEof: boolean): void {
    for (;;) {
      if (this.limitEnd >= 0 && this.recStart >= this.limitEnd) this.limitEnd = -1;
      if (this.oversize) {
        if (!this.feedOversize(out, this.oversize, atEof)) return;
        continue;
      }
      const s = this.recStart;
      if (s >= this.len) return;
      const stop = this.limitEnd >= 0 ? this.limitEnd : this.len;
      const b = this.buf;
      const i = scanRecordEnd(b, this.scanPos, stop, s, this);
      // Resuming at i is safe even at a newline: it is found again with the same state.
      this.scanPos = i;
      if (i < stop) {
        if (i + 1 - s <= this.maxRecordBytes) this.completeScanned(out, s, i);
        else if (this.limitEnd >= 0) this.fail(out, 'oversized', s, i + 1);
        else if (!this.beginOversize(s, atEof)) return;
        continue;
      }
      if (this.limitEnd < 0 && this.len - s > this.maxRecordBytes) {
        if (!this.beginOversize(s, atEof)) return;
      } else if (this.limitEnd >= 0) {
        const e = this.limitEnd;
        if (this.inQuote) this.resync(out, 'bad_csv', s, e, e);
        else this.completeRecord(out, s, e, e);
      } else if (atEof) {
        this.forceEndAt(this.len);
      } else {
        return;
      }
    }
  }

  /**
   * Parses the record `buf[s, newline)` whose unquoted commas the scan recorded: decodes it once
   * and cuts the columns at those commas (when it is all one-byte characters, text and byte
   * positions agree; otherwise it is split again as text).
   */
  private completeScanned(out: FramedRecordSink, s: number, newline: number): void {
    const columns = this.commaCount + 1;
    const ce = newline > s && this.buf[newline - 1] === CR ? newline - 1 : newline;
    if (columns !== 23 && columns !== 24 && columns !== 26) {
      this.resync(out, 'wrong_column_count', s, ce, newline + 1);
      return;
    }
    const text = this.buf.toString('utf8', s, ce);
    const offset = this.base + s;
    const byteLength = newline + 1 - s;
    let built: LogRecord | ParseFailureReason;
    if (text.length !== ce - s) {
      built = buildCsvlogRecord(splitCsvText(text).fields, offset, byteLength, this.parseTime, false, this.columns.connections);
    } else if (this.eventFieldsOnly) {
      built = this.columns.eventRecord(text, this.commas, columns, offset, byteLength);
    } else {
      const fields = this.columns.fields(text, this.commas, columns);
      built = buildCsvlogRecord(fields, offset, byteLength, this.parseTime, false, this.columns.connections);
    }
    if (typeof built === 'string') {
      this.resync(out, built, s, ce, newline + 1);
      return;
    }
    out.push(built);
    this.advance(newline + 1);
  }

  /** Parses the complete record `buf[s, contentEnd)` spanning `[s, recordEnd)`. */
  private completeRecord(out: FramedRecordSink, s: number, contentEnd: number, recordEnd: number): void {
    const ce = contentEnd > s && this.buf[contentEnd - 1] === CR ? contentEnd - 1 : contentEnd;
    const { fields } = splitCsvFields(this.buf, s, ce);
    const built = buildCsvlogRecord(fields, this.base + s, recordEnd - s, this.parseTime, false, this.columns.connections);
    if (typeof built === 'string') {
      this.resync(out, built, s, ce, recordEnd);
      return;
    }
    out.push(built);
    this.advance(recordEnd);
  }

  /**
   * Emits a failure for a bad record and resumes at the first `log_time` column inside it (a
   * record glued after a cut one), or after it when there is none.
   */
  private resync(out: FramedRecordSink, reason: ParseFailureReason, s: number, contentEnd: number, recordEnd: number): void {
    const next = findLogTimeStart(this.buf, s + 1, contentEnd);
    this.fail(out, reason, s, next > s ? next : recordEnd);
  }

  private fail(out: FramedRecordSink, failure: ParseFailureReason, s: number, end: number): void {
    out.push({ failure, offset: this.base + s, byteLength: end - s });
    this.advance(end);
  }

  /** Makes the current record end at `end` at the latest, rescanning it from its start. */
  private forceEndAt(end: number): void {
    this.limitEnd = end;
    this.advance(this.recStart);
  }

  private advance(to: number): void {
    this.recStart = to;
    this.scanPos = to;
    this.inQuote = false;
    this.commaCount = 0;
  }

  /**
   * The record at `s` is longer than `maxRecordBytes`. A quoted newline followed by a `log_time`
   * column inside its head means an unterminated quote: force the record to end there. Otherwise
   * keep its head and consume the rest through a `CsvOversizeRecord`.
   * @returns false when more bytes are needed to decide
   */
  private beginOversize(s: number, atEof: boolean): boolean {
    const headEnd = s + this.maxRecordBytes;
    const start = this.lineStartRecord(s, headEnd, atEof);
    if (start === -1) return false;
    if (start > 0) {
      this.forceEndAt(start);
      return true;
    }
    const cut = utf8SafeEnd(this.buf, s, headEnd);
    const head = splitCsvFields(this.buf, s, cut);
    this.oversize = new CsvOversizeRecord(this.base + s, head.fields, head.endsInQuote);
    this.recStart = cut;
    this.scanPos = cut;
    return true;
  }

  /**
   * Looks for a newline in `[s, before)` followed by a csvlog `log_time` column.
   * @returns the index after that newline, 0 when there is none, -1 when undecided yet
   */
  private lineStartRecord(s: number, before: number, atEof: boolean): number {
    const b = this.buf;
    for (let n = b.indexOf(NEWLINE, s); n >= 0 && n < before; n = b.indexOf(NEWLINE, n + 1)) {
      const match = matchLogTimeAt(b, n + 1, this.len, atEof);
      if (match === 1) return n + 1;
      if (match === -1) return -1;
    }
    return 0;
  }

  /** @returns false when all held bytes are fed and more are needed */
  private feedOversize(out: FramedRecordSink, record: CsvOversizeRecord, atEof: boolean): boolean {
    const result = record.feed(this.buf, this.recStart, this.len, atEof);
    if (result.kind === 'more') {
      this.recStart = result.consumedTo;
      this.scanPos = result.consumedTo;
      if (!atEof || result.consumedTo < this.len) return false;
      this.finishOversize(out, record, this.base + this.len);
      this.advance(this.len);
      return true;
    }
    if (result.kind === 'end') {
      this.finishOversize(out, record, this.base + result.newlineIndex + 1);
      this.advance(result.newlineIndex + 1);
      return true;
    }
    this.oversize = null;
    out.push({ failure: 'bad_csv', offset: record.startOffset, byteLength: this.base + result.recordStart - record.startOffset });
    this.advance(result.recordStart);
    return true;
  }

  private finishOversize(out: FramedRecordSink, record: CsvOversizeRecord, endOffset: number): void {
    this.oversize = null;
    const byteLength = endOffset - record.startOffset;
    const built = buildCsvlogRecord(record.fields(), record.startOffset, byteLength, this.parseTime, true, this.columns.connections);
    out.push(typeof built === 'string' ? { failure: 'oversized', offset: record.startOffset, byteLength } : built);
  }
}
