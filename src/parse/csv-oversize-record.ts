import { decodeCsvField } from './csv-field-splitter.js';
import { matchLogTimeAt } from './csv-log-time-shape.js';

/** Bytes kept of each column that follows the cut column of an oversized record. */
export const TAIL_FIELD_CAP_BYTES = 8 * 1024;

/** What `CsvOversizeRecord.feed` found in the bytes it was given. */
export type OversizeFeedResult =
  /** all bytes before `consumedTo` are taken; call again with the bytes from there on */
  | { kind: 'more'; consumedTo: number }
  /** the record ends with the newline at `newlineIndex`; `fields()` gives its columns */
  | { kind: 'end'; newlineIndex: number }
  /**
   * a csvlog record starts at `recordStart` right after a quoted newline: the quote that kept the
   * record open was never closed (a damaged record), so the record ends before `recordStart`
   */
  | { kind: 'broken'; recordStart: number };

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * The rest of a csvlog record longer than `maxRecordBytes`, consumed byte by byte without keeping
 * it: the head (the first `maxRecordBytes` bytes, already decoded into columns, the last one cut)
 * is kept, the cut column is skipped to its end, and each later column is kept up to
 * `TAIL_FIELD_CAP_BYTES`, so the record's trailing columns (application_name, backend_type, ...)
 * are recovered and its column count can still be checked.
 *
 * Follows the same quoting rules as `splitCsvFields`. A quoted newline followed by a csvlog
 * `log_time` column means an unterminated quote (a record cut by a crash): `feed` reports
 * `broken` so the caller resynchronises there instead of skipping the rest of the file.
 */
export class CsvOversizeRecord {
  private inQuote: boolean;
  /** false while still inside the cut column */
  private capturing = false;
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private quotes = 0;
  private ended = false;
  private readonly tail: (string | null)[] = [];

  /**
   * @param startOffset file offset of the record's first byte
   * @param head decoded columns of the kept head; its last column is the cut one
   * @param headEndsInQuote quote state at the cut
   */
  constructor(
    readonly startOffset: number,
    private readonly head: readonly (string | null)[],
    headEndsInQuote: boolean,
  ) {
    this.inQuote = headEndsInQuote;
  }

  /**
   * Consumes `buf[from, to)`, the bytes that follow the ones already fed.
   * @param atEof true when no byte follows `to`
   */
  feed(buf: Buffer, from: number, to: number, atEof: boolean): OversizeFeedResult {
    let runStart = from;
    for (let i = from; i < to; i++) {
      const c = buf[i];
      if (c === QUOTE) {
        this.inQuote = !this.inQuote;
        this.quotes++;
      } else if (c === COMMA && !this.inQuote) {
        this.keep(buf, runStart, i);
        this.endColumn();
        runStart = i + 1;
      } else if (c === NEWLINE) {
        if (!this.inQuote) {
          this.keep(buf, runStart, i > runStart && buf[i - 1] === CR ? i - 1 : i);
          this.endColumn();
          this.ended = true;
          return { kind: 'end', newlineIndex: i };
        }
        const match = matchLogTimeAt(buf, i + 1, to, atEof);
        if (match === 1) return { kind: 'broken', recordStart: i + 1 };
        if (match === -1) {
          // Decide once more bytes are here: the newline is fed again then.
          this.keep(buf, runStart, i);
          return { kind: 'more', consumedTo: i };
        }
      }
    }
    this.keep(buf, runStart, to);
    return { kind: 'more', consumedTo: to };
  }

  /** Columns of the record: head columns then the recovered later ones. Call after `end` or at EOF. */
  fields(): (string | null)[] {
    if (!this.ended) {
      this.endColumn();
      this.ended = true;
    }
    return [...this.head, ...this.tail];
  }

  private keep(buf: Buffer, from: number, to: number): void {
    if (!this.capturing || to <= from) return;
    const room = TAIL_FIELD_CAP_BYTES - this.pieceBytes;
    if (room <= 0) return;
    const n = Math.min(room, to - from);
    this.pieces.push(Buffer.from(buf.subarray(from, from + n)));
    this.pieceBytes += n;
  }

  private endColumn(): void {
    if (this.capturing) {
      const raw = this.pieces.length === 1 ? (this.pieces[0] as Buffer) : Buffer.concat(this.pieces);
      this.tail.push(decodeCsvField(raw, 0, raw.length, this.quotes));
    }
    this.capturing = true;
    this.pieces = [];
    this.pieceBytes = 0;
    this.quotes = 0;
  }
}
