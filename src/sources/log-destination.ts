/** A PostgreSQL log destination jaga can read (PostgreSQL docs, runtime-config-logging, log_destination). */
export type LogDestination = 'stderr' | 'csvlog' | 'jsonlog';

/** Default file glob per destination: the logging collector names them `.log`, `.csv` and `.json`. */
export const DEFAULT_GLOB_BY_DESTINATION: Readonly<Record<LogDestination, string>> = Object.freeze({
  stderr: '*.log',
  csvlog: '*.csv',
  jsonlog: '*.json',
});

/**
 * Picks the destination to read from the file names present in a log folder (`format: auto`).
 * A folder written with several destinations holds the same records once per destination, so
 * exactly one is read. Preference is csvlog > jsonlog > stderr: csvlog and jsonlog are
 * self-delimiting structured formats (no dependence on `log_line_prefix`, no stray lines that
 * other programs print on the server's stderr), csvlog exists on every supported PostgreSQL
 * version while jsonlog needs 15+, and csvlog is about a third smaller than jsonlog for the same
 * records (corpus pg15-pgaudit: 2.0 MB vs 3.1 MB).
 *
 * @param names base names of the files in the folder
 * @returns the destination, or null when no `.csv`, `.json` or `.log` file is present yet
 */
export function pickLogDestination(names: readonly string[]): LogDestination | null {
  const present = (extension: string): boolean => names.some((name) => name.endsWith(extension));
  if (present('.csv')) return 'csvlog';
  if (present('.json')) return 'jsonlog';
  if (present('.log')) return 'stderr';
  return null;
}
