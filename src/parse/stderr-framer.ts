import type { LogRecord } from './log-record.js';
import {
  compileLogLinePrefix,
  DEFAULT_LOG_LINE_PREFIX,
  emptyLogLinePrefixMatch,
  type LogLinePrefixMatcher,
} from './log-line-prefix.js';
import {
  DEFAULT_MAX_RECORD_BYTES,
  type FramedRecord,
  type FramedRecordSink,
  type FramerOptions,
  type StreamingRecordFramer,
} from './record-framer.js';

/** Options of the stderr framer: the common framer options plus the server's prefix. */
export interface StderrFramerOptions extends FramerOptions {
  /** the server's exact `log_line_prefix` (default PostgreSQL's `'%m [%p] '`) */
  logLinePrefix?: string;
}

/** The text fields of a record that lines can be appended to. */
type TextField = 'message' | 'detail' | 'hint' | 'context' | 'statement' | 'internal_query' | 'location';

/**
 * The field a secondary line of a report fills, or undefined for a severity that starts a report
 * (PostgreSQL elog.c `send_message_to_server_log`: DETAIL, HINT, CONTEXT, STATEMENT, QUERY, LOCATION).
 */
function attachedField(severity: string): TextField | undefined {
  switch (severity.charCodeAt(0)) {
    case 68: // D
      return severity === 'DETAIL' ? 'detail' : undefined;
    case 72: // H
      return severity === 'HINT' ? 'hint' : undefined;
    case 67: // C
      return severity === 'CONTEXT' ? 'context' : undefined;
    case 83: // S
      return severity === 'STATEMENT' ? 'statement' : undefined;
    case 81: // Q
      return severity === 'QUERY' ? 'internal_query' : undefined;
    case 76: // L
      return severity === 'LOCATION' ? 'location' : undefined;
    default:
      return undefined;
  }
}

const NEWLINE = 0x0a;
const TAB = 0x09;

/**
 * SQLSTATE classes PostgreSQL defines (PostgreSQL docs, Appendix A "PostgreSQL Error Codes";
 * source of truth: src/backend/utils/errcodes.txt). Only codes of these classes are taken from a
 * verbose-mode message, so text such as `AUDIT: ` is never mistaken for a SQLSTATE.
 */
const SQLSTATE_CLASSES = [
  '00', '01', '02', '03', '08', '09', '0A', '0B', '0F', '0L', '0P', '0Z',
  '20', '21', '22', '23', '24', '25', '26', '27', '28', '2B', '2D', '2F',
  '34', '38', '39', '3B', '3D', '3F', '40', '42', '44', '53', '54', '55', '57', '58',
  '72', 'F0', 'HV', 'P0', 'XX',
];

/** 1 at `(first char code << 7) | second char code` for each known class. */
const KNOWN_CLASS = new Uint8Array(1 << 14);
for (const c of SQLSTATE_CLASSES) KNOWN_CLASS[(c.charCodeAt(0) << 7) | c.charCodeAt(1)] = 1;

/** True for the char codes of `0-9` and `A-Z`, the SQLSTATE alphabet. */
function isSqlstateChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90);
}

/**
 * Length of the `SQLSTATE: ` that `log_error_verbosity = verbose` puts first in a message
 * (`ERROR:  42501: permission denied ...`; PostgreSQL elog.c `send_message_to_server_log`) at
 * index `at` of `text`: 7 when five SQLSTATE characters of a known class are followed by `: `, else 0.
 */
function verboseSqlstateLength(text: string, at: number): number {
  if (text.charCodeAt(at + 5) !== 58 || text.charCodeAt(at + 6) !== 32) return 0;
  const c0 = text.charCodeAt(at);
  const c1 = text.charCodeAt(at + 1);
  if (!isSqlstateChar(c0) || !isSqlstateChar(c1) || KNOWN_CLASS[(c0 << 7) | c1] !== 1) return 0;
  for (let i = at + 2; i < at + 5; i++) if (!isSqlstateChar(text.charCodeAt(i))) return 0;
  return 7;
}

const AT_CHARACTER = ' at character ';

/**
 * `message` without the ` at character N` stderr appends to it for a statement position
 * (elog.c `send_message_to_server_log`: `cursorpos` / `internalpos`; csvlog and jsonlog carry the
 * position in a column of its own instead), so the message reads the same in every format.
 * AUDIT payloads are left alone: their last field is data.
 */
function withoutCursorPosition(message: string): string {
  const last = message.charCodeAt(message.length - 1);
  if (last < 48 || last > 57 || message.startsWith('AUDIT: ')) return message;
  const at = message.lastIndexOf(AT_CHARACTER);
  if (at < 0 || at + AT_CHARACTER.length === message.length) return message;
  for (let i = at + AT_CHARACTER.length; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 48 || c > 57) return message;
  }
  return message.slice(0, at);
}

/** Largest `pos' <= pos` (and >= `min`) that does not split a UTF-8 sequence in `buf`. */
function charBoundary(buf: Buffer, pos: number, min: number): number {
  let p = pos;
  while (p > min && ((buf[p] as number) & 0xc0) === 0x80) p--;
  return p;
}

/**
 * Frames a PostgreSQL stderr log (`log_destination = stderr`, usually through the logging
 * collector) into `LogRecord`s, following the `RecordFramer` contract (record-framer.ts).
 *
 * Format (PostgreSQL docs, runtime-config-logging; elog.c `send_message_to_server_log`): each
 * report is `PREFIX SEVERITY:  message`, then optional `PREFIX DETAIL:  ...`, `HINT:`, `QUERY:`,
 * `CONTEXT:`, `LOCATION:` (verbose) and `STATEMENT:` lines from the same process; every newline
 * inside a value is followed by a TAB. With `log_error_verbosity = verbose` the message starts with
 * `SQLSTATE: `, which fills `sqlstate` and is removed from `message`. The ` at character N` stderr
 * appends to a message with a statement position is removed too (csvlog/jsonlog keep it in a column
 * of its own), except from LOG records and `AUDIT:` payloads.
 *
 * - Lines are split on 0x0A bytes; offsets and lengths are byte counts; text is decoded per line
 *   (invalid UTF-8 becomes U+FFFD; a character split across pushes is reassembled).
 * - A line that does not match the prefix continues the open record (its one leading TAB removed);
 *   before any record it is emitted as a `bad_prefix` failure covering that line.
 * - A `DETAIL`/`HINT`/`CONTEXT`/`STATEMENT`/`QUERY`/`LOCATION` line from the open record's pid
 *   attaches to it; any other matched line starts a new record.
 * - A matched line whose `%m`/`%t`/`%n` time cannot exist (`2026-02-30`, `24:00:00`, second 60;
 *   PostgreSQL never writes one) never attaches: it ends the open record and starts a report that is
 *   framed like any other (its TAB continuation lines and its own pid's DETAIL/STATEMENT/... lines
 *   join it, so none of them is glued to the previous record or counted as a report of its own)
 *   and emitted as one `bad_timestamp` failure covering all its lines, without its text.
 * - A record over `maxRecordBytes` (physical bytes, prefixes and newlines included) keeps its first
 *   `maxRecordBytes` bytes' worth of text, gets `truncated: true`, and the rest of its lines are
 *   skipped (still counted in `byteLength`). Memory per framer stays O(`maxRecordBytes`).
 * - `flush()` emits the open record unless a partial last line could still continue it.
 *
 * @throws ConfigError (from `compileLogLinePrefix`) for a bad prefix escape or an unknown zone
 */
export function createStderrFramer(options: StderrFramerOptions = {}): StreamingRecordFramer {
  return new StderrFramer(options);
}

class StderrFramer implements StreamingRecordFramer {
  private readonly matcher: LogLinePrefixMatcher;
  private readonly maxRecordBytes: number;
  /** a leading TAB marks a continuation without trying the prefix */
  private readonly tabIsContinuation: boolean;
  /** most bytes of a partial line kept (the rest is only counted) */
  private readonly partialCap: number;

  /** file offset of the next line's first byte (the partial line's, if any) */
  private lineOffset: number;
  private safe: number;
  private partial: Buffer = Buffer.alloc(0);
  private partialLength = 0;
  private partialSkipped = 0;

  private record: LogRecord | null = null;
  /** field continuation lines are appended to */
  private field: TextField = 'message';
  /** bytes of the open record whose text is kept */
  private keptBytes = 0;
  /** the open record was cut: its remaining lines are only counted */
  private skipping = false;
  /** the open record's first line has an impossible time: it is emitted as a `bad_timestamp` failure */
  private badTime = false;
  private out: FramedRecordSink = [];
  /** match target reused for every line */
  private readonly m = emptyLogLinePrefixMatch();

  constructor(options: StderrFramerOptions) {
    this.matcher = compileLogLinePrefix(options.logLinePrefix ?? DEFAULT_LOG_LINE_PREFIX, options.timezone ?? 'UTC');
    this.maxRecordBytes = Math.max(1, options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
    this.tabIsContinuation = !this.matcher.startsWithTab;
    this.partialCap = this.maxRecordBytes + 4;
    this.lineOffset = options.startOffset ?? 0;
    this.safe = this.lineOffset;
  }

  get safeOffset(): number {
    return this.safe;
  }

  restart(startOffset: number): void {
    this.lineOffset = startOffset;
    this.safe = startOffset;
    this.partialLength = 0;
    this.partialSkipped = 0;
    this.record = null;
    this.field = 'message';
    this.keptBytes = 0;
    this.skipping = false;
    this.badTime = false;
    this.out = [];
  }

  /** No open record, every complete line emitted: a held partial line is only bytes. */
  get restartable(): boolean {
    return this.record === null && this.lineOffset === this.safe;
  }

  push(chunk: Buffer): FramedRecord[] {
    const out: FramedRecord[] = [];
    this.pushTo(chunk, out);
    return out;
  }

  flush(): FramedRecord[] {
    const out: FramedRecord[] = [];
    this.flushTo(out);
    return out;
  }

  end(): FramedRecord[] {
    const out: FramedRecord[] = [];
    this.endTo(out);
    return out;
  }

  pushTo(chunk: Buffer, out: FramedRecordSink): void {
    this.out = out;
    let pos = 0;
    if (this.partialLength > 0 || this.partialSkipped > 0) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        this.appendPartial(chunk, 0, chunk.length);
        return;
      }
      this.appendPartial(chunk, 0, nl);
      this.completePartial(1);
      pos = nl + 1;
    }
    const length = chunk.length;
    while (pos < length) {
      const nl = chunk.indexOf(NEWLINE, pos);
      if (nl < 0) break;
      this.line(chunk, pos, nl, nl - pos + 1, false);
      pos = nl + 1;
    }
    if (pos < length) this.appendPartial(chunk, pos, length);
  }

  flushTo(out: FramedRecordSink): void {
    this.out = out;
    if (this.record !== null && !this.partialMayContinue()) this.emitOpen();
  }

  endTo(out: FramedRecordSink): void {
    this.out = out;
    if (this.partialLength > 0 || this.partialSkipped > 0) this.completePartial(0);
    if (this.record !== null) this.emitOpen();
  }

  /** Processes the held partial line as a complete line with `newlineBytes` (0 or 1) after it. */
  private completePartial(newlineBytes: number): void {
    const total = this.partialLength + this.partialSkipped + newlineBytes;
    const cut = this.partialSkipped > 0;
    const length = this.partialLength;
    this.partialLength = 0;
    this.partialSkipped = 0;
    this.line(this.partial, 0, length, total, cut);
  }

  private appendPartial(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    const take = Math.min(n, Math.max(0, this.partialCap - this.partialLength));
    if (take > 0) {
      const needed = this.partialLength + take;
      if (needed > this.partial.length) {
        const grown = Buffer.allocUnsafe(Math.min(this.partialCap, Math.max(needed, this.partial.length * 2, 256)));
        this.partial.copy(grown, 0, 0, this.partialLength);
        this.partial = grown;
      }
      chunk.copy(this.partial, this.partialLength, start, start + take);
      this.partialLength = needed;
    }
    this.partialSkipped += n - take;
  }

  /** True when the held partial line is, or may turn out to be, part of the open record. */
  private partialMayContinue(): boolean {
    if (this.partialLength === 0 && this.partialSkipped === 0) return false;
    if (this.tabIsContinuation && this.partial[0] === TAB) return true;
    const end = charBoundary(this.partial, Math.min(this.partialLength, this.maxRecordBytes), 0);
    const m = this.m;
    if (!this.matcher.matchInto(this.partial.toString('utf8', 0, end), m)) return true;
    return attachedField(m.severity) !== undefined && m.pid === (this.record as LogRecord).pid && !m.badTime;
  }

  /**
   * One physical line: bytes [start, end) of `buf` (no newline); `total` is the line's byte length
   * in the file (newline and skipped bytes included); `cut` when bytes beyond `end` were dropped.
   */
  private line(buf: Buffer, start: number, end: number, total: number, cut: boolean): void {
    const lineOffset = this.lineOffset;
    this.lineOffset += total;
    if (this.tabIsContinuation && buf[start] === TAB) {
      this.continuation(buf, start, start + 1, end, total, cut, lineOffset);
      return;
    }
    let textEnd = end;
    if (textEnd - start > this.maxRecordBytes) {
      textEnd = charBoundary(buf, start + this.maxRecordBytes, start);
      cut = true;
    }
    const text = buf.toString('utf8', start, textEnd);
    const m = this.m;
    if (!this.matcher.matchInto(text, m)) {
      if (this.tabIsContinuation) {
        // PostgreSQL writes a TAB after every newline inside a record (elog.c, append_with_tabs), so a
        // line that neither matches the prefix nor starts with a TAB is foreign: a wrong
        // log_line_prefix, or output of another program. It ends the open record and is counted,
        // never glued to a record (which would hide every later record behind a wrong prefix).
        if (this.record !== null) this.emitOpen();
        this.out.push({ failure: 'bad_prefix', offset: lineOffset, byteLength: total });
        this.safe = lineOffset + total;
        return;
      }
      this.continuation(buf, start, start, end, total, cut, lineOffset);
      return;
    }
    const record = this.record;
    const attachTo = attachedField(m.severity);
    if (attachTo !== undefined && record !== null && m.pid === record.pid && !m.badTime) {
      record.byteLength += total;
      if (this.skipping) return;
      this.field = attachTo;
      const room = this.maxRecordBytes - this.keptBytes;
      let value: string;
      if (total <= room && !cut) {
        value = text.slice(m.textStart);
        this.keptBytes += total;
      } else {
        const keep = buf.toString('utf8', start, charBoundary(buf, Math.min(textEnd, start + Math.max(0, room)), start));
        this.cutOpen();
        if (keep.length <= m.textStart) return;
        value = keep.slice(m.textStart);
      }
      const previous = record[attachTo];
      record[attachTo] = previous === null ? value : `${previous}\n${value}`;
      return;
    }

    if (record !== null) this.emitOpen();
    // Same fields, in the same order, as emptyLogRecord (one hidden class for every framer's records).
    const next: LogRecord = {
      offset: lineOffset,
      byteLength: total,
      timeMs: m.timeMs,
      user: m.user,
      database: m.database,
      pid: m.pid,
      host: m.host,
      port: m.port,
      session_id: m.session_id,
      session_line: m.session_line,
      command_tag: m.command_tag,
      sessionStartMs: m.sessionStartMs,
      vxid: m.vxid,
      xid: m.xid,
      severity: m.severity,
      sqlstate: m.sqlstate,
      message: '',
      detail: null,
      hint: null,
      internal_query: null,
      context: null,
      statement: null,
      location: null,
      application_name: m.application_name,
      backend_type: m.backend_type,
      leader_pid: m.leader_pid,
      query_id: m.query_id,
      truncated: false,
    };
    let messageStart = m.textStart;
    const sqlstateLength = verboseSqlstateLength(text, messageStart);
    if (sqlstateLength > 0) {
      next.sqlstate = text.slice(messageStart, messageStart + 5);
      messageStart += sqlstateLength;
    }
    next.message = text.slice(messageStart);
    this.record = next;
    this.field = 'message';
    this.skipping = false;
    this.badTime = m.badTime;
    this.keptBytes = total;
    if (cut) this.cutOpen();
  }

  /** A line that continues the open record; its text is bytes [textStart, end) of `buf`. */
  private continuation(
    buf: Buffer,
    start: number,
    textStart: number,
    end: number,
    total: number,
    cut: boolean,
    lineOffset: number,
  ): void {
    const record = this.record;
    if (record === null) {
      this.out.push({ failure: 'bad_prefix', offset: lineOffset, byteLength: total });
      this.safe = lineOffset + total;
      return;
    }
    record.byteLength += total;
    if (this.skipping) return;
    const room = this.maxRecordBytes - this.keptBytes;
    let textEnd = end;
    if (total > room || cut) {
      textEnd = charBoundary(buf, Math.min(end, start + Math.max(0, room)), textStart);
      this.cutOpen();
      if (textEnd <= textStart) return;
    } else {
      this.keptBytes += total;
    }
    record[this.field] = `${record[this.field] ?? ''}\n${buf.toString('utf8', textStart, textEnd)}`;
  }

  /** Marks the open record cut: it keeps what it has and skips the rest of its lines. */
  private cutOpen(): void {
    (this.record as LogRecord).truncated = true;
    this.skipping = true;
    this.keptBytes = this.maxRecordBytes;
  }

  private emitOpen(): void {
    const record = this.record as LogRecord;
    if (this.badTime) {
      this.out.push({ failure: 'bad_timestamp', offset: record.offset, byteLength: record.byteLength });
      this.safe = record.offset + record.byteLength;
      this.record = null;
      return;
    }
    if (record.severity !== 'LOG' && !record.truncated) record.message = withoutCursorPosition(record.message);
    this.out.push(record);
    this.safe = record.offset + record.byteLength;
    this.record = null;
  }
}
