// The one result shape every benchmark row uses, whatever produced it.

/** Bytes per MB in every figure the bench prints (decimal megabytes). */
export const BYTES_PER_MB = 1e6;

/**
 * @typedef {object} Measurement
 * @property {string} label what was measured (a row name of the table)
 * @property {number} bytes bytes of input processed
 * @property {number|null} units records or lines counted (null when the tool does not say)
 * @property {string} unitName `records`, `lines` or `entries` (pgbadger's own count)
 * @property {number} seconds elapsed (wall) time, seconds
 * @property {number|null} cpuSeconds user + system CPU time over the same span, seconds (null when unknown)
 * @property {number} mbPerSec throughput, MB (1e6 bytes) per second
 * @property {number|null} unitsPerSec units per second
 * @property {number|null} maxRssKb peak resident set size of the measuring process, kilobytes
 * @property {string} note extra facts (failures, cache hit rate, ...), may be empty
 * @property {string|null} error why the figure is missing; the numbers are then 0/null
 */

/**
 * Builds a Measurement from raw figures.
 * @param {{label: string, bytes: number, units: number|null, unitName: string, elapsedMs: number,
 *   cpuSeconds?: number|null, maxRssKb: number|null, note?: string}} raw elapsedMs in milliseconds (> 0)
 * @returns {Measurement}
 */
export function makeMeasurement(raw) {
  const seconds = raw.elapsedMs / 1000;
  return {
    label: raw.label,
    bytes: raw.bytes,
    units: raw.units,
    unitName: raw.unitName,
    seconds,
    cpuSeconds: raw.cpuSeconds ?? null,
    mbPerSec: raw.bytes / BYTES_PER_MB / seconds,
    unitsPerSec: raw.units === null ? null : raw.units / seconds,
    maxRssKb: raw.maxRssKb,
    note: raw.note ?? '',
    error: null,
  };
}

/**
 * A Measurement that could not be taken (the bench never stops for one missing figure).
 * @param {string} label row name
 * @param {string} error one-line reason
 * @returns {Measurement}
 */
export function failedMeasurement(label, error) {
  return { label, bytes: 0, units: null, unitName: '', seconds: 0, cpuSeconds: null, mbPerSec: 0, unitsPerSec: null, maxRssKb: null, note: '', error };
}
