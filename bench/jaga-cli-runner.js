// `jaga parse` end to end (JSON lines out), as a user runs it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failedMeasurement, makeMeasurement } from './measurement.js';
import { runTimedCommand } from './timed-command.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs `node bin/jaga.js parse --format F [--log-line-prefix P] FILE > /dev/null` timed as a whole
 * (Node start-up, enricher start-up, parsing, enrichment, JSON serialisation and writing) and reads
 * the summary line `{"records":N,"events":N,"failures":N}` it writes last on stderr (issue 2 CLI contract).
 * @param {{label: string, path: string, bytes: number, format: string, logLinePrefix?: string}} spec
 *   bytes: size of `path`; logLinePrefix only for stderr
 * @returns {Promise<import('./measurement.js').Measurement>} a failed Measurement when the command
 *   exits non-zero or prints no summary
 */
export async function runJagaParse(spec) {
  const args = [join(ROOT, 'bin/jaga.js'), 'parse', '--format', spec.format];
  if (spec.logLinePrefix) args.push('--log-line-prefix', spec.logLinePrefix);
  args.push(spec.path);
  let run;
  try {
    run = await runTimedCommand(process.execPath, args, { cwd: ROOT });
  } catch (error) {
    return failedMeasurement(spec.label, `cannot start jaga: ${error.message}`);
  }
  const lastLine = run.stderr.trim().split('\n').pop() ?? '';
  let summary = null;
  try {
    summary = JSON.parse(lastLine);
  } catch {
    summary = null;
  }
  if (run.exitCode !== 0 || summary === null || typeof summary.records !== 'number') {
    const lines = run.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    const why = lines.find((l) => /^(\w*Error|jaga)\b/.test(l)) ?? lines[lines.length - 1] ?? 'no summary line';
    return failedMeasurement(spec.label, `jaga parse exit ${run.exitCode ?? run.signal}: ${why.slice(0, 160)}`);
  }
  return makeMeasurement({
    label: spec.label,
    bytes: spec.bytes,
    units: summary.records,
    unitName: 'records',
    elapsedMs: run.wallMs,
    cpuSeconds: run.cpuSeconds,
    maxRssKb: run.maxRssKb,
    note: `${summary.events} events, ${summary.failures} failures, wall time`,
  });
}
