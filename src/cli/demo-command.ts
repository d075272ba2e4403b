import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isListenAddress, LISTEN_ADDRESS_FORM } from '../config/http-config.js';
import type { JagaConfig } from '../config/load-config-file.js';
import { loadCorpusTemplates } from '../demo/corpus-templates.js';
import { DEMO_NAMES, buildDemoConfig, demoPaths } from '../demo/demo-config.js';
import { DemoLogAppender } from '../demo/demo-log-appender.js';
import { seedDemoEngine } from '../demo/demo-seeder.js';
import { DEMO_TOKEN, prepareDemoStore } from '../demo/demo-store.js';
import { DemoTimeShift } from '../demo/demo-time-shift.js';
import { StoreLock } from '../db/store-lock.js';
import { ConfigError, RuleLoadError, StoreError } from '../domain/errors.js';
import { QueryEnricher } from '../enrich/query-enricher.js';
import { createLogger } from '../observe/logger.js';
import { Agent } from '../pipeline/agent.js';
import { makeFolder } from '../lib/make-folder.js';
import { argumentsError, CliError } from './cli-error.js';

const HELP = `usage: jaga demo [--speed 4] [--data-dir DIR] [--listen HOST:PORT] [--weeks 3] [--max-events 50000] [--log-level warn]

Runs jaga end to end on this machine with no configuration and no PostgreSQL server: an embedded
store, the shipped rules and the example CRM site (examples/crm/jaga.yaml). Baselines first learn
from a synthetic multi-week history made from the bundled logs (examples/crm/logs); then the
bundled real server log (eight minutes of CRM traffic with nine attacks) is written into a
temporary log folder at --speed times real time, moved in time so that each record's time is at
or before the moment it is written (the last one: now), and the live agent tails it: rules, baselines, incidents, notifications (to the console and to
DIR/notifications.jsonl) and the web page all run. It prints the page address and a token to
sign in with, and runs until Ctrl-C.

  --speed       replay speed-up of the bundled log (default 4: the run takes about 2 minutes)
  --data-dir    keep the store, the written jaga.yaml and notifications.jsonl in DIR
                (default: a temporary folder removed on exit)
  --listen      the web page's address (default 127.0.0.1:7887; 127.0.0.1:0 picks a free port)
  --weeks       weeks of synthetic history the baselines learn from (default 3)
  --max-events  cap on history records (default 50000: seeding stays under ~20 s)
  --log-level   the daemon's JSON logs on stderr: error, warn (default), info or debug

Exit codes: 0 stopped by Ctrl-C (SIGINT/SIGTERM) after a clean shutdown; 1 a runtime error;
2 bad options or the address is in use; 3 the shutdown took longer than 10 s; 130 a second signal.
`;

const DEFAULT_LISTEN = '127.0.0.1:7887';
const SHUTDOWN_DEADLINE_MS = 10_000;
const HISTORY_SEED = 7;

/** Writes one line to stdout (the demo's own messages; notifications are JSON lines beside them). */
function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Parses and checks the options. @throws CliError */
function demoOptions(args: string[]): { help: boolean; speed: number; dataDir: string | null; listen: string; weeks: number; maxEvents: number; level: 'error' | 'warn' | 'info' | 'debug' } {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        speed: { type: 'string', default: '4' },
        'data-dir': { type: 'string' },
        listen: { type: 'string', default: DEFAULT_LISTEN },
        weeks: { type: 'string', default: '3' },
        'max-events': { type: 'string', default: '50000' },
        'log-level': { type: 'string', default: 'warn' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw argumentsError(error);
  }
  const speed = Number(values.speed);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 1000) throw new CliError('--speed must be a number above 0 and at most 1000');
  const weeks = Number(values.weeks);
  if (!Number.isInteger(weeks) || weeks < 1 || weeks > 8) throw new CliError('--weeks must be a whole number from 1 to 8');
  const maxEvents = Number(values['max-events']);
  if (!Number.isInteger(maxEvents) || maxEvents < 1_000) throw new CliError('--max-events must be a whole number of at least 1000');
  if (!isListenAddress(values.listen)) throw new CliError(`--listen must be ${LISTEN_ADDRESS_FORM}, not "${values.listen}"`);
  const level = values['log-level'];
  if (level !== 'error' && level !== 'warn' && level !== 'info' && level !== 'debug') throw new CliError('--log-level must be error, warn, info or debug');
  return { help: values.help, speed, dataDir: values['data-dir'] ?? null, listen: values.listen, weeks, maxEvents, level };
}

/** Null when `host:port` can be listened on (port 0 always can), else why not (e.g. `EADDRINUSE`). */
function listenProblem(host: string, port: number): Promise<string | null> {
  if (port === 0) return Promise.resolve(null);
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => done(null)));
  });
}

/** Explains a listen failure in words. */
function listenMessage(config: JagaConfig, code: string): string {
  const where = `${config.http.host}:${config.http.port}`;
  if (code === 'EADDRINUSE') return `jaga demo: ${where} is already in use (another jaga demo or jaga run?); stop it, or pick another address with --listen 127.0.0.1:PORT (--listen 127.0.0.1:0 picks a free port)`;
  return `jaga demo: cannot listen on ${where} (${code}); pick another address with --listen HOST:PORT`;
}

/**
 * `jaga demo` (issue 8; see HELP): seeds the baselines, starts the Agent on a generated config,
 * replays the bundled corpus run into its log folder, prints the page URL and a token, and runs
 * until SIGINT/SIGTERM (graceful Agent.stop; a second signal exits with 130).
 * @returns the exit code (see HELP)
 * @throws CliError for bad options (main prints it, exit 2)
 */
export async function demoCommand(args: string[]): Promise<number> {
  const startedAt = new Date();
  const options = demoOptions(args);
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const keepData = options.dataDir !== null;
  const dataDir = options.dataDir !== null ? resolve(options.dataDir) : await mkdtemp(join(tmpdir(), 'jaga-demo-'));
  try {
    await makeFolder(dataDir);
  } catch (error) {
    throw new CliError(`--data-dir ${dataDir}: cannot create the folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const logDir = await mkdtemp(join(tmpdir(), 'jaga-demo-logs-'));
  const logger = createLogger({ level: options.level });
  const stopIntake = new AbortController();
  let agent: Agent | null = null;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      logger.warn('shutdown_forced', { event: 'shutdown_forced', signal });
      process.exit(130);
    }
    say(`jaga demo: ${signal}: stopping`);
    stopIntake.abort();
    if (agent !== null) {
      void agent.stop(SHUTDOWN_DEADLINE_MS).then((outcome) => {
        if (outcome === 'deadline') {
          logger.error('shutdown_deadline_passed', { event: 'shutdown_deadline_passed', deadline_ms: SHUTDOWN_DEADLINE_MS });
          process.exit(3);
        }
      });
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // a kept folder another jaga holds would fail only after ~15 s of seeding, and writing the demo's
    // jaga.yaml into it would repoint the running demo's config at this run's log folder: ask its lock first
    const held = keepData ? await storeLockProblem(dataDir) : null;
    if (held !== null) {
      process.stderr.write(`jaga demo: --data-dir ${dataDir}: ${held}\n`);
      return 1;
    }
    let config: JagaConfig;
    try {
      config = await buildDemoConfig({ dataDir, logDir, listen: options.listen });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems.length > 0 ? error.problems : [error.message]) process.stderr.write(`jaga demo: ${problem}\n`);
      return 2;
    }
    const problem = await listenProblem(config.http.host, config.http.port);
    if (problem !== null) {
      process.stderr.write(`${listenMessage(config, problem)}\n`);
      return 2;
    }
    const paths = demoPaths();
    const corpus = await loadCorpusTemplates(paths.corpusDir);
    // One offset for the history and the run (whole seconds). Written faster than real time, a record shifted to start
    // now would carry a time ahead of the clock; so the run is shifted back by what the speed-up gains over its span: its
    // last record's time is the instant it is written, the earlier ones are in the recent past (as when jaga starts on a
    // log the server has been writing), none is in the future.
    const spanMs = corpus.lastMs - corpus.firstMs;
    const offsetMs = Math.round((startedAt.getTime() - corpus.firstMs - spanMs * Math.max(0, 1 - 1 / options.speed)) / 1000) * 1000;
    say(`jaga demo: data folder ${dataDir}${keepData ? '' : ' (temporary, removed on exit)'}`);
    say(`jaga demo: seeding the baselines from ${options.weeks} week${options.weeks === 1 ? '' : 's'} of synthetic history (${paths.corpusDir})...`);
    const seedStartMs = Date.now();
    let seeded;
    let token: string;
    try {
      seeded = await seedDemoEngine({
        detection: config.detection,
        ignore: config.daemon.ignore,
        server: DEMO_NAMES.source,
        corpusDir: paths.corpusDir,
        weeks: options.weeks,
        maxEvents: options.maxEvents,
        seed: HISTORY_SEED,
        endAt: new Date(corpus.firstMs),
        offsetMs,
        enricher: await QueryEnricher.create(),
        signal: stopIntake.signal,
      });
      if (stopIntake.signal.aborted) return 0;
      say(`jaga demo: baselines learned ${seeded.events} events (${fmtTime(seeded.firstTimeMs)} to ${fmtTime(seeded.lastTimeMs)}) in ${((Date.now() - seedStartMs) / 1000).toFixed(1)} s`);
      ({ token } = await prepareDemoStore({ dataDir, agent: config.daemon.agentName, state: seeded.state, ledger: seeded.ledger, logger }));
    } catch (error) {
      if (error instanceof StoreError) {
        process.stderr.write(`jaga demo: ${error.message}\n`);
        return 1;
      }
      if (!(error instanceof ConfigError || error instanceof RuleLoadError)) throw error;
      for (const problem of error.problems.length > 0 ? error.problems : [error.message]) process.stderr.write(`jaga demo: ${problem}\n`);
      return 2;
    }
    if (stopIntake.signal.aborted) return 0;

    const records = new DemoTimeShift(offsetMs).records(corpus.csvText);
    const logFile = join(logDir, `postgresql-${fileStamp(startedAt.getTime())}.csv`);
    const running = new Agent(config, { logger });
    agent = running;
    const started = running.start();
    started.catch(() => undefined);
    const url = await agentUrl(running, started);
    if (url === null) return await agentFailure(started, config, logger);
    say('');
    say(`jaga demo is running. Web page: ${url}/`);
    say(`jaga demo: token ${token}`);
    say(`  (role ${DEMO_TOKEN.role}; sign in on the page with it, or call the API with "Authorization: Bearer <token>")`);
    say(`jaga demo: notifications below (JSON lines) and in ${join(dataDir, DEMO_NAMES.notificationsFile)}`);
    const appender = new DemoLogAppender({ records, path: logFile, speed: options.speed });
    say(`jaga demo: writing the bundled server log (${records.length} records, ${Math.round(appender.spanMs / 1000)} s of traffic with nine attacks) into ${logFile} at ${options.speed}x; Ctrl-C to stop`);
    const appending = appender.run(stopIntake.signal).then(
      (result) => {
        if (result.complete) say(`jaga demo: the bundled log is fully written (${result.appended} records); still serving ${url}/ until Ctrl-C`);
      },
      (error: unknown) => logger.error('demo_append_failed', { event: 'demo_append_failed', error: error instanceof Error ? error.message : String(error) }),
    );
    try {
      await started;
    } catch {
      return await agentFailure(started, config, logger);
    } finally {
      stopIntake.abort();
      await appending;
    }
    say('jaga demo: stopped');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(logDir, { recursive: true, force: true });
    if (!keepData) await rm(dataDir, { recursive: true, force: true });
  }
}

/** The agent's URL once it listens; null when `start` settled first (it failed). */
async function agentUrl(agent: Agent, started: Promise<void>): Promise<string | null> {
  let settled = false;
  void started.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (agent.url === null && !settled) await new Promise((resolve) => setTimeout(resolve, 25));
  return agent.url;
}

/** Reports why the agent stopped with an error and gives the exit code (2 config/rules/address, 1 else). */
async function agentFailure(started: Promise<void>, config: JagaConfig, logger: ReturnType<typeof createLogger>): Promise<number> {
  try {
    await started;
    return 0;
  } catch (error) {
    if (error instanceof RuleLoadError || error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`jaga demo: ${problem}\n`);
      return 2;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      process.stderr.write(`${listenMessage(config, code)}\n`);
      return 2;
    }
    logger.error('agent_failed', { event: 'agent_failed', error: error instanceof Error ? error.message : String(error), code: code ?? null });
    process.stderr.write(`jaga demo: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** epoch ms → `2026-11-08 11:45 UTC` (`-` for NaN). */
function fmtTime(ms: number): string {
  return Number.isNaN(ms) ? '-' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** epoch ms → `2026-11-29_171716` (PostgreSQL's default log_filename stamp, UTC). */
function fileStamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)}_${iso.slice(11, 19).replaceAll(':', '')}`;
}

/**
 * Why the embedded store in `dataDir` cannot be opened by this process now (another live jaga holds
 * its lock: the message names that process), or null when the lock was free (it is released again).
 * @throws whatever `StoreLock.acquire` throws besides a held lock (e.g. EACCES)
 */
async function storeLockProblem(dataDir: string): Promise<string | null> {
  let lock: StoreLock;
  try {
    lock = await StoreLock.acquire(dataDir);
  } catch (error) {
    if (error instanceof StoreError) return error.message;
    throw error;
  }
  await lock.release();
  return null;
}
