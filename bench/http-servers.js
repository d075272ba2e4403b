// Bench child (`node bench/http-servers.js '<spec>'`) serving the targets of the `http` section, so the
// load generator (autocannon, in the parent) never shares an event loop with the server it measures.
// mode `daemon`: writes 200 marker records (one role each: 200 incidents) to a scratch log folder, runs
//   the compiled Agent (PGlite store, shipped pack + marker rule, commit_interval 100ms) until their
//   incidents are committed, stops it, creates a viewer API token in the store (TokenRepository), and
//   starts the Agent again on the same store: the daemon serving its incident list.
// mode `floor`: a bare fastify app with one route, `GET /api/incidents`, answering `spec.bodyFile`'s
//   bytes as application/json.
// Both print `{"ready": true, url, token?}` on stdout when listening, serve until SIGTERM, then print
// `{maxRssKb, cpuMs}`.
import { appendFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify from 'fastify';
import { importDist, markerRecord, scratchDir, startAgent, writeBenchConfig } from './agent-harness.js';
import { childMain } from './child-json.js';

const sigterm = () => new Promise((done) => process.once('SIGTERM', done));

/** @param {{incidents: number}} spec */
async function serveDaemon(spec) {
  const dir = await scratchDir('jaga-bench-http-');
  const logFile = join(dir, 'logs', 'postgresql-2026-11-29_000000.csv');
  const startMs = Date.now() - spec.incidents * 1000;
  let text = '';
  for (let n = 1; n <= spec.incidents; n++) text += markerRecord(n, startMs + n * 1000);
  await appendFile(logFile, text);
  const config = await writeBenchConfig({ dir, logDir: join(dir, 'logs'), commitInterval: '100ms', markerRule: true, receivers: [`  sink: { type: file, path: ${JSON.stringify(join(dir, 'notifications.jsonl'))} }`] });
  const seed = await startAgent(config);
  let changes = 0;
  await new Promise((done) => {
    const check = (line) => {
      if (line.event === 'pipeline_commit') changes += Number(line.changes ?? 0);
      if (changes >= spec.incidents) done();
    };
    for (const line of seed.lines) check(line);
    seed.onLine(check);
  });
  await seed.stop();
  const { openStore } = await importDist('db/open-store.js');
  const { TokenRepository } = await importDist('http/token-repository.js');
  const store = await openStore({ dataDir: join(dir, 'data') });
  let token;
  let incidents;
  try {
    ({ token } = await new TokenRepository(store).create('bench', 'viewer', new Date()));
    incidents = Number((await store.query('SELECT count(*)::text AS n FROM jaga_incident'))[0].n);
  } finally {
    await store.close();
  }
  const daemon = await startAgent(config);
  const cpuBefore = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ready: true, url: daemon.agent.url, token, incidents })}\n`);
  await sigterm();
  const cpu = process.cpuUsage(cpuBefore);
  await daemon.stop();
  await rm(dir, { recursive: true, force: true });
  return { maxRssKb: process.resourceUsage().maxRSS, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** @param {{bodyFile: string}} spec */
async function serveFloor(spec) {
  const body = await readFile(spec.bodyFile);
  const app = Fastify({ logger: false });
  app.get('/api/incidents', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const cpuBefore = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ready: true, url })}\n`);
  await sigterm();
  const cpu = process.cpuUsage(cpuBefore);
  await app.close();
  return { maxRssKb: process.resourceUsage().maxRSS, cpuMs: (cpu.user + cpu.system) / 1000 };
}

await childMain(import.meta.url, (spec) => (spec.mode === 'floor' ? serveFloor(spec) : serveDaemon(spec)));
