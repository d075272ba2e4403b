// Bench child (`node bench/agent-trials.js '<spec>'`): latency trials through the whole daemon, for the
// `pipeline` and `notify` sections. Setup (untimed): a scratch folder, an empty csvlog in the watched
// folder, a webhook and a Slack-like receiver in this process (ArrivalReceiver), the compiled Agent
// (embedded PGlite store, the shipped pack + the marker rule, `commit_interval` from the spec, both
// receivers rate-limited at 1000/s so the limiter never holds a trial back). Then, one trial at a
// time: append one marker record (a new role each time: a new incident) and record
//   t0 = just before the append, t1 = the `pipeline_commit` log line of the commit holding the
//   incident (written right after COMMIT), t2/t3 = the webhook / Slack request's arrival.
// Prints `{trials: [{commitMs, webhookMs, slackMs}], missed, maxRssKb, ...}` (ms relative to t0; null
// when not seen within 10 s).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ArrivalReceiver, appendMarker, scratchDir, startAgent, writeBenchConfig } from './agent-harness.js';
import { childMain } from './child-json.js';

const TRIAL_TIMEOUT_MS = 10_000;

/**
 * @param {{trials: number, commitInterval: string}} spec
 */
async function measure(spec) {
  const dir = await scratchDir('jaga-bench-trials-');
  const logFile = join(dir, 'logs', 'postgresql-2026-11-29_000000.csv');
  await appendMarker(logFile, 0); // one record so the file exists from the start; its incident is trial 0 (not counted)
  const receiver = new ArrivalReceiver();
  const base = await receiver.start();
  const fast = 'rate_limit: { per_second: 1000, burst: 100 }';
  const config = await writeBenchConfig({
    dir,
    logDir: join(dir, 'logs'),
    commitInterval: spec.commitInterval,
    markerRule: true,
    receivers: [`  hook: { type: webhook, url: ${JSON.stringify(`${base}/hook`)}, secret: bench-signing-key, ${fast} }`, `  slack: { type: slack, url: ${JSON.stringify(`${base}/slack`)}, ${fast} }`],
  });
  const daemon = await startAgent(config);
  // trial 0 (the record present at start) goes through first, so the timed trials start warm
  await receiver.arrival('/hook', 'bench_u0', 60_000);
  const trials = [];
  let missed = 0;
  for (let n = 1; n <= spec.trials; n++) {
    let commitAt = null;
    const off = daemon.onLine((line) => {
      if (commitAt === null && line.event === 'pipeline_commit' && Number(line.changes) > 0) commitAt = line.atMs;
    });
    const t0 = performance.now();
    await appendMarker(logFile, n);
    const [hookAt, slackAt] = await Promise.all([receiver.arrival('/hook', `bench_u${n}`, TRIAL_TIMEOUT_MS), receiver.arrival('/slack', `bench_u${n}`, TRIAL_TIMEOUT_MS)]);
    off();
    if (hookAt === null || slackAt === null || commitAt === null) missed++;
    trials.push({ commitMs: commitAt === null ? null : commitAt - t0, webhookMs: hookAt === null ? null : hookAt - t0, slackMs: slackAt === null ? null : slackAt - t0 });
  }
  await daemon.stop();
  await receiver.stop();
  await rm(dir, { recursive: true, force: true });
  return { trials, missed, commitInterval: spec.commitInterval, maxRssKb: process.resourceUsage().maxRSS };
}

await childMain(import.meta.url, measure);
