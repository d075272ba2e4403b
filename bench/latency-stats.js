// Percentiles and one-line summaries of latency samples (milliseconds), shared by the notify,
// pipeline and http sections.

/**
 * The p-th percentile (0..100) of `samples` by the nearest-rank method (sorted ascending; p99 of 200
 * samples is the 198th value), or null when there are none.
 * @param {number[]} samples milliseconds
 * @param {number} p percentile, 0..100
 */
export function percentile(samples, p) {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** `1.2 ms` / `340 ms` / `-` for a millisecond figure. */
export function formatMs(ms) {
  if (ms === null || ms === undefined) return '-';
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`;
}

/**
 * One aligned line: `label  p50 X  p99 Y  max Z  (n samples[, m missed])`.
 * @param {string} label row name (padded to `width`)
 * @param {number[]} samples milliseconds
 * @param {{width?: number, missed?: number, note?: string}} [options]
 */
export function latencyLine(label, samples, options = {}) {
  const max = samples.length === 0 ? null : Math.max(...samples);
  const missed = options.missed ? `, ${options.missed} missed` : '';
  const note = options.note ? `  ${options.note}` : '';
  return `  ${label.padEnd(options.width ?? 44)}  p50 ${formatMs(percentile(samples, 50)).padStart(8)}  p99 ${formatMs(percentile(samples, 99)).padStart(8)}  max ${formatMs(max).padStart(8)}  (${samples.length} samples${missed})${note}`;
}

/**
 * `label: p99 X (target < T ms): met|MISSED`, or `figure missing` when there are no samples.
 * @param {string} label
 * @param {number[]} samples milliseconds
 * @param {number} targetMs the p99 bound
 */
export function p99TargetLine(label, samples, targetMs) {
  const p99 = percentile(samples, 99);
  if (p99 === null) return `${label}: figure missing (target p99 < ${targetMs} ms)`;
  return `${label}: p99 ${formatMs(p99)} (target p99 < ${targetMs} ms): ${p99 < targetMs ? 'met' : 'MISSED'}`;
}
