/**
 * Compiles a file-name glob into a predicate on base names (never on paths: a log folder is flat).
 * Supports `*` (any run of characters), `?` (one character), `[abc]` / `[a-z]` / `[!abc]` character
 * classes and `{a,b}` alternatives; every other character matches itself. A leading dot is not
 * special. Example: `fileNameGlob('postgresql-*.{log,csv}')('postgresql-Mon.log') === true`.
 *
 * @throws Error when the pattern is empty or contains `/`.
 */
export function fileNameGlob(pattern: string): (name: string) => boolean {
  if (pattern.length === 0 || pattern.includes('/')) throw new Error(`invalid file name glob: ${JSON.stringify(pattern)}`);
  let source = '';
  let braceDepth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) source += '\\[';
      else {
        let body = pattern.slice(i + 1, close);
        const negate = body.startsWith('!');
        if (negate) body = body.slice(1);
        source += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
        i = close;
      }
    } else if (c === '{') {
      braceDepth++;
      source += '(?:';
    } else if (c === '}' && braceDepth > 0) {
      braceDepth--;
      source += ')';
    } else if (c === ',' && braceDepth > 0) source += '|';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  if (braceDepth > 0) throw new Error(`invalid file name glob (unclosed brace): ${JSON.stringify(pattern)}`);
  const regex = new RegExp(`^${source}$`, 's');
  return (name) => regex.test(name);
}
