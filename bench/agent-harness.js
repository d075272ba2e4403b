// Runs jaga's daemon (the compiled Agent from dist/) inside a bench child, with a logger whose lines
// are parsed as they are written (the hook the latency rows observe commits through), an embedded
// store (PGlite data folder) and local HTTP receivers that record arrival times.
import { appendFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** compiled jaga to measure; BENCH_DIST_DIR overrides (e.g. a build in a scratch folder) */
export const DIST = resolve(process.env.BENCH_DIST_DIR ?? join(ROOT, 'dist'));
/** the example site's lists and catalog (detection keys only), the base of every bench config */
const SITE_CONFIG = join(ROOT, 'examples/crm/jaga.yaml');

/** Imports a module of the compiled jaga (`DIST/<path>`). */
export function importDist(path) {
  return import(pathToFileURL(join(DIST, path)).href);
}

/**
 * A rule that fires on a csvlog ERROR with SQLSTATE P0001 (raise_exception), one incident per role:
 * the record `markerRecord` writes. jaga/rules/v1 (src/detect/rule-schema.ts).
 */
const MARKER_RULE = `schema: jaga/rules/v1
id: bench.latency_marker
title: Bench latency marker
description: |
  Fires on the marker records the bench appends (ERROR, SQLSTATE P0001), one incident per role.
severity: high
tags: [bench]
type: match
match:
  sel_marker: { kind: error, sqlstate: 'P0001' }
  condition: sel_marker
group_by: [user]
`;

/** `YYYY-MM-DD HH:MM:SS.mmm` (UTC) of an epoch-ms instant, the csvlog `log_time` layout without ` UTC`. */
export function csvTime(ms) {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}

/**
 * One PostgreSQL 15 csvlog record (26 columns, README of the corpus) of an ERROR P0001 by role
 * `bench_u<n>`: fires `bench.latency_marker`.
 * @param {number} n marker number (role name and pid)
 * @param {number} atMs log_time, epoch ms
 */
export function markerRecord(n, atMs) {
  const pid = 40_000 + (n % 100_000);
  const start = Math.floor(atMs / 1000);
  const session = `${start.toString(16)}.${pid.toString(16)}`;
  return `${csvTime(atMs)} UTC,"bench_u${n}","crm",${pid},"127.0.0.1:40${String(n % 1000).padStart(3, '0')}",${session},1,"SELECT",${csvTime(start * 1000).slice(0, 19)} UTC,3/${n},0,ERROR,P0001,"bench marker",,,,,,"SELECT bench_marker()",,,"psql","client backend",,0\n`;
}

/**
 * A local HTTP receiver (webhook or Slack incoming-webhook alike: `200 ok`) recording, per request,
 * the arrival time (`performance.now()`, ms, when the body has been read) and the body.
 */
export class ArrivalReceiver {
  constructor() {
    /** @type {{path: string, body: string, atMs: number}[]} */
    this.requests = [];
    this.waiters = [];
    this.server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const record = { path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), atMs: performance.now() };
        this.requests.push(record);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
        this.waiters = this.waiters.filter((w) => !w(record));
      });
    });
  }

  /** Listens on 127.0.0.1 (free port). @returns the base URL */
  async start() {
    await new Promise((done) => this.server.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this.url;
  }

  /**
   * The first request (already received or still to come) on `path` whose body contains `needle`.
   * @returns its arrival time, or null after `timeoutMs`
   */
  arrival(path, needle, timeoutMs) {
    const found = this.requests.find((r) => r.path === path && r.body.includes(needle));
    if (found) return Promise.resolve(found.atMs);
    return new Promise((done) => {
      const timer = setTimeout(() => done(null), timeoutMs);
      this.waiters.push((r) => {
        if (r.path !== path || !r.body.includes(needle)) return false;
        clearTimeout(timer);
        done(r.atMs);
        return true;
      });
    });
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((done) => this.server.close(done));
  }
}

/**
 * Writes a jaga.yaml into `dir` (the example site's lists and catalog, then the daemon sections) and
 * the marker rule beside it.
 * @param {object} o
 * @param {string} o.dir scratch folder (the store's data folder goes to `dir/data`)
 * @param {string} o.logDir folder of the log_folder source (csvlog, start_at beginning)
 * @param {string} o.commitInterval jaga duration, e.g. `1s`
 * @param {string[]} o.receivers YAML lines under `receivers:` (two-space indented entries)
 * @param {boolean} o.markerRule add the marker rule to the shipped pack
 * @param {'shipped' | 'none'} [o.ruleSet] `none`: no rule at all (an empty rule folder instead of the
 *   shipped pack, the marker rule alone when `markerRule`): the floor row that leaves detection out
 * @returns {Promise<string>} the config path
 */
export async function writeBenchConfig(o) {
  const { shippedRulesDir } = await importDist('config/detection-config.js');
  const rulesDir = join(o.dir, 'bench-rules');
  await mkdir(rulesDir, { recursive: true });
  if (o.markerRule) await writeFile(join(rulesDir, 'marker.yaml'), MARKER_RULE);
  const rules = o.ruleSet === 'none' ? [rulesDir] : o.markerRule ? [shippedRulesDir(), rulesDir] : [shippedRulesDir()];
  const path = join(o.dir, 'jaga.yaml');
  await writeFile(
    path,
    [
      await readFile(SITE_CONFIG, 'utf8'),
      `rules: ${JSON.stringify(rules)}`,
      'agent: { name: bench }',
      `store: { data_dir: ${JSON.stringify(join(o.dir, 'data'))} }`,
      'sources:',
      `  - { name: pg, type: log_folder, path: ${JSON.stringify(o.logDir)}, format: csvlog, start_at: beginning, server: crm }`,
      `pipeline: { commit_interval: ${o.commitInterval} }`,
      'http: { listen: "127.0.0.1:0" }',
      'receivers:',
      ...o.receivers,
      'notify: { poll_interval: 1s }',
      '',
    ].join('\n'),
  );
  return path;
}

/**
 * Starts an Agent on `configPath` with a debug logger parsed line by line.
 * @returns {Promise<{agent: object, lines: object[], onLine: (fn: (line: object) => void) => () => void, done: Promise<void>, stop: () => Promise<void>}>}
 *   `lines` every log object (with `atMs` = performance.now() when written); resolves once `agent_started` was logged
 * @throws Error when the agent fails before it started
 */
export async function startAgent(configPath) {
  const { loadConfigFile } = await importDist('config/load-config-file.js');
  const { Agent } = await importDist('pipeline/agent.js');
  const { createLogger } = await importDist('observe/logger.js');
  const lines = [];
  const listeners = new Set();
  let rest = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      const atMs = performance.now();
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop();
      for (const text of parts) {
        if (!text.startsWith('{')) continue;
        const line = { ...JSON.parse(text), atMs };
        lines.push(line);
        for (const fn of listeners) fn(line);
      }
      callback();
    },
  });
  const config = await loadConfigFile(configPath, {}, { requireSources: true });
  const agent = new Agent(config, { logger: createLogger({ level: 'debug', stream }) });
  const onLine = (fn) => {
    listeners.add(fn);
    return () => listeners.delete(fn);
  };
  const started = new Promise((done) => {
    const off = onLine((line) => {
      if (line.event === 'agent_started') {
        off();
        done();
      }
    });
  });
  const done = agent.start();
  await Promise.race([started, done.then(() => Promise.reject(new Error('agent ended before agent_started')))]);
  return { agent, lines, onLine, done, stop: async () => void (await agent.stop(30_000)) };
}

/** A fresh scratch folder with an empty `logs/` subfolder. */
export async function scratchDir(prefix) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await mkdir(join(dir, 'logs'));
  return dir;
}

/** Appends marker record `n` (log_time now) to `file`. */
export function appendMarker(file, n) {
  return appendFile(file, markerRecord(n, Date.now()));
}
