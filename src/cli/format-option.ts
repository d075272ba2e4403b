import { didYouMean } from '../lib/did-you-mean.js';
import { LOG_FORMATS, type LogFormat } from '../parse/log-format.js';
import { CliError } from './cli-error.js';
import { openLogFile } from './open-log-file.js';

/** The values `--format` takes in `jaga parse` and `jaga replay`. */
export const FORMAT_CHOICES: readonly string[] = ['auto', ...LOG_FORMATS];

/** Names people type for a format (file extensions, PostgreSQL's own words) and the format they mean. */
const FORMAT_ALIASES: Readonly<Record<string, string>> = { csv: 'csvlog', json: 'jsonlog', log: 'stderr', text: 'stderr' };

/**
 * Checks a `--format` value.
 * @returns the value as a LogFormat or `auto`
 * @throws CliError naming the allowed formats, with a "did you mean" (`csv` -> `csvlog`) when one is close
 */
export function checkFormatOption(format: string): LogFormat | 'auto' {
  if (format === 'auto' || LOG_FORMATS.includes(format as LogFormat)) return format as LogFormat | 'auto';
  const close = FORMAT_ALIASES[format.toLowerCase()] ?? didYouMean(format, FORMAT_CHOICES);
  throw new CliError(`--format must be auto, stderr, csvlog or jsonlog, not "${format}"${close === null ? '' : ` (did you mean "${close}"?)`}`);
}

/**
 * A hint when an explicit --format parsed at most half of the records (the usual sign of a wrong
 * format): the formats `auto` would pick for the files (by extension, then content) and the choices.
 * Used by `jaga parse` and `jaga replay`.
 * @returns e.g. `hint: 1582 of 1582 records did not parse as stderr (--format); by name and content the files look like csvlog: try --format auto (formats: auto, stderr, csvlog, jsonlog)`, or null
 */
export async function wrongFormatHint(format: LogFormat, files: readonly string[], summary: { records: number; failures: number }): Promise<string | null> {
  if (summary.records === 0 || summary.failures * 2 < summary.records) return null;
  const detected = new Set<LogFormat>();
  for (const file of files) {
    const opened = await openLogFile(file, 'auto');
    await opened.handle.close();
    detected.add(opened.format);
  }
  const other = [...detected].filter((f) => f !== format);
  const looks = other.length === 0 ? '' : `; by name and content the files look like ${[...detected].join(', ')}: try --format auto`;
  return `hint: ${summary.failures} of ${summary.records} records did not parse as ${format} (--format)${looks} (formats: ${FORMAT_CHOICES.join(', ')})`;
}

/**
 * A hint when at most half of the records parsed, every file is a stderr log by name and content,
 * and it was read with the default log_line_prefix (no --log-line-prefix given): a server with
 * another prefix is the usual cause. Used by `jaga parse` before `wrongFormatHint`.
 * @param format the --format given (`auto` or a format)
 * @returns e.g. `hint: 10282 of 10290 records did not parse with the default log_line_prefix '%m [%p] ': give the server's exact prefix with --log-line-prefix (SHOW log_line_prefix)`, or null
 */
export async function logLinePrefixHint(format: LogFormat | 'auto', logLinePrefix: string | undefined, files: readonly string[], summary: { records: number; failures: number }): Promise<string | null> {
  if (logLinePrefix !== undefined || summary.records === 0 || summary.failures * 2 < summary.records) return null;
  if (format !== 'auto' && format !== 'stderr') return null;
  for (const file of files) {
    const opened = await openLogFile(file, 'auto');
    await opened.handle.close();
    if (opened.format !== 'stderr') return null;
  }
  return `hint: ${summary.failures} of ${summary.records} records did not parse with the default log_line_prefix '%m [%p] ': give the server's exact prefix with --log-line-prefix (SHOW log_line_prefix)`;
}
