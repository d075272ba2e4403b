import type { LogFormat } from '../parse/log-format.js';
import type { SegmentInput } from './parse-segment-run.js';

const NEWLINE = 0x0a;
const TAB = 0x09;
const SPACE = 0x20;
const OPEN_BRACE = 0x7b;
/** Bytes of a stderr line searched for a secondary-line severity (the prefix is shorter). */
const STDERR_HEAD_BYTES = 200;
/** Severities of the lines PostgreSQL appends to a report (they attach to the record before them). */
const ATTACHED_SEVERITIES = ['DETAIL', 'HINT', 'CONTEXT', 'STATEMENT', 'QUERY', 'LOCATION'].map((severity) => Buffer.from(` ${severity}:  `));

/** True for the ASCII digits. */
function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

/** True when `buf[at, at + 19)` has the shape `YYYY-MM-DD HH:MM:SS` (a csvlog `log_time` column). */
function startsWithLogTime(buf: Uint8Array, at: number): boolean {
  const shape = 'dddd-dd-dd dd:dd:dd';
  for (let k = 0; k < shape.length; k++) {
    const byte = buf[at + k];
    if (shape[k] === 'd' ? !isDigit(byte) : byte !== shape.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * True when the line `buf[start, end)` likely starts a record of `format`: a cheap guess that makes
 * the boundary check (`SegmentRun.add`) usually pass; it never decides what is output.
 * - jsonlog: `{` (every record is one line);
 * - csvlog: a `log_time` column (a line inside a quoted field rarely has one);
 * - stderr: not a TAB/space continuation, and no DETAIL/HINT/... severity in its head.
 */
export function looksLikeRecordStart(format: LogFormat, buf: Uint8Array, start: number, end: number): boolean {
  switch (format) {
    case 'jsonlog':
      return buf[start] === OPEN_BRACE;
    case 'csvlog':
      return startsWithLogTime(buf, start);
    case 'stderr': {
      if (buf[start] === TAB || buf[start] === SPACE) return false;
      const head = Buffer.from(buf.buffer, buf.byteOffset + start, Math.min(end - start, STDERR_HEAD_BYTES));
      return ATTACHED_SEVERITIES.every((severity) => !head.includes(severity));
    }
  }
}

/**
 * The first line start after `from` in `buf` whose whole line is in `buf`, is not empty and
 * `looksLikeRecordStart`, as `{ at, lineEnd }` (`lineEnd`: index of its newline), or null.
 */
export function findSegmentBoundary(format: LogFormat, buf: Uint8Array, from: number): { at: number; lineEnd: number } | null {
  let newline = buf.indexOf(NEWLINE, from);
  while (newline >= 0) {
    const at = newline + 1;
    const lineEnd = buf.indexOf(NEWLINE, at);
    if (lineEnd < 0) return null;
    if (lineEnd > at && looksLikeRecordStart(format, buf, at, lineEnd)) return { at, lineEnd };
    newline = lineEnd;
  }
  return null;
}

/**
 * Cuts a file into segments of about `segmentBytes` (at least; each ends where a line that looks
 * like a record start begins), reading it in chunks with `readChunk`. A read error ends the
 * segments: the segment before it has `atEnd: false` and the error is kept in `error` (to be thrown
 * once the output before it is written, as on one thread).
 */
export class SegmentReader {
  /** the read error that ended the segments, or null */
  error: unknown = null;
  private position = 0;
  private segmentStart = 0;
  private index = 0;
  /** bytes read after the last segment's end */
  private carry: Buffer | null = null;
  private done = false;

  constructor(
    private readonly format: LogFormat,
    /** the chunk at a byte position (empty at the end) @throws on a read error */
    private readonly readChunk: (position: number) => Promise<Buffer>,
    /** smallest segment, bytes */
    private readonly segmentBytes: number,
  ) {}

  /** The next segment, or null after the last. */
  async next(): Promise<SegmentInput | null> {
    if (this.done) return null;
    const bytes: Buffer[] = [];
    let size = 0;
    let chunk = this.carry;
    this.carry = null;
    for (;;) {
      if (chunk === null) {
        try {
          chunk = await this.readChunk(this.position);
        } catch (error) {
          this.error = error;
          return this.last(bytes, size, false);
        }
        if (chunk.length === 0) return this.last(bytes, size, true);
        this.position += chunk.length;
      }
      const before = size;
      bytes.push(chunk);
      size += chunk.length;
      if (size >= this.segmentBytes) {
        const cut = findSegmentBoundary(this.format, chunk, Math.max(0, this.segmentBytes - before));
        if (cut !== null) {
          bytes[bytes.length - 1] = chunk.subarray(0, cut.at);
          size -= chunk.length - cut.at;
          this.carry = chunk.subarray(cut.at);
          return this.segment(bytes, size, chunk.subarray(cut.at, cut.lineEnd), false);
        }
      }
      chunk = null;
    }
  }

  private last(bytes: Buffer[], size: number, atEnd: boolean): SegmentInput {
    this.done = true;
    return this.segment(bytes, size, null, atEnd);
  }

  private segment(bytes: Buffer[], size: number, nextLine: Buffer | null, atEnd: boolean): SegmentInput {
    const startOffset = this.segmentStart;
    this.segmentStart += size;
    return { index: this.index++, startOffset, endOffset: startOffset + size, bytes, nextLine, atEnd };
  }
}
