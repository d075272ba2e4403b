/**
 * JSON with object keys sorted at every level, so equal values give equal text whatever the key
 * order they were written in. Used for selection sharing and `stateKey`. `undefined` members are
 * dropped (as JSON.stringify does). Example: `canonicalJson({b: 1, a: [2, {d: 3, c: 4}]})` →
 * `{"a":[2,{"c":4,"d":3}],"b":1}`.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeys(member);
  }
  return sorted;
}
