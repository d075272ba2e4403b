import { didYouMean } from '../lib/did-you-mean.js';
import { LOG_FORMATS, type LogFormat } from '../parse/log-format.js';
import { CliError } from './cli-error.js';

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
