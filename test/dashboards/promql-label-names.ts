/**
 * The label names a PromQL expression refers to, for tests: keys of label matchers (`{kind="audit"}`)
 * and the names in `by`, `without`, `on`, `ignoring`, `group_left` and `group_right` lists. Strings
 * are skipped. Truth for the grammar: Prometheus docs, "Querying basics" and "Operators".
 */
export function promqlLabelNames(expr: string): string[] {
  const text = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  const names = new Set<string>();
  for (const matchers of text.matchAll(/\{([^}]*)\}/g)) {
    for (const key of matchers[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) names.add(key[1]!);
  }
  for (const list of text.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/gi)) {
    for (const label of list[1]!.split(',').map((l) => l.trim()).filter((l) => l !== '')) names.add(label);
  }
  return [...names].sort();
}
