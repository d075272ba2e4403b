// Bench section "pipeline" (issue 8): the whole daemon from file to committed incidents.
// - Throughput: the corpus csvlog repeated to >= 1,000,000 records (200,000 with BENCH_QUICK=1) with
//   times and PIDs shifted per copy (bench/shifted-corpus.js), read by the compiled Agent (log_folder
//   source, start_at beginning, embedded PGlite store, shipped pack, default pipeline settings) in a
//   fresh child (bench/agent-throughput.js), timed from `agent_started` until the commit that covers
//   every record; beside the readline floor of the same file in another fresh child, and the same
//   daemon with an EMPTY rule set (the engine floor: reading, parsing, enrichment, access ledger,
//   commits and checkpoints without detection), so detection's share and the pipeline's own show apart.
// - Latency: append one record that fires a `match` rule -> the `pipeline_commit` log line of the
//   commit holding its incident (bench/agent-trials.js), 200 trials (50 quick).
// - Peak RSS of both children.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST } from './agent-harness.js';
import { runChildJson } from './child-json.js';
import { latencyLine, p99TargetLine } from './latency-stats.js';
import { failedMeasurement, makeMeasurement } from './measurement.js';
import { ensureShiftedCorpus } from './shifted-corpus.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** issue 8 targets */
const TARGET_EVENTS_PER_SEC = 50_000;
const TARGET_P99_MS = 250;
/**
 * commit interval of the latency trials: the default, like the throughput run (a detection commits as
 * soon as the sources are caught up, so the interval no longer bounds the latency from below)
 */
const COMMIT_INTERVAL = '1s';

/**
 * @type {{name: string, title: string, columnNames: object, run: (ctx: {minBytes: number, runs: number, progress: (msg: string) => void}) => Promise<object[]>}}
 */
export const pipelineSection = {
  name: 'pipeline',
  title: 'Full pipeline (issue 8): jaga daemon from log file to committed incidents, one process',
  columnNames: { floorName: 'readline', referenceName: '-' },
  async run(ctx) {
    const quick = ctx.minBytes < 100e6;
    const minRecords = quick ? 200_000 : 1_000_000;
    const trials = quick ? 50 : 200;
    const floorLabel = 'floor: readline';
    const label = 'jaga daemon (Agent)';
    if (!existsSync(join(DIST, 'pipeline/agent.js'))) {
      return [{ heading: 'pipeline: dist/ is missing (run `npm run build`)', rows: [{ measurement: failedMeasurement(label, `no ${DIST}/pipeline/agent.js`) }], floorLabel, referenceLabel: '-', targetLines: ['pipeline events/s: figure missing'] }];
    }
    ctx.progress(`pipeline: building the shifted corpus (>= ${minRecords} records) ...`);
    const file = await ensureShiftedCorpus(minRecords);
    ctx.progress(`pipeline: ${file.path} (${(file.bytes / 1e6).toFixed(1)} MB, ${file.records} records, ${file.reused ? 'reused' : 'built'})`);

    let floor = null;
    let daemon = null;
    let noRules = null;
    for (let run = 1; run <= ctx.runs; run++) {
      ctx.progress(`pipeline: readline floor (run ${run}/${ctx.runs}) ...`);
      const f = await runChildJson(join(HERE, 'agent-throughput.js'), { mode: 'readline', path: file.path });
      if (!f.error && (floor === null || f.elapsedMs < floor.elapsedMs)) floor = f;
      else if (floor === null) floor = f;
      ctx.progress(`pipeline: daemon with an empty rule set over ${file.records} records (run ${run}/${ctx.runs}) ...`);
      const e = await runChildJson(join(HERE, 'agent-throughput.js'), { mode: 'daemon', dir: file.dir, path: file.path, records: file.records, ruleSet: 'none' }, { timeoutMs: 60 * 60_000 });
      if (!e.error && (noRules === null || noRules.error || e.elapsedMs < noRules.elapsedMs)) noRules = e;
      else if (noRules === null) noRules = e;
      ctx.progress(`pipeline: daemon over ${file.records} records (run ${run}/${ctx.runs}) ...`);
      const d = await runChildJson(join(HERE, 'agent-throughput.js'), { mode: 'daemon', dir: file.dir, path: file.path, records: file.records }, { timeoutMs: 60 * 60_000 });
      ctx.progress(d.error ? `  unavailable: ${d.error}` : `  ${(d.events / (d.elapsedMs / 1000) / 1000).toFixed(1)} k events/s`);
      if (!d.error && (daemon === null || daemon.error || d.elapsedMs < daemon.elapsedMs)) daemon = d;
      else if (daemon === null) daemon = d;
    }
    const floorRow = floor.error
      ? failedMeasurement(floorLabel, floor.error)
      : makeMeasurement({ label: floorLabel, bytes: file.bytes, units: floor.lines, unitName: 'lines', elapsedMs: floor.elapsedMs, cpuSeconds: floor.cpuMs / 1000, maxRssKb: floor.maxRssKb });
    const noRulesLabel = 'jaga daemon, empty rule set';
    const noRulesRow = noRules.error
      ? failedMeasurement(noRulesLabel, noRules.error)
      : makeMeasurement({
          label: noRulesLabel,
          bytes: file.bytes,
          units: noRules.events,
          unitName: 'events',
          elapsedMs: noRules.elapsedMs,
          cpuSeconds: noRules.cpuMs / 1000,
          maxRssKb: noRules.maxRssKb,
          note: `engine floor (no detector runs); ${noRules.checkpoint === file.bytes && noRules.events === file.records ? 'checkpoint at end of file' : `INCOMPLETE: checkpoint ${noRules.checkpoint} of ${file.bytes} bytes, ${noRules.events} of ${file.records} events`}; ${noRules.commits} commits`,
        });
    let daemonRow;
    let target = 'figure missing';
    let rate = '-';
    let cpuRate = '-';
    if (daemon.error) daemonRow = failedMeasurement(label, daemon.error);
    else {
      const complete = daemon.checkpoint === file.bytes && daemon.events === file.records;
      daemonRow = makeMeasurement({
        label,
        bytes: file.bytes,
        units: daemon.events,
        unitName: 'events',
        elapsedMs: daemon.elapsedMs,
        cpuSeconds: daemon.cpuMs / 1000,
        maxRssKb: daemon.maxRssKb,
        note: `${complete ? 'checkpoint at end of file' : `INCOMPLETE: checkpoint ${daemon.checkpoint} of ${file.bytes} bytes, ${daemon.events} of ${file.records} events`}; ${daemon.commits} commits, ${daemon.changes} incident changes, ${daemon.incidents} incidents`,
      });
      const perSec = daemonRow.unitsPerSec;
      target = complete ? (perSec >= TARGET_EVENTS_PER_SEC ? 'met' : 'MISSED') : 'MISSED (incomplete)';
      rate = `${(perSec / 1000).toFixed(1)} k events/s`;
      cpuRate = `${(daemon.events / (daemon.cpuMs / 1000) / 1000).toFixed(1)} k events/cpu-s`;
      daemonRow.note = `target >= 50 k events/s: ${target}; ${daemonRow.note}`;
    }
    const groups = [
      {
        heading: `pipeline: corpus csvlog x${file.copies} shifted (${(file.bytes / 1e6).toFixed(1)} MB, ${file.records} records), Agent with PGlite store, shipped pack + examples/crm lists/catalog, commit_interval 1s; time from agent_started to the commit covering the last record`,
        rows: [{ measurement: floorRow }, { measurement: noRulesRow }, { measurement: daemonRow }],
        floorLabel,
        referenceLabel: '-',
        targetLines: [
          `pipeline throughput: ${rate} (target >= 50 k events/s on one core): ${target} [by CPU time: ${cpuRate}]`,
          noRules.error || daemon.error
            ? 'pipeline detection share: figure missing'
            : `pipeline detection share: the shipped pack costs ${(((daemon.cpuMs / daemon.events - noRules.cpuMs / noRules.events) / (daemon.cpuMs / daemon.events)) * 100).toFixed(0)}% of the daemon's CPU per event (empty rule set ${(noRules.events / (noRules.cpuMs / 1000) / 1000).toFixed(1)} k events/cpu-s)`,
        ],
      },
    ];

    ctx.progress(`pipeline: ${trials} latency trials ...`);
    const latency = await runChildJson(join(HERE, 'agent-trials.js'), { trials, commitInterval: COMMIT_INTERVAL }, { timeoutMs: 15 * 60_000 });
    const heading = `pipeline latency: append one record firing a match rule -> its incident committed (pipeline_commit log line), ${trials} sequential trials, commit_interval ${COMMIT_INTERVAL}, PGlite store`;
    const commits = latency.error ? [] : latency.trials.map((t) => t.commitMs).filter((v) => v !== null);
    groups.push({
      heading,
      rows: [],
      lines: [heading, latency.error ? `  unavailable: ${latency.error}` : latencyLine('append -> incident committed', commits, { missed: latency.trials.length - commits.length, note: `peak RSS ${(latency.maxRssKb / 1024).toFixed(0)} MiB` }), ''],
      targetLines: [p99TargetLine('pipeline append -> incident committed', commits, TARGET_P99_MS)],
    });
    return groups;
  },
};
