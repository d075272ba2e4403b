/**
 * Writes a list of problems (config, rule set) to `stream`: one line each as given (they already name
 * the file, line and field), then a count line such as `3 problems` or `1 rule load problem`, so a
 * reader of a long list knows it is complete.
 * @param noun what is counted, singular (`problem`, `rule load problem`); an `s` is added for counts other than 1
 */
export function writeProblems(stream: NodeJS.WritableStream, problems: readonly string[], noun = 'problem'): void {
  for (const problem of problems) stream.write(`${problem}\n`);
  stream.write(`${problems.length} ${noun}${problems.length === 1 ? '' : 's'}\n`);
}
