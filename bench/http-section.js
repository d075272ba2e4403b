// Bench section "http" (issue 7): 200 concurrent clients reading `GET /api/incidents` on loopback for
// 30 s (10 s with BENCH_QUICK=1) with autocannon (programmatic API, in this process) against the
// jaga daemon holding ~200 incidents (bench/http-servers.js `daemon`, a separate process: the real
// HTTP server, auth, list cache and store), beside the floor: a bare fastify route answering the same
// JSON bytes (bench/http-servers.js `floor`). Errors (socket errors, timeouts, non-2xx) must be 0.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { DIST } from './agent-harness.js';
import { runChildJson } from './child-json.js';

const SERVERS = fileURLToPath(new URL('./http-servers.js', import.meta.url));
const CONNECTIONS = 200;
const INCIDENTS = 200;

/**
 * Starts a serving child and waits for its `{ready}` line.
 * @returns {Promise<{ready: object|null, stop: () => Promise<object>}>} ready null when it failed (stop then gives the reason)
 */
async function serve(spec) {
  const abort = new AbortController();
  let onReady;
  const ready = new Promise((done) => (onReady = done));
  const result = runChildJson(SERVERS, spec, {
    signal: abort.signal,
    timeoutMs: 20 * 60_000,
    onLine: (line) => {
      if (line.startsWith('{"ready":true')) onReady(JSON.parse(line));
    },
  });
  const first = await Promise.race([ready, result.then(() => null)]);
  return {
    ready: first,
    stop: async () => {
      abort.abort();
      return result;
    },
  };
}

/** autocannon against `url` with the section's load; the summary figures. */
async function load(url, headers, seconds) {
  const cpuBefore = process.cpuUsage();
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  const cpu = process.cpuUsage(cpuBefore);
  return {
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    requestsPerSec: r.requests.average,
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    bytesPerSec: r.throughput.average,
  };
}

/** Failed requests: autocannon's `errors` (socket errors, timeouts included) plus non-2xx answers. */
const failuresOf = (r) => r.errors + r.non2xx;

/** One aligned result line. */
function line(label, r, extra = '') {
  return `  ${label.padEnd(34)}  ${r.requestsPerSec.toFixed(0).padStart(7)} req/s  p50 ${String(r.p50).padStart(5)} ms  p99 ${String(r.p99).padStart(5)} ms  max ${String(r.max).padStart(6)} ms  errors ${failuresOf(r)} (of which timeouts ${r.timeouts}; non-2xx ${r.non2xx})  ${r.total} requests, client cpu ${r.clientCpuSeconds.toFixed(1)} s${extra}`;
}

/**
 * @type {{name: string, title: string, run: (ctx: {minBytes: number, progress: (msg: string) => void}) => Promise<object[]>}}
 */
export const httpSection = {
  name: 'http',
  title: `HTTP (issue 7): ${CONNECTIONS} concurrent clients reading GET /api/incidents on loopback (autocannon)`,
  async run(ctx) {
    const seconds = ctx.minBytes < 100e6 ? 10 : 30;
    const heading = `http: ${CONNECTIONS} connections for ${seconds} s each, daemon (Agent, PGlite store, ${INCIDENTS} incidents, viewer token) vs a bare fastify route with the same body`;
    const missing = (why) => [{ heading, rows: [], lines: [heading, `  unavailable: ${why}`, ''], targetLines: [`http GET /api/incidents: figure missing (${why})`] }];
    if (!existsSync(join(DIST, 'pipeline/agent.js'))) return missing(`no ${DIST}/pipeline/agent.js (run \`npm run build\`)`);

    ctx.progress(`http: starting the daemon with ${INCIDENTS} incidents ...`);
    const daemon = await serve({ mode: 'daemon', incidents: INCIDENTS });
    if (daemon.ready === null) return missing(`daemon did not start: ${(await daemon.stop()).error}`);
    const headers = { authorization: `Bearer ${daemon.ready.token}` };
    const url = `${daemon.ready.url}/api/incidents`;
    const probe = await globalThis.fetch(url, { headers });
    const body = Buffer.from(await probe.arrayBuffer());
    if (probe.status !== 200) {
      await daemon.stop();
      return missing(`GET /api/incidents answered ${probe.status}`);
    }
    ctx.progress(`http: daemon load, ${seconds} s ...`);
    const measured = await load(url, headers, seconds);
    const daemonEnd = await daemon.stop();

    const bodyDir = await mkdtemp(join(tmpdir(), 'jaga-bench-http-body-'));
    const bodyFile = join(bodyDir, 'incidents.json');
    await writeFile(bodyFile, body);
    ctx.progress(`http: floor load, ${seconds} s ...`);
    const floor = await serve({ mode: 'floor', bodyFile });
    if (floor.ready === null) return missing(`floor did not start: ${(await floor.stop()).error}`);
    const floorResult = await load(`${floor.ready.url}/api/incidents`, {}, seconds);
    const floorEnd = await floor.stop();
    await rm(bodyDir, { recursive: true, force: true });

    const failures = failuresOf(measured);
    const rss = (end) => (end.maxRssKb ? `, server peak RSS ${(end.maxRssKb / 1024).toFixed(0)} MiB, server cpu ${(end.cpuMs / 1000).toFixed(1)} s` : '');
    const lines = [
      heading,
      `  response: ${body.length} bytes, ${daemon.ready.incidents} incidents in the store`,
      line('floor: bare fastify, same bytes', floorResult, rss(floorEnd)),
      line('jaga daemon GET /api/incidents', measured, rss(daemonEnd)),
      `  daemon requests/s = ${((100 * measured.requestsPerSec) / floorResult.requestsPerSec).toFixed(0)}% of the floor's (client cpu near the duration = autocannon itself is the limit; autocannon's request timeout is its default 10 s)`,
      '',
    ];
    return [
      {
        heading,
        rows: [],
        lines,
        targetLines: [`http GET /api/incidents x${CONNECTIONS} clients: ${measured.requestsPerSec.toFixed(0)} req/s, p99 ${measured.p99} ms, errors ${failures} (target 0 errors): ${failures === 0 ? 'met' : 'MISSED'}`],
      },
    ];
  },
};
