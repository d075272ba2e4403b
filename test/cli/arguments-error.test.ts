import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { argumentsError, CliError } from '../../src/cli/cli-error.js';

/** The error parseArgs throws for `args`, with one string option --limit and no positionals. */
function parseError(args: string[]): unknown {
  try {
    parseArgs({ args, options: { limit: { type: 'string' } } });
  } catch (error) {
    return error;
  }
  throw new Error('parseArgs accepted the arguments');
}

describe('argumentsError: parseArgs errors as one CLI line', () => {
  it('turns "--limit -5" (parseArgs: ambiguous, three lines) into how to give a value starting with "-"', () => {
    const error = argumentsError(parseError(['--limit', '-5']));
    expect(error).toBeInstanceOf(CliError);
    expect(error.message).toBe('--limit needs a value (one that starts with "-" is written --limit=VALUE)');
  });

  it('keeps a one-line message as it is and only the first line of any other', () => {
    expect(argumentsError(parseError(['--bogus'])).message).toBe('unknown option --bogus (see --help)');
    expect(argumentsError(parseError(['--limit'])).message).toBe('--limit needs a value (see --help)');
    expect(argumentsError(new Error('first line\nsecond line')).message).toBe('first line');
  });
});
