/** `--format` of `jaga parse` and `jaga replay`: one check, the allowed formats and a did-you-mean. */
import { describe, expect, it } from 'vitest';
import { checkFormatOption } from '../../src/cli/format-option.js';
import { parseCommand } from '../../src/cli/parse-command.js';

describe('--format', () => {
  it('accepts auto and the three log formats as they are', () => {
    expect(['auto', 'stderr', 'csvlog', 'jsonlog'].map(checkFormatOption)).toEqual(['auto', 'stderr', 'csvlog', 'jsonlog']);
  });

  it('maps extensions to the format they mean and suggests close spellings', () => {
    expect(() => checkFormatOption('csv')).toThrow('--format must be auto, stderr, csvlog or jsonlog, not "csv" (did you mean "csvlog"?)');
    expect(() => checkFormatOption('JSON')).toThrow('not "JSON" (did you mean "jsonlog"?)');
    expect(() => checkFormatOption('stdrr')).toThrow('not "stdrr" (did you mean "stderr"?)');
    expect(() => checkFormatOption('parquet')).toThrow(/^--format must be auto, stderr, csvlog or jsonlog, not "parquet"$/);
  });

  it('jaga parse refuses a wrong format with the hint before reading any file', async () => {
    await expect(parseCommand(['--format', 'csv', '/nonexistent/file.csv'])).rejects.toThrow('not "csv" (did you mean "csvlog"?)');
  });
});
