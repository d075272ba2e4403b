// Runs one in-process measurement (floors, parser) in its own Node child: see stage-worker.js.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failedMeasurement, makeMeasurement } from './measurement.js';
import { runTimedCommand } from './timed-command.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'stage-worker.js');

/**
 * Measures one stage on one file in a fresh `node bench/stage-worker.js` child; the time is the
 * worker's own (reading + processing, without Node start-up), the peak RSS the worker's maxRSS.
 * @param {{label: string, kind: 'newline-floor'|'readline-floor'|'parse'|'parse-enrich',
 *   format: string, path: string, logLinePrefix?: string}} spec
 * @returns {Promise<import('./measurement.js').Measurement>} a failed Measurement (never a throw) when
 *   the worker fails, e.g. dist/ is missing
 */
export async function runStage(spec) {
  const args = [WORKER, spec.kind, spec.format, spec.path, spec.logLinePrefix ?? ''];
  let run;
  try {
    run = await runTimedCommand(process.execPath, args, { captureStdout: true });
  } catch (error) {
    return failedMeasurement(spec.label, `cannot start the worker: ${error.message}`);
  }
  const lastLine = run.stdout.trim().split('\n').pop() ?? '';
  let result;
  try {
    result = JSON.parse(lastLine);
  } catch {
    const why = run.stderr.trim().split('\n').slice(-1)[0] || `exit ${run.exitCode ?? run.signal}`;
    return failedMeasurement(spec.label, `worker gave no result: ${why}`);
  }
  if (result.error) return failedMeasurement(spec.label, String(result.error).slice(0, 160));
  const notes = [];
  if (result.failures !== undefined) notes.push(`${result.events} events, ${result.failures} failures`);
  if (result.enricher) {
    const { hits, misses, entries } = result.enricher;
    const lookups = hits + misses;
    notes.push(`cache hit ${lookups ? ((100 * hits) / lookups).toFixed(1) : '0.0'}% (${entries} entries)`);
  }
  return makeMeasurement({
    label: spec.label,
    bytes: result.bytes,
    units: result.units,
    unitName: result.unitName,
    elapsedMs: result.elapsedMs,
    cpuSeconds: result.cpuMs / 1000,
    maxRssKb: result.maxRssKb,
    note: notes.join('; '),
  });
}
