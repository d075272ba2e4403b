// Bench child (`node bench/agent-throughput.js '<spec>'`) for the `pipeline` section.
// mode `daemon`: the compiled Agent (embedded PGlite store in a scratch folder, the shipped pack with
//   the example site's lists and catalog, a file receiver, default pipeline settings) on a log_folder
//   source holding only `spec.path` (csvlog, start_at beginning). Timed from the `agent_started` log
//   line (store opened and migrated, rules loaded) to the `pipeline_commit` line whose events bring the
//   committed total to `spec.records` (or the last commit before 20 s without one). After the stop the
//   store is opened again to read the checkpoint (must be the file size) and count incidents.
//   `spec.ruleSet: 'none'` runs it with no rule at all (the engine floor: everything but detection).
// mode `readline`: the same file through `readlineLines` (bench/floors.js), timed in this child.
// Prints `{events, elapsedMs, cpuMs, maxRssKb, ...}`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDist, startAgent, writeBenchConfig } from './agent-harness.js';
import { childMain } from './child-json.js';
import { readlineLines } from './floors.js';

const IDLE_END_MS = 20_000;

async function measureDaemon(spec) {
  const dir = await mkdtemp(join(tmpdir(), 'jaga-bench-pipeline-'));
  const config = await writeBenchConfig({ dir, logDir: spec.dir, commitInterval: '1s', markerRule: false, ruleSet: spec.ruleSet ?? 'shipped', receivers: [`  sink: { type: file, path: ${JSON.stringify(join(dir, 'notifications.jsonl'))} }`] });
  let committed = 0;
  let commits = 0;
  let changes = 0;
  let lastCommitAt = 0;
  let finished = null;
  const reached = new Promise((done) => (finished = done));
  const daemon = await startAgent(config);
  const startedAt = daemon.lines.find((line) => line.event === 'agent_started').atMs;
  const cpuBefore = process.cpuUsage();
  daemon.onLine((line) => {
    if (line.event !== 'pipeline_commit') return;
    committed += Number(line.events ?? 0);
    changes += Number(line.changes ?? 0);
    commits++;
    lastCommitAt = line.atMs;
    if (committed >= spec.records) finished();
  });
  const idle = setInterval(() => {
    if (lastCommitAt > 0 && performance.now() - lastCommitAt > IDLE_END_MS) finished();
  }, 1000);
  await reached;
  clearInterval(idle);
  const elapsedMs = lastCommitAt - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  const maxRssKb = process.resourceUsage().maxRSS;
  await daemon.stop();
  const { openStore } = await importDist('db/open-store.js');
  const store = await openStore({ dataDir: join(dir, 'data') });
  let checkpoint = 0;
  let incidents = 0;
  try {
    const [row] = await store.query('SELECT max(byte_offset)::text AS offset FROM jaga_checkpoint');
    checkpoint = Number(row?.offset ?? 0);
    const [count] = await store.query('SELECT count(*)::text AS n FROM jaga_incident');
    incidents = Number(count?.n ?? 0);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
  return { events: committed, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKb, commits, changes, incidents, checkpoint };
}

async function measureReadline(spec) {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const { bytes, lines } = await readlineLines(spec.path);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { bytes, lines, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKb: process.resourceUsage().maxRSS };
}

await childMain(import.meta.url, (spec) => (spec.mode === 'readline' ? measureReadline(spec) : measureDaemon(spec)));
