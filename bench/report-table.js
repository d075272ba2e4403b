// Renders bench groups as a plain-text table with ratios to the same-run floor and reference.

/**
 * @typedef {{measurement: import('./measurement.js').Measurement, target?: import('./parse-section.js').Target}} BenchRow
 * @typedef {{met: boolean|null, ratio: number|null}} TargetCheck met null when a figure is missing
 */

/** Formats a rate with a k/M suffix: 1234567 → `1.23 M`. */
function formatRate(value) {
  if (value === null) return '-';
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

/** Formats kilobytes as MB (1e6 bytes would misname it: RSS is shown in MiB). */
function formatRss(kb) {
  return kb === null ? '-' : `${(kb / 1024).toFixed(0)} MiB`;
}

/**
 * Ratio of a row's throughput to another row's in the same group, or null when either is missing.
 * @param {import('./measurement.js').Measurement} m
 * @param {import('./measurement.js').Measurement|undefined} base
 */
function ratio(m, base) {
  if (m.error || !base || base.error || base.mbPerSec === 0) return null;
  return m.mbPerSec / base.mbPerSec;
}

/** Throughput per CPU second, MB/cpu-s, or null when unknown or missing. */
function mbPerCpuSecond(m) {
  return m && !m.error && m.cpuSeconds ? m.bytes / 1e6 / m.cpuSeconds : null;
}

/**
 * Checks one row's target against its group's floor or reference row.
 * @param {BenchRow} row
 * @param {{rows: BenchRow[], floorLabel: string, referenceLabel: string}} group
 * @returns {(TargetCheck & {cpuRatio: number|null})|null} null when the row has no target; `ratio` on
 *   wall-clock MB/s (what the target is judged on), `cpuRatio` the same on MB per CPU second
 */
export function checkTarget(row, group) {
  if (!row.target) return null;
  const baseLabel = row.target.against === 'floor' ? group.floorLabel : group.referenceLabel;
  const base = group.rows.find((r) => r.measurement.label === baseLabel)?.measurement;
  const r = ratio(row.measurement, base);
  const own = mbPerCpuSecond(row.measurement);
  const other = mbPerCpuSecond(base);
  return { met: r === null ? null : r >= row.target.min, ratio: r, cpuRatio: own !== null && other !== null ? own / other : null };
}

/** Left-pads or right-pads cells to the widest of each column. */
function layout(table) {
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  return table.map((row) => row.map((cell, c) => (c === 0 || c >= row.length - 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
}

/**
 * Renders groups as text: one block per group, a header line, then one line per row with MB/s,
 * units/s, wall seconds, CPU seconds, MB per CPU second, ratio to the floor (percent), ratio to the reference (times), peak RSS, the
 * target with met/MISSED, and the note or the reason a figure is missing.
 * @param {Array<{heading: string, rows: BenchRow[], floorLabel: string, referenceLabel: string}>} groups
 * @param {{floorName: string, referenceName: string}} names column titles, e.g. readline, pgbadger
 * @returns {string} the table, lines joined with `\n`
 */
export function renderGroups(groups, names) {
  const out = [];
  for (const group of groups) {
    const floor = group.rows.find((r) => r.measurement.label === group.floorLabel)?.measurement;
    const reference = group.rows.find((r) => r.measurement.label === group.referenceLabel)?.measurement;
    const table = [['measurement', 'MB/s', 'rate', 'time s', 'cpu s', 'MB/cpu-s', `vs ${names.floorName}`, `vs ${names.referenceName}`, 'peak RSS', 'target', 'note']];
    for (const row of group.rows) {
      const m = row.measurement;
      const check = checkTarget(row, group);
      const target = row.target ? `${row.target.text}: ${check.met === null ? 'n/a' : check.met ? 'met' : 'MISSED'}` : '';
      if (m.error) {
        table.push([m.label, '-', '-', '-', '-', '-', '-', '-', '-', target, `unavailable: ${m.error}`]);
        continue;
      }
      const vsFloor = ratio(m, floor);
      const vsReference = ratio(m, reference);
      table.push([
        m.label,
        m.mbPerSec.toFixed(1),
        m.unitsPerSec === null ? '-' : `${formatRate(m.unitsPerSec)} ${m.unitName}/s`,
        m.seconds.toFixed(2),
        m.cpuSeconds === null ? '-' : m.cpuSeconds.toFixed(2),
        m.cpuSeconds ? (m.bytes / 1e6 / m.cpuSeconds).toFixed(1) : '-',
        vsFloor === null ? '-' : `${(100 * vsFloor).toFixed(0)}%`,
        vsReference === null ? '-' : `${vsReference.toFixed(1)}x`,
        formatRss(m.maxRssKb),
        target,
        m.note,
      ]);
    }
    out.push(group.heading, ...layout(table).map((line) => `  ${line}`), '');
  }
  return out.join('\n');
}

/**
 * One line per target of every group, e.g.
 * `stderr parse, no enrichment: 62% of readline (target >= 50% readline): met [by CPU time: 60% of readline]`.
 * @param {Array<{heading: string, rows: BenchRow[], floorLabel: string, referenceLabel: string}>} groups
 * @returns {string[]}
 */
export function summarizeTargets(groups) {
  const lines = [];
  for (const group of groups) {
    const name = group.heading.split(':')[0];
    for (const row of group.rows) {
      const check = checkTarget(row, group);
      if (!check) continue;
      if (check.ratio === null) {
        lines.push(`${name} ${row.measurement.label}: figure missing (target ${row.target.text})`);
        continue;
      }
      const show = (x) => (row.target.against === 'floor' ? `${(100 * x).toFixed(0)}% of readline` : `${x.toFixed(1)}x pgbadger`);
      const byCpu = check.cpuRatio === null ? '' : ` [by CPU time: ${show(check.cpuRatio)}]`;
      lines.push(`${name} ${row.measurement.label}: ${show(check.ratio)} (target ${row.target.text}): ${check.met ? 'met' : 'MISSED'}${byCpu}`);
    }
  }
  return lines;
}
