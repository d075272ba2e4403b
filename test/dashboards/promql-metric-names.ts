/**
 * A small PromQL tokenizer for tests: the metric names an expression selects, ignoring functions and
 * aggregations (identifiers followed by `(`), label matchers (`{...}`), label lists (`by (...)`,
 * `on (...)`, `group_left (...)`), ranges and subqueries (`[5m]`, `[1h:1m]`), strings, numbers,
 * durations and keywords. Truth for the grammar: Prometheus docs, "Querying basics" and "Operators".
 */

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2']);

/** Returns the sorted, distinct metric names `expr` selects, e.g. `rate(a_total{x="y"}[5m]) / b` -> `['a_total', 'b']`. */
export function promqlMetricNames(expr: string): string[] {
  let text = expr;
  text = text.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ');
  text = text.replace(/#[^\n]*/g, ' ');
  text = text.replace(/\{[^}]*\}/g, ' ');
  text = text.replace(/\[[^\]]*\]/g, ' ');
  text = text.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  text = text.replace(/(?<![A-Za-z_:0-9])(?:0x[0-9a-f]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?(?:ms|[smhdwy])*|\.\d+(?:e[+-]?\d+)?)(?![A-Za-z_:0-9])/gi, ' ');
  text = text.replace(/(?<![A-Za-z_:0-9])\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*(?![A-Za-z_:0-9])/g, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const ident = match[1]!;
    if (match[2] !== undefined) continue;
    if (KEYWORDS.has(ident.toLowerCase())) continue;
    names.add(ident);
  }
  return [...names].sort();
}
