// Bench section "notify" (issue 6): detection -> incident committed -> notification received, through
// the whole daemon (bench/agent-trials.js: the compiled Agent with its embedded PGlite store, the real
// IncidentService, NotificationPlanner, PipelineCommit and NotificationDispatcher, and a webhook and a
// Slack-like receiver in the child recording arrival times), beside floors measured in the same run by
// bench/notify-floor.js (a bare PGlite INSERT+COMMIT round trip, a bare HTTP POST to the same kind of
// receiver). The trial clock starts when the marker record is appended to the watched log, so
// "append -> received" bounds detection -> received from above (it adds tailing, parsing, detection).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST } from './agent-harness.js';
import { runChildJson } from './child-json.js';
import { latencyLine, p99TargetLine } from './latency-stats.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** issue 6 target: p99 of detection -> notification received with the embedded store, ms */
const TARGET_P99_MS = 1_000;
/** the daemon's commit interval in the trials (jaga.yaml `pipeline.commit_interval`) */
const COMMIT_INTERVAL = '100ms';

const values = (trials, key) => trials.map((t) => t[key]).filter((v) => v !== null);

/**
 * The notify section: 200 trials (50 with BENCH_QUICK=1), latency lines and the p99 target line.
 * @type {{name: string, title: string, run: (ctx: {minBytes: number, progress: (msg: string) => void}) => Promise<object[]>}}
 */
export const notifySection = {
  name: 'notify',
  title: 'Notifications (issue 6): detection -> incident committed -> notification received, embedded store',
  async run(ctx) {
    const trials = ctx.minBytes < 100e6 ? 50 : 200;
    const heading = `notify: ${trials} sequential trials, one new incident each (marker record appended to the watched csvlog); Agent with PGlite store, commit_interval ${COMMIT_INTERVAL}, webhook + Slack-like receivers on loopback (rate limit 1000/s)`;
    if (!existsSync(join(DIST, 'pipeline/agent.js'))) return [{ heading, rows: [], lines: [`  unavailable: no ${DIST}/pipeline/agent.js (run \`npm run build\`)`], targetLines: [`notify p99: figure missing (dist/ is missing)`] }];
    ctx.progress(`notify: floors (${trials} PGlite commits, ${trials} HTTP POSTs) ...`);
    const floor = await runChildJson(join(HERE, 'notify-floor.js'), { trials }, { timeoutMs: 5 * 60_000 });
    ctx.progress(`notify: ${trials} daemon trials ...`);
    const run = await runChildJson(join(HERE, 'agent-trials.js'), { trials, commitInterval: COMMIT_INTERVAL }, { timeoutMs: 15 * 60_000 });
    const lines = [heading];
    if (floor.error) lines.push(`  floors unavailable: ${floor.error}`);
    else {
      lines.push(latencyLine('floor: bare PGlite INSERT+COMMIT', floor.pgliteMs));
      lines.push(latencyLine('floor: bare HTTP POST to the receiver', floor.postMs));
    }
    let received = [];
    if (run.error) lines.push(`  daemon trials unavailable: ${run.error}`);
    else {
      const webhook = values(run.trials, 'webhookMs');
      const slack = values(run.trials, 'slackMs');
      const commit = run.trials.filter((t) => t.commitMs !== null && t.webhookMs !== null).map((t) => t.webhookMs - t.commitMs);
      received = run.trials.filter((t) => t.webhookMs !== null && t.slackMs !== null).map((t) => Math.max(t.webhookMs, t.slackMs));
      lines.push(latencyLine('append -> incident committed', values(run.trials, 'commitMs')));
      lines.push(latencyLine('committed -> webhook received', commit));
      lines.push(latencyLine('append -> webhook received', webhook, { missed: run.missed }));
      lines.push(latencyLine('append -> Slack-like received', slack, { missed: run.missed }));
      lines.push(latencyLine('append -> both received', received, { note: `peak RSS ${(run.maxRssKb / 1024).toFixed(0)} MiB` }));
      if (!floor.error) {
        const p = (xs) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(0.5 * xs.length) - 1)];
        lines.push(`  committed -> webhook p50 is ${(p(commit) / p(floor.postMs)).toFixed(1)}x the bare POST p50; append -> committed p50 is ${(p(values(run.trials, 'commitMs')) / p(floor.pgliteMs)).toFixed(1)}x the bare PGlite commit p50`);
      }
    }
    lines.push('');
    return [{ heading, rows: [], lines, targetLines: [p99TargetLine('notify append -> both receivers (bounds detection -> received)', received, TARGET_P99_MS)] }];
  },
};
