// `npm run bench` entry (after `npm run build`): measures jaga against floors taken in the same run
// and against pgbadger, prints tables, never asserts. Sections are listed in SECTIONS; later issues
// add tailing, detection, incidents and the full pipeline.
//
// Environment:
//   BENCH_QUICK=1            20 MB files instead of 200 MB (smoke run; pgbadger ~30 s per format on 200 MB)
//   BENCH_FORMATS=a,b        only these formats (stderr, csvlog, jsonlog)
//   BENCH_SECTIONS=a,b       only these sections (parse, tail, detect, baselines, notify, http, pipeline)
//   BENCH_RUNS=N             measure every row N times and keep the fastest (default 1; pipeline throughput too)
//   BENCH_DIST_DIR=DIR       measure the compiled jaga in DIR instead of dist/ (detect, baselines, notify, http, pipeline)
// BENCH_QUICK=1 also shrinks the later sections: pipeline 200k records / 50 latency trials (else >= 1M / 200),
// notify 50 trials (else 200), http 10 s of load (else 30 s), baselines 3 passes (else 8).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baselinesSection } from './baselines-section.js';
import { BENCH_OUT_DIR, CORPUS_FORMATS } from './corpus-files.js';
import { detectSection } from './detect-section.js';
import { httpSection } from './http-section.js';
import { notifySection } from './notify-section.js';
import { parseSection } from './parse-section.js';
import { pipelineSection } from './pipeline-section.js';
import { renderGroups, summarizeTargets } from './report-table.js';
import { tailSection } from './tail-section.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every section, in run order. */
const SECTIONS = [parseSection, tailSection, detectSection, baselinesSection, notifySection, httpSection, pipelineSection];

/** Output of a command for the header, or `unknown` when it cannot run. */
function commandOutput(command, args) {
  try {
    return execFileSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch (error) {
    return `unknown (${error.code ?? error.message})`;
  }
}

/** Short HEAD commit, with ` + uncommitted changes` when tracked files differ from it. */
function describeCommit() {
  const head = commandOutput('git', ['rev-parse', '--short', 'HEAD']);
  const status = commandOutput('git', ['status', '--porcelain', '--untracked-files=no']);
  if (status.startsWith('unknown')) return head;
  return status ? `${head} + uncommitted changes` : head;
}

/** Comma list from an environment variable, or `all` when unset/empty. */
function listFromEnv(name, all) {
  const raw = process.env[name];
  if (!raw) return all;
  const wanted = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length > 0) {
    process.stderr.write(`bench: ${name} has unknown value(s) ${unknown.join(', ')}; known: ${all.join(', ')}\n`);
    process.exit(2);
  }
  return wanted;
}

const quick = process.env.BENCH_QUICK === '1';
const runs = Number(process.env.BENCH_RUNS ?? '1');
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`bench: BENCH_RUNS must be a positive integer, not "${process.env.BENCH_RUNS}"\n`);
  process.exit(2);
}
const ctx = {
  minBytes: quick ? 20e6 : 200e6,
  runs,
  formats: listFromEnv('BENCH_FORMATS', CORPUS_FORMATS.map((f) => f.format)),
  progress: (msg) => process.stderr.write(`[bench] ${msg}\n`),
};
const sections = listFromEnv('BENCH_SECTIONS', SECTIONS.map((s) => s.name)).map((name) => SECTIONS.find((s) => s.name === name));

const header = {
  date: new Date().toISOString(),
  mode: `${quick ? 'BENCH_QUICK=1 (files >= 20 MB)' : 'full (files >= 200 MB)'}, best of ${runs} run(s) per row`,
  node: process.version,
  cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
  loadAverageStart: loadavg().map((l) => +l.toFixed(2)),
  pgbadger: commandOutput('pgbadger', ['--version']),
  commit: describeCommit(),
};
if (!existsSync(join(ROOT, 'dist/parse/log-parser.js'))) ctx.progress('dist/ is missing: run `npm run build` (parser rows will be unavailable)');

const results = [];
for (const section of sections) {
  ctx.progress(`section ${section.name}`);
  results.push({ section, groups: await section.run(ctx) });
}
header.loadAverageEnd = loadavg().map((l) => +l.toFixed(2));

const print = (line = '') => process.stdout.write(`${line}\n`);
print(`jaga bench ${header.date}  ${header.mode}`);
print(`node ${header.node}, ${header.cpu}, ${header.memoryGiB} GiB, commit ${header.commit}, ${header.pgbadger}`);
print(`load average (1/5/15 min) at start ${header.loadAverageStart.join(' ')}, at end ${header.loadAverageEnd.join(' ')}`);
print('MB = 1,000,000 bytes. Floors and parser: time inside a fresh Node child (no start-up); jaga parse CLI and pgbadger: wall time of the whole command.');
print('cpu s: user + system CPU seconds of the same span (wall >> cpu means the machine was busy). Peak RSS: maxRSS of that child.');
print('Ratios use wall-clock MB/s. Targets are shown, never asserted.');
print();
const allGroups = [];
for (const { section, groups } of results) {
  print(`== ${section.title}`);
  print();
  // A group without rows (e.g. latency figures) brings its own `lines` and `targetLines`.
  const tables = groups.filter((g) => g.rows.length > 0);
  if (tables.length > 0) print(renderGroups(tables, section.columnNames ?? { floorName: 'readline', referenceName: 'pgbadger' }));
  for (const group of groups) for (const line of group.lines ?? []) print(line);
  allGroups.push(...groups);
}
print('== Targets');
for (const line of [...summarizeTargets(allGroups), ...allGroups.flatMap((g) => g.targetLines ?? [])]) print(`  ${line}`);
print();
print(`bench harness peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);

await mkdir(BENCH_OUT_DIR, { recursive: true });
const jsonPath = join(BENCH_OUT_DIR, 'last-run.json');
await writeFile(jsonPath, `${JSON.stringify({ header, sections: results.map(({ section, groups }) => ({ name: section.name, groups })) }, null, 2)}\n`);
ctx.progress(`figures written to ${jsonPath}`);
