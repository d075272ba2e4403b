/** A PostgreSQL log destination format (PostgreSQL docs, runtime-config-logging, log_destination). */
export type LogFormat = 'stderr' | 'csvlog' | 'jsonlog';

/** All formats, for option validation. */
export const LOG_FORMATS: readonly LogFormat[] = ['stderr', 'csvlog', 'jsonlog'];

const CSV_START = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} [^,]*,/;

/**
 * Picks the format of a log file for `--format auto`: by extension first (`.csv` csvlog, `.json`
 * jsonlog, `.log` stderr, as PostgreSQL names its destinations' files), then by content (a first
 * line that is a JSON object is jsonlog; one that starts with a csvlog `log_time` and a comma is
 * csvlog; anything else is stderr).
 *
 * @param path the file path
 * @param head the first bytes of the file (a few KiB are enough)
 */
export function detectLogFormat(path: string, head: Buffer): LogFormat {
  if (/\.csv$/i.test(path)) return 'csvlog';
  if (/\.json$/i.test(path)) return 'jsonlog';
  if (/\.log$/i.test(path)) return 'stderr';
  const newline = head.indexOf(10);
  const first = head.subarray(0, newline >= 0 ? newline : head.length).toString('utf8');
  if (first.startsWith('{') && first.trimEnd().endsWith('}')) return 'jsonlog';
  if (CSV_START.test(first)) return 'csvlog';
  return 'stderr';
}
