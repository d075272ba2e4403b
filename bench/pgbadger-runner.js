// pgbadger on the same file, as the external reference (Debian package `pgbadger`).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failedMeasurement, makeMeasurement } from './measurement.js';
import { runTimedCommand } from './timed-command.js';

/**
 * Runs `pgbadger -q -j 1 -f FORMAT --prefix PREFIX -x text -o TMP/report.txt FILE` timed as a whole
 * (Perl start-up and report writing included) and reads "Parsed N log entries" from its text
 * report as its own record count (pgbadger --help; the report's "Global information" block).
 * @param {{label: string, path: string, bytes: number, pgbadgerFormat: string, logLinePrefix: string}} spec
 *   bytes: size of `path`; pgbadgerFormat: `stderr`, `csv` or `jsonlog`
 * @returns {Promise<import('./measurement.js').Measurement>} a failed Measurement when pgbadger is
 *   missing or exits non-zero
 */
export async function runPgbadger(spec) {
  const scratch = await mkdtemp(join(tmpdir(), 'jaga-bench-pgbadger-'));
  const report = join(scratch, 'report.txt');
  try {
    const args = ['-q', '-j', '1', '-f', spec.pgbadgerFormat, '--prefix', spec.logLinePrefix, '-x', 'text', '-o', report, spec.path];
    let run;
    try {
      run = await runTimedCommand('pgbadger', args);
    } catch (error) {
      return failedMeasurement(spec.label, `cannot run pgbadger (apt-get install -y pgbadger): ${error.message}`);
    }
    if (run.exitCode !== 0) {
      const why = run.stderr.trim().split('\n').slice(-1)[0] || `signal ${run.signal}`;
      return failedMeasurement(spec.label, `pgbadger exit ${run.exitCode}: ${why}`);
    }
    const text = await readFile(report, 'utf8').catch(() => '');
    const parsed = /Parsed ([\d,]+) log entries/.exec(text);
    return makeMeasurement({
      label: spec.label,
      bytes: spec.bytes,
      units: parsed ? Number(parsed[1].replaceAll(',', '')) : null,
      unitName: 'entries',
      elapsedMs: run.wallMs,
      cpuSeconds: run.cpuSeconds,
      maxRssKb: run.maxRssKb,
      note: 'pgbadger entries, wall time',
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
