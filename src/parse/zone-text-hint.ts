import type { LogFormat } from './log-format.js';
import { checkZoneText, formatUtcOffset } from './zone-text-check.js';
import { findZoneTextSample, wholeLinesText } from './zone-text-sample.js';

/** Bytes of a file's head looked at for its first record's time. */
export const ZONE_HINT_HEAD_BYTES = 64 * 1024;

/**
 * The `jaga parse` hint line (without its newline) when the zone text of the first record of a log
 * file's head contradicts `--timezone` (see `checkZoneText`), e.g. `hint: log times say "WIB"
 * (UTC+07:00) but --timezone is UTC (UTC+00:00): every time is converted with the wrong offset; give
 * the server's log_timezone with --timezone (SHOW log_timezone)`. No log content beyond the zone text.
 *
 * @param format the file's format (as detected for `auto`)
 * @param head the file's first bytes (the first ZONE_HINT_HEAD_BYTES are looked at)
 * @param options `--log-line-prefix` (stderr) and `--timezone`
 * @returns the hint, or null when the zone text agrees, says nothing known, or no record is found
 * @throws ConfigError (stderr) or RangeError for a prefix or zone the parser refuses (the command checks them first)
 */
export function zoneTextHint(format: LogFormat, head: Buffer, options: { logLinePrefix?: string; timezone: string }): string | null {
  const sample = findZoneTextSample(format, wholeLinesText(head, ZONE_HINT_HEAD_BYTES), options);
  if (sample === null || sample.zoneText === null || sample.timeMs === null) return null;
  const check = checkZoneText(sample.zoneText, sample.timeMs, options.timezone);
  if (check.verdict !== 'mismatch') return null;
  const said = check.textOffsetsMinutes.map(formatUtcOffset).join(' or ');
  return (
    `hint: log times say "${sample.zoneText}" (${said}) but --timezone is ${options.timezone} (${formatUtcOffset(check.zoneOffsetMinutes)}): ` +
    "every time is converted with the wrong offset; give the server's log_timezone with --timezone (SHOW log_timezone)"
  );
}
