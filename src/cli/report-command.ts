import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load-config-file.js';
import { AccessLedgerRepository } from '../db/access-ledger-repository.js';
import { openStore } from '../db/open-store.js';
import type { Store } from '../db/store.js';
import { AccessLedger } from '../detect/access-ledger.js';
import type { DataCatalog } from '../detect/data-catalog.js';
import { DETECTOR_REGISTRY } from '../detect/detector-registry.js';
import { loadRuleSet } from '../detect/rule-loader.js';
import { ConfigError, RuleLoadError } from '../domain/errors.js';
import { QueryEnricher } from '../enrich/query-enricher.js';
import { parseCalendarTime } from '../lib/calendar-time.js';
import { parseDuration } from '../lib/duration.js';
import { createLogger } from '../observe/logger.js';
import { createEventBuilder } from '../parse/event-builder.js';
import { LOG_FORMATS, type LogFormat } from '../parse/log-format.js';
import { type ParseOutput, createLogParser, isParseFailure } from '../parse/log-parser.js';
import { buildAccessReport, renderAccessReportCsv, renderAccessReportMarkdown, reportPeriods } from './access-report.js';
import { argumentsError, CliError } from './cli-error.js';
import { requireExistingStoreFolder } from './existing-store-folder.js';
import { openLogFile } from './open-log-file.js';
import { writeProblems } from './write-problems.js';

/** Longest `--since` period, days: 100 years (a longer one reaches before the dates JavaScript can hold). */
const MAX_PERIOD_DAYS = 36_500;

const HELP = `usage: jaga report access [--since 30d] [--until DAY] [--server NAME] [--format md|csv]
                         (--store URL | --data-dir DIR | --config FILE | --logs FILE... --config FILE)

Who read and changed which personal-data (catalogued) tables, by role and client address, with
statements and rows per UTC day, and which role/table/client combinations are new since the
previous period of the same length: the periodic access review of a data protection officer.
Reads the access ledger persisted by the daemon (--store, --data-dir, or the store of --config);
with --logs, builds the ledger from log files first (parse + enrich with the config's catalog, no
detection) in an in-memory store, so it works without a daemon. Report on stdout; with --logs a
summary line {"files","records","events","failures","ledger_rows"} on stderr.

  --since        length of the period in whole UTC days, e.g. 7d or 2w (default 30d)
  --until        last UTC day of the period, YYYY-MM-DD (default: today; with --logs the newest event's day)
  --server       only this server (with --logs: the server name for the files; default each file's folder name)
  --format       md (default) or csv (one line per day, role, table, client)
  --store        PostgreSQL URL of jaga's store
  --data-dir     folder of an embedded (PGlite) store; the daemon must not be running on it; a folder
                 that holds no store is refused (exit 2), never created
  --config       jaga.yaml: its catalog (required with --logs) and, without --logs, its store
  --logs         log file(s) to build the ledger from (repeat --logs, or list files after it)
  --log-format   auto (default), stderr, csvlog or jsonlog (with --logs)
  --log-line-prefix  the server's exact log_line_prefix (stderr logs; default '%m [%p] ')
  --timezone     IANA zone of the server's log_timezone (default UTC)
`;

/** What `reportCommand` writes to and reads the clock from (tests inject them). */
export interface ReportCommandDeps {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** "today" for the default --until; default the system clock */
  now?: Date;
}

const DAY_MS = 86_400_000;
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * `jaga report access` (issue 5, see HELP).
 * @param args the arguments after `report`
 * @returns exit code: 0 report written, 2 bad config (problems listed on stderr)
 * @throws CliError for a bad option, an unreadable log file or a store that cannot be opened (main prints it, exit 2)
 */
export async function reportCommand(args: string[], deps: ReportCommandDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  if (args[0] === '--help' || args[0] === '-h' || args.length === 0) {
    stdout.write(HELP);
    return args.length === 0 ? 2 : 0;
  }
  if (args[0] !== 'access') throw new CliError(`unknown report "${args[0]}" (jaga report access --help)`);
  let parsed;
  try {
    parsed = parseArgs({
      args: args.slice(1),
      allowPositionals: true,
      options: {
        since: { type: 'string', default: '30d' },
        until: { type: 'string' },
        server: { type: 'string' },
        format: { type: 'string', default: 'md' },
        store: { type: 'string' },
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        logs: { type: 'string', multiple: true },
        'log-format': { type: 'string', default: 'auto' },
        'log-line-prefix': { type: 'string' },
        timezone: { type: 'string', default: 'UTC' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw argumentsError(error);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    stdout.write(HELP);
    return 0;
  }
  if (values.format !== 'md' && values.format !== 'csv') throw new CliError(`--format must be md or csv, not "${values.format}"`);
  let periodMs: number;
  try {
    periodMs = parseDuration(values.since, '--since');
  } catch {
    throw new CliError(`--since must be a period of whole days such as 30d or 2w, not "${values.since}"`);
  }
  // the access ledger counts per UTC day: a shorter or partial-day period cannot be honoured, so say so
  if (periodMs === 0) throw new CliError(`--since must be at least 1d, not "${values.since}"`);
  if (periodMs > MAX_PERIOD_DAYS * DAY_MS) throw new CliError(`--since must be at most ${MAX_PERIOD_DAYS}d (100 years), not "${values.since}"`);
  if (periodMs < DAY_MS || periodMs % DAY_MS !== 0) {
    throw new CliError(`--since must be whole days (the access ledger counts per UTC day), not "${values.since}": e.g. --since ${Math.max(1, Math.ceil(periodMs / DAY_MS))}d`);
  }
  const periodDays = periodMs / DAY_MS;
  if (values.until !== undefined && !isDay(values.until)) throw new CliError(`--until must be a calendar day YYYY-MM-DD, not "${values.until}"`);
  const logs = values.logs === undefined ? [] : [...values.logs, ...positionals].map((file) => resolve(file));
  if (values.logs === undefined && positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}" (log files go after --logs)`);
  const logFormat = values['log-format'];
  if (logFormat !== 'auto' && !LOG_FORMATS.includes(logFormat as LogFormat)) throw new CliError(`--log-format must be auto, stderr, csvlog or jsonlog, not "${logFormat}"`);
  const given = (['store', 'data-dir', 'logs'] as const).filter((name) => (name === 'logs' ? logs.length > 0 : values[name] !== undefined)).map((name) => `--${name}`);
  if (given.length > 1) throw new CliError(`${given.join(' and ')} conflict: give one of --store, --data-dir or --logs`);
  if (given.length === 0 && values.config === undefined) throw new CliError('no ledger to report on: give --store URL, --data-dir DIR, --config FILE or --logs FILE... --config FILE');

  let config;
  try {
    config = values.config === undefined ? null : await loadConfigFile(values.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeProblems(stderr, error.problems);
    return 2;
  }
  const logger = createLogger({ level: 'warn' });
  let store: Store;
  let newestDay: string | null = null;
  if (logs.length > 0) {
    if (config === null) throw new CliError('--logs needs --config FILE: its catalog says which tables hold personal data');
    let catalog: DataCatalog;
    try {
      catalog = (await loadRuleSet({ ruleDirs: [], overlayDirs: [], lists: config.detection.lists, catalog: config.detection.catalog, registry: DETECTOR_REGISTRY })).catalog;
    } catch (error) {
      if (!(error instanceof RuleLoadError)) throw error;
      writeProblems(stderr, error.problems);
      return 2;
    }
    if (catalog.size === 0) throw new CliError(`the catalog of ${config.file} classifies no table: nothing counts as personal data`);
    // the embedded store starts (initdb + migrations) while the logs are read
    const opening = openStore({ memory: true, logger });
    opening.catch(() => undefined);
    let ledger: AccessLedger;
    let built: LedgerBuild;
    try {
      ({ ledger, built } = await readLogsIntoLedger(logs, catalog, { format: logFormat as LogFormat | 'auto', logLinePrefix: values['log-line-prefix'], timezone: values.timezone, server: values.server }));
    } catch (error) {
      await opening.then((opened) => opened.close(), () => undefined);
      throw error;
    }
    store = await opening;
    try {
      const deltas = ledger.drain();
      built.summary.ledger_rows = await store.transaction((tx) => new AccessLedgerRepository(store).apply(tx, deltas));
    } catch (error) {
      await store.close();
      throw error;
    }
    newestDay = built.newestDay;
    stderr.write(`${JSON.stringify(built.summary)}\n`);
  } else {
    const url = values.store ?? (values['data-dir'] === undefined && config?.daemon.store.kind === 'postgres' ? config.daemon.store.url : undefined);
    const dataDir = values['data-dir'] ?? (url === undefined && config?.daemon.store.kind === 'embedded' ? config.daemon.store.dataDir : undefined);
    if (url === undefined) await requireExistingStoreFolder(dataDir as string, values['data-dir'] !== undefined ? '--data-dir' : `store.data_dir of ${values.config}`);
    try {
      store = await openStore(url !== undefined ? { url, logger } : { dataDir: resolve(dataDir as string), logger });
    } catch (error) {
      // a store setting found wrong before connecting (e.g. not a PostgreSQL URL): its message names it
      if (error instanceof ConfigError) throw error;
      throw new CliError(`cannot open the store: ${(error as Error).message}`);
    }
  }
  try {
    const untilDay = values.until ?? newestDay ?? (deps.now ?? new Date()).toISOString().slice(0, 10);
    const { current, previous } = reportPeriods(untilDay, periodDays);
    const repository = new AccessLedgerRepository(store);
    const server = values.server ?? null;
    const rows = await repository.query({ sinceDay: current.sinceDay, untilDay: current.untilDay, ...(server === null ? {} : { server }) });
    const previousRows = await repository.query({ sinceDay: previous.sinceDay, untilDay: previous.untilDay, ...(server === null ? {} : { server }) });
    const report = buildAccessReport({ server, period: current, previous, rows, previousRows });
    stdout.write(values.format === 'csv' ? renderAccessReportCsv(report) : renderAccessReportMarkdown(report));
    return 0;
  } finally {
    await store.close();
  }
}

function isDay(text: string): boolean {
  return parseCalendarTime(text, 'day') !== null;
}

/** What `buildLedgerFromLogs` read. */
interface LedgerBuild {
  summary: { files: number; records: number; events: number; failures: number; ledger_rows: number };
  /** UTC day of the newest event, or null when there was none */
  newestDay: string | null;
}

/**
 * Parses and enriches log files and counts their audit events into an `AccessLedger` (one event
 * builder per server, so `log_statement_once` spans a server's files); `ledger_rows` is left 0.
 * @throws CliError when a file cannot be read or the stderr prefix is invalid
 */
async function readLogsIntoLedger(
  files: readonly string[],
  catalog: DataCatalog,
  options: { format: LogFormat | 'auto'; logLinePrefix: string | undefined; timezone: string; server: string | undefined },
): Promise<{ ledger: AccessLedger; built: LedgerBuild }> {
  const enricher = await QueryEnricher.create();
  const ledger = new AccessLedger();
  const builders = new Map<string, ReturnType<typeof createEventBuilder>>();
  const summary = { files: 0, records: 0, events: 0, failures: 0, ledger_rows: 0 };
  let newest = '';
  const sink = {
    push(out: ParseOutput): void {
      if (isParseFailure(out)) {
        summary.failures++;
        return;
      }
      summary.events++;
      if (out.kind !== 'audit') return;
      enricher.enrich(out);
      ledger.observe(out, catalog);
      if (out.time > newest) newest = out.time;
    },
  };
  for (const path of files) {
    const { handle, format, fingerprint } = await openLogFile(path, options.format);
    try {
      const server = options.server ?? basename(dirname(path));
      const builder = builders.get(server) ?? createEventBuilder({ server });
      builders.set(server, builder);
      let parser;
      try {
        parser = createLogParser({ format, logLinePrefix: options.logLinePrefix, timezone: options.timezone, server, source: { id: server, file: path, fingerprint }, builder });
      } catch (error) {
        if (error instanceof ConfigError) throw new CliError(error.message);
        throw error;
      }
      let position = 0;
      for (;;) {
        // a fresh buffer per read: the parser may hold a partial record's bytes across pushes
        const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        parser.pushTo(chunk.subarray(0, bytesRead), sink);
      }
      parser.endTo(sink);
      summary.files++;
      summary.records += parser.records;
    } finally {
      await handle.close();
    }
  }
  return { ledger, built: { summary, newestDay: newest === '' ? null : newest.slice(0, 10) } };
}
