// Bench section "parse" (issue 2): per format, the two floors, the parser without and with
// enrichment, `jaga parse` end to end and pgbadger, all on the same repeated-corpus file.
import { CORPUS_FORMATS, CORPUS_LOG_LINE_PREFIX, ensureRepeatedCorpus } from './corpus-files.js';
import { countNewlineBytes } from './floors.js';
import { runJagaParse } from './jaga-cli-runner.js';
import { runPgbadger } from './pgbadger-runner.js';
import { runStage } from './stage-runner.js';

/**
 * @typedef {object} Target a goal printed next to a figure, never asserted
 * @property {'floor'|'reference'} against ratio to the group's floor (readline) or reference (pgbadger)
 * @property {number} min smallest ratio that meets it (0.5 = 50 %, 5 = 5x)
 * @property {string} text how it is shown, e.g. `>= 50% readline`
 */

/**
 * @typedef {object} BenchGroup rows measured on one file
 * @property {string} heading e.g. `stderr: corpus-x141.log, 200.8 MB (corpus x141)`
 * @property {Array<{measurement: import('./measurement.js').Measurement, target?: Target}>} rows
 * @property {string} floorLabel label of the row every row is divided by in "vs floor"
 * @property {string} referenceLabel label of the row every row is divided by in "vs reference"
 */

const FLOOR_HALF = { against: 'floor', min: 0.5, text: '>= 50% readline' };
const FIVE_X_PGBADGER = { against: 'reference', min: 5, text: '>= 5x pgbadger' };

/** Issue 2 targets by row label; the parse-without-enrichment target covers stderr and csvlog only. */
function targetFor(kind, format) {
  if (kind === 'parse') return format === 'jsonlog' ? undefined : FLOOR_HALF;
  if (kind === 'parse-enrich' || kind === 'cli') return FIVE_X_PGBADGER;
  return undefined;
}

/**
 * The parse section. `ctx.runs` measurements are taken of every row and the fastest kept.
 * @type {{name: string, title: string, run: (ctx: {minBytes: number, formats: string[], runs: number,
 *   progress: (msg: string) => void}) => Promise<BenchGroup[]>}}
 */
export const parseSection = {
  name: 'parse',
  title: 'Parsing (issue 2): throughput per format',
  async run(ctx) {
    const groups = [];
    for (const spec of CORPUS_FORMATS.filter((f) => ctx.formats.includes(f.format))) {
      const { format } = spec;
      const file = await ensureRepeatedCorpus(spec.extension, ctx.minBytes);
      ctx.progress(`${format}: ${file.reused ? 'reusing' : 'built'} ${file.path} (${file.bytes} bytes); warming the page cache`);
      await countNewlineBytes(file.path);
      const logLinePrefix = format === 'stderr' ? CORPUS_LOG_LINE_PREFIX : undefined;
      const base = { format, path: file.path, logLinePrefix };
      const plan = [
        ['newline-floor', 'floor: newline bytes (1 MiB reads + indexOf)', () => runStage({ ...base, kind: 'newline-floor', label: 'floor: newline bytes' })],
        ['readline-floor', 'floor: readline', () => runStage({ ...base, kind: 'readline-floor', label: 'floor: readline' })],
        ['parse', 'parse, no enrichment', () => runStage({ ...base, kind: 'parse', label: 'parse, no enrichment' })],
        ['parse-enrich', 'parse + enrichment', () => runStage({ ...base, kind: 'parse-enrich', label: 'parse + enrichment' })],
        ['cli', 'jaga parse CLI (JSON out)', () => runJagaParse({ ...base, bytes: file.bytes, label: 'jaga parse (CLI, JSON)' })],
        ['pgbadger', `pgbadger -j 1 -f ${spec.pgbadgerFormat}`, () => runPgbadger({ ...base, bytes: file.bytes, pgbadgerFormat: spec.pgbadgerFormat, logLinePrefix: CORPUS_LOG_LINE_PREFIX, label: `pgbadger -j 1 -f ${spec.pgbadgerFormat}` })],
      ];
      const rows = [];
      for (const [kind, description, measure] of plan) {
        let best = null;
        for (let run = 1; run <= ctx.runs; run++) {
          ctx.progress(`${format}: ${description} (run ${run}/${ctx.runs}) ...`);
          const m = await measure();
          ctx.progress(m.error ? `  unavailable: ${m.error}` : `  ${m.mbPerSec.toFixed(1)} MB/s in ${m.seconds.toFixed(2)} s`);
          if (best === null || (!m.error && (best.error || m.seconds < best.seconds))) best = m;
        }
        if (ctx.runs > 1 && !best.error) best.note = [best.note, `best of ${ctx.runs}`].filter(Boolean).join('; ');
        rows.push({ measurement: best, target: targetFor(kind, format) });
      }
      groups.push({
        heading: `${format}: ${file.path.split('/').pop()}, ${(file.bytes / 1e6).toFixed(1)} MB (corpus x${file.repetitions})`,
        rows,
        floorLabel: 'floor: readline',
        referenceLabel: rows[rows.length - 1].measurement.label,
      });
    }
    return groups;
  },
};
