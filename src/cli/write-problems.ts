/**
 * Writes a list of problems (config, rule set) to `stream`: one line each as given (they already name
 * the file, line and field), then a count line (`1 problem`, `3 problems`), so a reader of a long list
 * knows it is complete.
 */
export function writeProblems(stream: NodeJS.WritableStream, problems: readonly string[]): void {
  for (const problem of problems) stream.write(`${problem}\n`);
  stream.write(`${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
}
