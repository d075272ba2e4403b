// Bench section "tail" (issue 3): following a growing log file with LogFolderSource + LogEventReader
// (dist/), against the floors measured on the same file in the same run, and the time from a
// record's write to its delivery. Every measurement runs in a fresh Node child: this file is also
// that child's entry (see `childMain` at the bottom):
//   node bench/tail-section.js follow <format> <file> [logLinePrefix]   -> one JSON line on stdout
//   node bench/tail-section.js latency <format> <file> [logLinePrefix]  -> one JSON line on stdout
//   node bench/tail-section.js write <from> <to>                       (the writer of `follow`)
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CORPUS_FORMATS, CORPUS_LOG_LINE_PREFIX, ensureRepeatedCorpus } from './corpus-files.js';
import { countNewlineBytes } from './floors.js';
import { failedMeasurement, makeMeasurement } from './measurement.js';
import { runStage } from './stage-runner.js';
import { runTimedCommand } from './timed-command.js';

const SELF = fileURLToPath(import.meta.url);

/** Bytes per append of the `follow` writer (a server writes far smaller pieces; this is the worst case for the reader). */
const WRITE_BYTES = 1024 * 1024;
/** Writes timed by the latency measurement (issue 3: p50/p99 over 200 writes). */
const LATENCY_WRITES = 200;
/** Issue 3 target: p99 write-to-delivery latency with the default 1 s re-scan, ms. */
const LATENCY_P99_TARGET_MS = 50;

/** Extension of the corpus/log file of a format. */
const extensionOf = (format) => CORPUS_FORMATS.find((f) => f.format === format).extension;

// ---------------------------------------------------------------------------------------------
// Child side

/** Resolves after `ms` milliseconds. */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a LogFolderSource (default re-scan 1 s, 64 KiB chunks) + LogEventReader (no enrichment) from
 * dist/ on `dir`, acking every batch as the daemon does. `onBatch(batch)` sees each batch after its ack.
 * @returns {{stop: () => Promise<void>, done: Promise<void>}}
 * @throws when dist/ is missing (the caller reports it)
 */
async function startFollower(dir, format, logLinePrefix, onBatch) {
  const { LogFolderSource } = await import('../dist/sources/log-folder-source.js');
  const { LogEventReader } = await import('../dist/pipeline/log-event-reader.js');
  const source = new LogFolderSource({ id: 'bench', dir, format });
  const reader = new LogEventReader(source, 'bench', { logLinePrefix });
  const controller = new AbortController();
  const done = (async () => {
    for await (const batch of reader.batches(controller.signal)) {
      if (batch.position) source.ack(batch.position);
      onBatch(batch);
    }
  })();
  return {
    done,
    async stop() {
      controller.abort();
      await source.stop();
      await done;
    },
  };
}

/**
 * `follow`: a writer child appends `file` to `<tmp>/postgresql.<ext>` in 1 MiB writes as fast as it
 * can while this process follows the folder; the clock runs from the writer's start signal to the
 * delivery of the batch that acknowledges the file's last byte.
 * @returns {Promise<object>} bytes, units (records), elapsedMs, cpuMs (this process only: the writer is
 *   another process), events, failures, writerMs (the writer's own time for the whole copy)
 */
async function follow(format, file, logLinePrefix) {
  const total = (await stat(file)).size;
  const dir = await mkdtemp(join(tmpdir(), 'jaga-bench-tail-'));
  try {
    const target = join(dir, `postgresql.${extensionOf(format)}`);
    const writer = spawn(process.execPath, [SELF, 'write', file, target], { stdio: ['pipe', 'pipe', 'inherit'] });
    let writerOut = '';
    writer.stdout.setEncoding('utf8').on('data', (s) => (writerOut += s));
    const writerExit = new Promise((resolve) => writer.once('close', (code) => resolve(code)));
    await new Promise((resolve) => writer.stdout.once('data', resolve)); // "ready"

    let events = 0;
    let failures = 0;
    let finish;
    const finished = new Promise((resolve) => (finish = resolve));
    const follower = await startFollower(dir, format, logLinePrefix, (batch) => {
      events += batch.events.length;
      failures += batch.failures.length;
      if (batch.position && batch.position.offset >= total) finish(performance.now());
    });
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    writer.stdin.end('go\n');
    const endedAt = await finished;
    const cpu = process.cpuUsage(cpuBefore);
    await follower.stop();
    if ((await writerExit) !== 0) throw new Error('the writer failed');
    const writerMs = JSON.parse(writerOut.trim().split('\n').pop()).elapsedMs;
    return { bytes: total, units: events + failures, unitName: 'records', elapsedMs: endedAt - started, cpuMs: (cpu.user + cpu.system) / 1000, events, failures, writerMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `write`: prints `ready`, waits for a line on stdin, then copies `from` to `to` in 1 MiB appends. */
async function write(from, to) {
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const started = performance.now();
  const input = openSync(from, 'r');
  const output = openSync(to, 'a');
  const buffer = Buffer.allocUnsafe(WRITE_BYTES);
  try {
    for (;;) {
      const n = readSync(input, buffer, 0, WRITE_BYTES, null);
      if (n === 0) break;
      writeSync(output, buffer, 0, n);
    }
  } finally {
    closeSync(input);
    closeSync(output);
  }
  process.stdout.write(`${JSON.stringify({ elapsedMs: performance.now() - started })}\n`);
  process.stdin.destroy();
}

/** The first record of a corpus file: its first line (the corpus run starts with one-line records). */
function firstRecord(file) {
  const handle = openSync(file, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const n = readSync(handle, head, 0, head.length, 0);
    return head.subarray(0, head.subarray(0, n).indexOf(10) + 1);
  } finally {
    closeSync(handle);
  }
}

/**
 * `latency`: one record written, then LATENCY_WRITES appends of the same record (one write each,
 * 3-40 ms apart so writes fall at every phase of the 1 s re-scan); each is timed from just before
 * the append to the delivery of its event.
 * @returns {Promise<object>} latenciesMs sorted, writes
 */
async function latency(format, file, logLinePrefix) {
  const record = firstRecord(file);
  const dir = await mkdtemp(join(tmpdir(), 'jaga-bench-latency-'));
  try {
    const target = join(dir, `postgresql.${extensionOf(format)}`);
    appendFileSync(target, record);
    let events = 0;
    let waiter = null;
    const follower = await startFollower(dir, format, logLinePrefix, (batch) => {
      events += batch.events.length;
      if (waiter && events >= waiter.count) waiter.resolve();
    });
    const reached = (count) => (events >= count ? Promise.resolve() : new Promise((resolve) => (waiter = { count, resolve })));
    await reached(1);
    const latenciesMs = [];
    for (let i = 0; i < LATENCY_WRITES; i++) {
      const started = performance.now();
      appendFileSync(target, record);
      await reached(i + 2);
      latenciesMs.push(performance.now() - started);
      await sleep(3 + ((i * 37) % 38));
    }
    await follower.stop();
    return { latenciesMs: latenciesMs.sort((a, b) => a - b), writes: LATENCY_WRITES };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs one child role from argv and prints its result (or `{"error": ...}` with exit 1) as one JSON line. */
async function childMain([role, ...args]) {
  if (role === 'write') return write(args[0], args[1]);
  try {
    const [format, file, prefix] = args;
    const result = role === 'follow' ? await follow(format, file, prefix || undefined) : await latency(format, file, prefix || undefined);
    process.stdout.write(`${JSON.stringify({ ...result, maxRssKb: process.resourceUsage().maxRSS })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exitCode = 1;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Harness side

/** Runs this file as a child in `role` and returns its JSON result, or `{error}`. */
async function runChild(role, format, file, logLinePrefix) {
  let run;
  try {
    run = await runTimedCommand(process.execPath, [SELF, role, format, file, logLinePrefix ?? ''], { captureStdout: true });
  } catch (error) {
    return { error: `cannot start the child: ${error.message}` };
  }
  try {
    return JSON.parse(run.stdout.trim().split('\n').pop() ?? '');
  } catch {
    return { error: run.stderr.trim().split('\n').slice(-1)[0] || `exit ${run.exitCode ?? run.signal}` };
  }
}

/** Measures `follow` on `file` as a Measurement (never throws). */
async function measureFollow(label, format, file, logLinePrefix) {
  const r = await runChild('follow', format, file, logLinePrefix);
  if (r.error) return failedMeasurement(label, String(r.error).slice(0, 160));
  return makeMeasurement({
    label,
    bytes: r.bytes,
    units: r.units,
    unitName: r.unitName,
    elapsedMs: r.elapsedMs,
    cpuSeconds: r.cpuMs / 1000,
    maxRssKb: r.maxRssKb,
    note: `${r.events} events, ${r.failures} failures; writer alone ${(r.bytes / 1e6 / (r.writerMs / 1000)).toFixed(0)} MB/s (1 MiB appends); cpu: follower process only`,
  });
}

/** Value at quantile `q` of sorted numbers (nearest rank). */
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

/**
 * The tail section. Per format: the newline and readline floors and the static parser on the
 * repeated-corpus file (as in the parse section), then `follow` on the same file growing; and the
 * write-to-delivery latency. Returns the usual table groups plus one group without rows whose
 * `lines` (printed after the tables), `targetLines` (printed with the targets) and `latency`
 * (per format: p50Ms, p99Ms, maxMs, writes) carry the latency figures.
 * @type {{name: string, title: string, columnNames: {floorName: string, referenceName: string},
 *   run: (ctx: {minBytes: number, formats: string[], runs: number, progress: (msg: string) => void}) => Promise<object[]>}}
 */
export const tailSection = {
  name: 'tail',
  title: 'Tailing (issue 3): following a growing file, and write-to-delivery latency',
  columnNames: { floorName: 'readline', referenceName: 'static parse' },
  async run(ctx) {
    const groups = [];
    const latencyLines = ['write-to-delivery latency: one record appended (one write), timed until LogEventReader delivers its event;', `  ${LATENCY_WRITES} writes 3-40 ms apart, default 1 s re-scan (the watch hint wakes the reader), no enrichment`];
    const latencyTargets = [];
    const latency = {};
    for (const spec of CORPUS_FORMATS.filter((f) => ctx.formats.includes(f.format))) {
      const { format } = spec;
      const file = await ensureRepeatedCorpus(spec.extension, ctx.minBytes);
      ctx.progress(`${format}: ${file.reused ? 'reusing' : 'built'} ${file.path} (${file.bytes} bytes); warming the page cache`);
      await countNewlineBytes(file.path);
      const logLinePrefix = format === 'stderr' ? CORPUS_LOG_LINE_PREFIX : undefined;
      const base = { format, path: file.path, logLinePrefix };
      const plan = [
        ['floor: newline bytes', () => runStage({ ...base, kind: 'newline-floor', label: 'floor: newline bytes' })],
        ['floor: readline', () => runStage({ ...base, kind: 'readline-floor', label: 'floor: readline' })],
        ['parse, no enrichment (static file)', () => runStage({ ...base, kind: 'parse', label: 'parse, no enrichment (static file)' })],
        ['tail: source + reader, growing file', () => measureFollow('tail: source + reader, growing file', format, file.path, logLinePrefix)],
      ];
      const rows = [];
      for (const [description, measure] of plan) {
        let best = null;
        for (let run = 1; run <= ctx.runs; run++) {
          ctx.progress(`${format}: ${description} (run ${run}/${ctx.runs}) ...`);
          const m = await measure();
          ctx.progress(m.error ? `  unavailable: ${m.error}` : `  ${m.mbPerSec.toFixed(1)} MB/s in ${m.seconds.toFixed(2)} s`);
          if (best === null || (!m.error && (best.error || m.seconds < best.seconds))) best = m;
        }
        if (ctx.runs > 1 && !best.error) best.note = [best.note, `best of ${ctx.runs}`].filter(Boolean).join('; ');
        rows.push({ measurement: best });
      }
      groups.push({
        heading: `${format}: ${file.path.split('/').pop()}, ${(file.bytes / 1e6).toFixed(1)} MB (corpus x${file.repetitions}) appended while followed`,
        rows,
        floorLabel: 'floor: readline',
        referenceLabel: 'parse, no enrichment (static file)',
      });

      ctx.progress(`${format}: write-to-delivery latency (${LATENCY_WRITES} writes) ...`);
      const r = await runChild('latency', format, file.path, logLinePrefix);
      if (r.error) {
        latencyLines.push(`  ${format.padEnd(8)} unavailable: ${String(r.error).slice(0, 160)}`);
        latencyTargets.push(`${format} write-to-delivery p99: figure missing (target < ${LATENCY_P99_TARGET_MS} ms)`);
        continue;
      }
      const [p50, p99, max] = [quantile(r.latenciesMs, 0.5), quantile(r.latenciesMs, 0.99), r.latenciesMs.at(-1)];
      ctx.progress(`  p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
      latencyLines.push(`  ${format.padEnd(8)} p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  max ${max.toFixed(2)} ms  (${r.writes} writes, peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MiB)`);
      latencyTargets.push(`${format} write-to-delivery p99: ${p99.toFixed(2)} ms (target < ${LATENCY_P99_TARGET_MS} ms): ${p99 < LATENCY_P99_TARGET_MS ? 'met' : 'MISSED'}`);
      latency[format] = { p50Ms: p50, p99Ms: p99, maxMs: max, writes: r.writes };
    }
    groups.push({ heading: 'write-to-delivery latency', rows: [], floorLabel: '', referenceLabel: '', lines: [...latencyLines, ''], targetLines: latencyTargets, latency });
    return groups;
  },
};

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) await childMain(process.argv.slice(2));
