/** Largest edit distance for which a "did you mean" suggestion is offered. */
const MAX_SUGGESTION_DISTANCE = 2;

/**
 * The candidate closest to `word` by Levenshtein distance, when that distance is at most 2
 * (ties: the first candidate in order), or null. Comparison is case-insensitive.
 * Example: `didYouMean('windw', ['window', 'count'])` → `'window'`.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | null {
  const target = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = MAX_SUGGESTION_DISTANCE + 1;
  for (const candidate of candidates) {
    const distance = levenshtein(target, candidate.toLowerCase(), bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` or an empty string: the suffix load and config problems append. */
export function suggestionSuffix(word: string, candidates: Iterable<string>): string {
  const suggestion = didYouMean(word, candidates);
  return suggestion === null ? '' : ` (did you mean "${suggestion}"?)`;
}

/** Levenshtein distance of `a` and `b`; returns `limit` early when the distance is at least `limit`. */
function levenshtein(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length] as number, limit);
}
