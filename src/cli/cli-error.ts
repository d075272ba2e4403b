/** A usage or input error of a CLI command: printed as one line, exit code 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * The CliError for an error thrown by `node:util` `parseArgs`, as one line: an option followed by a
 * value that starts with `-` (`--limit -5`, which parseArgs calls "ambiguous" in three lines) says how
 * to give such a value; an unknown option or an option without its value is named with a pointer to
 * --help; any other message keeps its first line only.
 */
export function argumentsError(error: unknown): CliError {
  const message = error instanceof Error ? error.message : String(error);
  const ambiguous = /^Option '(-[^']+)' argument is ambiguous/.exec(message);
  if (ambiguous !== null) {
    const option = ambiguous[1] as string;
    return new CliError(`${option} needs a value (one that starts with "-" is written ${option}=VALUE)`);
  }
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown !== null) return new CliError(`unknown option ${unknown[1] as string} (see --help)`);
  const missing = /^Option '(-[^' ]+)(?: <value>)?' argument missing/.exec(message);
  if (missing !== null) return new CliError(`${missing[1] as string} needs a value (see --help)`);
  return new CliError(message.split('\n')[0] as string);
}
