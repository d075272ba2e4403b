import type { ParseFailureReason } from '../domain/access-event.js';
import { ConnectionFromCache } from './connection-from-cache.js';
import { integerAt } from './csv-record-builder.js';
import { csvFieldText, undoubleQuotes } from './csv-field-splitter.js';
import { MAX_COMMAS } from './csv-record-scanner.js';
import type { LogRecord } from './log-record.js';
import { StringInterner } from './string-interner.js';
import { LogTimeAt } from './log-time-at.js';
import type { TimestampParser } from './timestamp-parser.js';

const QUOTE_CHAR = 0x22;
/** Longest record whose column values are kept for reuse (a kept value keeps its record's text). */
const MAX_REUSED_RECORD_CHARS = 4096;
/** How `fields` decodes a column. */
const FREE_TEXT = 0;
const REUSED = 1;
const SKIPPED = 2;
/**
 * Column kinds: FREE_TEXT for log_time (0) and the free-text columns message (13), detail (14),
 * hint (15), internal_query (16), context (18), query (19); SKIPPED for the columns no `LogRecord`
 * field reads, internal_query_pos (17) and query_pos (20); REUSED for the columns whose values
 * repeat from record to record (see `reusedText`).
 */
const COLUMN_KINDS = Uint8Array.from({ length: MAX_COMMAS + 1 }, (_, k) =>
  [0, 13, 14, 15, 16, 18, 19].includes(k) ? FREE_TEXT : k === 17 || k === 20 ? SKIPPED : REUSED,
);
/** Columns whose values are interned: user_name (1), database_name (2), application_name (22). */
const INTERNED_COLUMNS = [1, 2, 22];

/**
 * Cuts the columns of csvlog records held as all-one-byte text (so text and byte positions agree)
 * at the unquoted commas the scan found (`commas[k]` = index of the k-th comma in `text`), for one
 * framer. Column meanings: `buildCsvlogRecord` (PostgreSQL docs, runtime-config-logging, "Using
 * CSV-Format Log Output").
 *
 * Repeated column values are shared between records (`reusedText`); user, database, application
 * name and the host of `connection_from` are interned (a `StringInterner` each per reader).
 * Never throws.
 */
export class CsvColumnReader {
  /** `connection_from` split into host (interned) and port; also used for records split elsewhere */
  readonly connections = new ConnectionFromCache();
  /** last kept value of each column (see `reusedText`) */
  private readonly recent: string[] = new Array<string>(MAX_COMMAS + 1).fill('');
  /** the pool of each interned column's values (null for the other columns) */
  private readonly interners: (StringInterner | null)[] = Array.from({ length: MAX_COMMAS + 1 }, (_, k) =>
    INTERNED_COLUMNS.includes(k) ? new StringInterner() : null,
  );
  /** `log_time` read where it stands */
  private readonly times: LogTimeAt;

  /** @param parseTime converts `log_time` to UTC epoch ms (see `buildCsvlogRecord`) */
  constructor(private readonly parseTime: TimestampParser) {
    this.times = new LogTimeAt(parseTime);
  }

  /**
   * All `columns` decoded columns of `text` (empty ones null; internal_query_pos and query_pos
   * null), for `buildCsvlogRecord`.
   */
  fields(text: string, commas: Int32Array, columns: number): (string | null)[] {
    const fields = new Array<string | null>(columns);
    const reuse = text.length <= MAX_REUSED_RECORD_CHARS;
    let from = 0;
    for (let k = 0; k < columns; k++) {
      const end = k < columns - 1 ? (commas[k] as number) : text.length;
      const kind = COLUMN_KINDS[k];
      if (kind === REUSED) fields[k] = this.reusedText(text, from, end, k, reuse);
      else if (kind === SKIPPED) fields[k] = null;
      else fields[k] = csvFieldText(text, from, end);
      from = end + 1;
    }
    return fields;
  }

  /**
   * `buildCsvlogRecord` of the columns of `text` with only the fields events are built from
   * (the framer's `eventFieldsOnly`; the others null), read straight from the text: no array of
   * columns, no strings for the columns left out, and process_id and session_line_num read as
   * numbers without a string when unquoted.
   * @param columns 23, 24 or 26 (the caller checked)
   * @returns the record, or `bad_timestamp` when `log_time` is empty or not a PostgreSQL timestamp
   */
  eventRecord(
    text: string,
    commas: Int32Array,
    columns: number,
    offset: number,
    byteLength: number,
  ): LogRecord | ParseFailureReason {
    const reuse = text.length <= MAX_REUSED_RECORD_CHARS;
    const c = commas;
    const user = this.reusedText(text, (c[0] as number) + 1, c[1] as number, 1, reuse);
    const database = this.reusedText(text, (c[1] as number) + 1, c[2] as number, 2, reuse);
    const pid = this.integer(text, (c[2] as number) + 1, c[3] as number, 3, reuse);
    const connectionFrom = this.reusedText(text, (c[3] as number) + 1, c[4] as number, 4, reuse);
    const sessionId = this.reusedText(text, (c[4] as number) + 1, c[5] as number, 5, reuse);
    const sessionLine = this.integer(text, (c[5] as number) + 1, c[6] as number, 6, reuse);
    const severity = this.reusedText(text, (c[10] as number) + 1, c[11] as number, 11, reuse);
    const sqlstate = this.reusedText(text, (c[11] as number) + 1, c[12] as number, 12, reuse);
    const message = csvFieldText(text, (c[12] as number) + 1, c[13] as number);
    const detail = csvFieldText(text, (c[13] as number) + 1, c[14] as number);
    const hint = csvFieldText(text, (c[14] as number) + 1, c[15] as number);
    const context = csvFieldText(text, (c[17] as number) + 1, c[18] as number);
    const statement = csvFieldText(text, (c[18] as number) + 1, c[19] as number);
    const applicationName = this.reusedText(text, (c[21] as number) + 1, columns > 23 ? (c[22] as number) : text.length, 22, reuse);
    const backendType =
      columns > 23 ? this.reusedText(text, (c[22] as number) + 1, columns > 24 ? (c[23] as number) : text.length, 23, reuse) : null;
    const timeMs = this.logTime(text, c[0] as number);
    if (timeMs === null) return 'bad_timestamp';
    const connections = this.connections;
    connections.split(connectionFrom);
    // Same fields, in the same order, as emptyLogRecord (one hidden class for every framer's records).
    return {
      offset,
      byteLength,
      timeMs,
      user,
      database,
      pid,
      host: connections.host,
      port: connections.port,
      session_id: sessionId,
      session_line: sessionLine,
      command_tag: null,
      sessionStartMs: null,
      vxid: null,
      xid: null,
      severity,
      sqlstate,
      message: message ?? '',
      detail,
      hint,
      internal_query: null,
      context,
      statement,
      location: null,
      application_name: applicationName,
      backend_type: backendType,
      leader_pid: null,
      query_id: null,
      truncated: false,
    };
  }

  /** `log_time` (`text[0, end)`) in UTC epoch ms; null when empty or not a time. */
  private logTime(text: string, end: number): number | null {
    if (end > 0 && text.charCodeAt(0) !== QUOTE_CHAR) return this.times.at(text, 0, end);
    const value = csvFieldText(text, 0, end);
    return value === null ? null : this.parseTime(value);
  }

  /** A numeric column `text[from, end)` as `integerAt` does; a quoted one through `reusedText`. */
  private integer(text: string, from: number, end: number, column: number, keep: boolean): number | null {
    if (from >= end) return null;
    if (text.charCodeAt(from) !== QUOTE_CHAR) return integerAt(text, from, end);
    const value = this.reusedText(text, from, end, column, keep);
    return value === null ? null : integerAt(value, 0, value.length);
  }

  /**
   * `csvFieldText(text, from, end)` (a quoted value undoubled, an empty one null), but when the
   * column holds the same text as the last time it was kept, that earlier string: repeated values
   * (user, database, host, severity, application name, ...) then cost no new string (the slice
   * compared dies young), and events share them. Only values without `"` are kept, so an equal raw
   * range means an equal decoded value; `keep` false (a long record) keeps nothing new.
   * User, database and application name are also interned.
   */
  private reusedText(text: string, from: number, end: number, column: number, keep: boolean): string | null {
    if (from >= end) return null;
    let a = from;
    let b = end;
    if (text.charCodeAt(from) === QUOTE_CHAR) {
      if (end - from < 2 || text.charCodeAt(end - 1) !== QUOTE_CHAR) return csvFieldText(text, from, end);
      a = from + 1;
      b = end - 1;
    }
    if (b <= a) return null;
    // compared as a slice with `===` (an engine compare): cheaper than a character loop, and the
    // slice is the value when it differs
    const raw = text.slice(a, b);
    const previous = this.recent[column] as string;
    if (raw === previous) return previous;
    const hasQuote = raw.indexOf('"') >= 0;
    let value = a !== from && hasQuote ? undoubleQuotes(raw) : raw;
    const interner = this.interners[column] as StringInterner | null;
    if (interner !== null) value = interner.intern(value);
    if (keep && !hasQuote) this.recent[column] = value;
    return value;
  }
}
