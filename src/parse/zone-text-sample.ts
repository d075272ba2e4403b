import { compileLogLinePrefix } from './log-line-prefix.js';
import type { LogFormat } from './log-format.js';
import { createTimestampParser } from './timestamp-parser.js';

/** The time of the first record found in a piece of log text, for `checkZoneText`. */
export interface ZoneTextSample {
  /** the zone text after the time as PostgreSQL printed it (`UTC`, `WIB`, `+07`), or null when the record's time carries none (stderr `%n`) */
  zoneText: string | null;
  /** the time converted with the configured zone, UTC epoch ms (null with `zoneText` null) */
  timeMs: number | null;
}

/** Options of `findZoneTextSample`: the source's parser settings. */
export interface ZoneTextSampleOptions {
  /** the server's exact `log_line_prefix` (stderr only; default `'%m [%p] '`) */
  logLinePrefix?: string;
  /** IANA zone of the server's `log_timezone` as configured (default UTC) */
  timezone?: string;
}

/** A `%m`/`%t`/`%s` time, csvlog `log_time` or jsonlog `timestamp`: `YYYY-MM-DD HH:MM:SS[.mmm] ZONE` (zone captured). */
const TIME_TEXT = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{3})? ([A-Za-z]+|[+-]\d{2}(?::?\d{2})?)$/;
/** A csvlog record's first line: `log_time` (unquoted, PostgreSQL elog.c write_csvlog) then a comma. */
const CSV_RECORD = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (?:[A-Za-z]+|[+-]\d{2}(?::?\d{2})?)),/;
/** A jsonlog record: `timestamp` is its first key (PostgreSQL jsonlog.c write_jsonlog). */
const JSON_RECORD = /^\{"timestamp":"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (?:[A-Za-z]+|[+-]\d{2}(?::?\d{2})?))"/;

/**
 * Finds the first record of `text` (whole lines of a log file in `format`, e.g. the head of a file
 * or a chunk starting on a record boundary) whose time is a real time, and returns that time's zone
 * text and instant: the csvlog `log_time` column, the jsonlog `timestamp` key, or for stderr the
 * `%m`/`%t` (else `%s`) capture of the compiled `log_line_prefix` (PostgreSQL docs,
 * runtime-config-logging). Lines that are not such a record (continuation lines, foreign lines,
 * times that cannot exist) are passed over.
 *
 * Example: `findZoneTextSample('csvlog', '2026-11-29 17:17:16.517 WIB,,,14439,...\n')` gives
 * `{zoneText: 'WIB', timeMs: 1795972636517}` (converted as UTC, the default zone).
 *
 * @returns the sample, or null when no line of `text` is a record with a real time
 * @throws ConfigError (stderr) for a `logLinePrefix` or `timezone` that `compileLogLinePrefix` refuses;
 *   RangeError (csvlog, jsonlog) for a `timezone` Intl does not know
 */
export function findZoneTextSample(format: LogFormat, text: string, options: ZoneTextSampleOptions = {}): ZoneTextSample | null {
  const timezone = options.timezone ?? 'UTC';
  const matcher = format === 'stderr' ? compileLogLinePrefix(options.logLinePrefix, timezone) : null;
  const parseTime = createTimestampParser(timezone);
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    let timeText: string | null | undefined;
    if (matcher === null) {
      timeText = (format === 'csvlog' ? CSV_RECORD : JSON_RECORD).exec(line)?.[1];
    } else {
      const match = matcher.regex.exec(line);
      if (match === null) continue;
      // the capture that is a time: `%m`/`%t` or `%s` (one zone: the server's log_timezone)
      timeText = match.slice(1).find((value) => value !== undefined && TIME_TEXT.test(value)) ?? null;
      if (timeText === null) return { zoneText: null, timeMs: null };
    }
    if (timeText === undefined) continue;
    const timeMs = parseTime(timeText);
    if (timeMs === null) continue;
    return { zoneText: (TIME_TEXT.exec(timeText) as RegExpExecArray)[1] as string, timeMs };
  }
  return null;
}

/**
 * The text of the whole lines within the first `maxBytes` bytes of `bytes` (UTF-8), for
 * `findZoneTextSample`: cut after the last newline there, so no character or line is cut in two
 * (all of the first `maxBytes` bytes when they hold no newline: a record longer than that).
 */
export function wholeLinesText(bytes: Buffer, maxBytes: number): string {
  const length = Math.min(bytes.length, maxBytes);
  const newline = length === 0 ? -1 : bytes.lastIndexOf(10, length - 1);
  return bytes.toString('utf8', 0, newline >= 0 ? newline : length);
}
