import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CheckpointRepository } from '../db/checkpoint-repository.js';
import { openStore } from '../db/open-store.js';
import type { Store } from '../db/store.js';
import { ConfigError } from '../domain/errors.js';
import { QueryEnricher } from '../enrich/query-enricher.js';
import { createLogger } from '../observe/logger.js';
import { Telemetry } from '../observe/telemetry.js';
import { LOG_FORMATS, type LogFormat } from '../parse/log-format.js';
import { compileLogLinePrefix } from '../parse/log-line-prefix.js';
import { LogEventReader } from '../pipeline/log-event-reader.js';
import { declareZoneMismatch } from '../pipeline/source-zone-check.js';
import { fileNameGlob } from '../sources/file-name-glob.js';
import { LogFolderSource } from '../sources/log-folder-source.js';
import { argumentsError, CliError } from './cli-error.js';

const HELP = `usage: jaga tail [--format auto|stderr|csvlog|jsonlog] [--log-line-prefix STR] [--timezone IANA]
                 [--glob PATTERN] [--state DIR] [--start-at beginning|end] [--server NAME]
                 [--checkpoint-interval-ms N] [--no-enrich] LOG_DIR

Follows a PostgreSQL log folder exactly as the daemon does (rotation by time or size, truncation,
copytruncate, rename + create, deletion) and writes one JSON event per line (the \`jaga parse\` shape)
to stdout as records arrive.

  --state DIR                keep checkpoints in an embedded store in DIR: after kill -9 a restart resumes
                             without losing a record and repeats exactly the records printed after the last
                             saved checkpoint: at most those printed during the last checkpoint interval
                             plus the save then in progress; each event carries its deterministic id, so a
                             reader can drop repeats. SIGTERM/SIGINT save a final checkpoint (no repeats).
  --start-at                 for files never seen before: beginning (default) or end
  --checkpoint-interval-ms   how often checkpoints are saved with --state (default 200)
  --glob                     base-name glob of the files to read (default by format: *.log, *.csv, *.json)
  other options as for \`jaga parse\`
`;

/** Default period between checkpoint saves, ms. */
const DEFAULT_CHECKPOINT_INTERVAL_MS = 200;

/** Writes text and resolves once the stream has handed it to the OS (so an ack after it is honest). */
function writeFlushed(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolveWrite, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolveWrite()));
  });
}

/**
 * `jaga tail`: the log folder source on its own, for operators and checks (issue 3 CLI contract).
 * @returns exit code 0 after a clean stop; throws CliError (exit 2) for bad options or folder
 */
export async function tailCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'auto' },
        'log-line-prefix': { type: 'string' },
        timezone: { type: 'string', default: 'UTC' },
        glob: { type: 'string' },
        state: { type: 'string' },
        'start-at': { type: 'string', default: 'beginning' },
        server: { type: 'string' },
        'checkpoint-interval-ms': { type: 'string' },
        'no-enrich': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw argumentsError(error);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const format = values.format;
  if (format !== 'auto' && !LOG_FORMATS.includes(format as LogFormat)) throw new CliError(`--format must be auto, stderr, csvlog or jsonlog, not "${format}"`);
  if (values['start-at'] !== 'beginning' && values['start-at'] !== 'end') throw new CliError('--start-at must be beginning or end');
  if (positionals.length !== 1) throw new CliError('give exactly one LOG_DIR (jaga tail --help)');
  const intervalMs = values['checkpoint-interval-ms'] === undefined ? DEFAULT_CHECKPOINT_INTERVAL_MS : Number(values['checkpoint-interval-ms']);
  if (!Number.isInteger(intervalMs) || intervalMs < 10) throw new CliError('--checkpoint-interval-ms must be an integer >= 10');
  try {
    compileLogLinePrefix(values['log-line-prefix'], values.timezone);
    if (values.glob !== undefined) fileNameGlob(values.glob);
  } catch (error) {
    throw argumentsError(error);
  }
  const dir = resolve(positionals[0]!);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new CliError(`${dir} is not a readable folder`);
  const sourceId = values.server ?? basename(dir);

  const logger = createLogger({ level: 'info' });
  const telemetry = new Telemetry(logger);
  const onFailure = telemetry.declare({ name: 'parse_failure', help: 'Log records that could not be parsed, by source, format and reason.', level: 'warn', labels: ['source', 'format', 'reason'] });

  let store: Store | null = null;
  let repository: CheckpointRepository | null = null;
  let checkpoints: { fingerprint: string; path: string; offset: number }[] = [];
  if (values.state) {
    try {
      store = await openStore({ dataDir: resolve(values.state), logger });
    } catch (error) {
      // a store in use by another process, an unwritable folder: one line, exit 2
      throw new CliError(`--state ${values.state}: ${(error as Error).message}`);
    }
    repository = new CheckpointRepository(store);
    checkpoints = (await repository.load(sourceId)).map((c) => ({ fingerprint: c.fileFingerprint, path: c.filePath, offset: c.byteOffset }));
  }
  let source: LogFolderSource;
  try {
    source = new LogFolderSource({ id: sourceId, dir, glob: values.glob, format: format as LogFormat | 'auto', startAt: values['start-at'], checkpoints, logger, telemetry });
  } catch (error) {
    await store?.close();
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
  const enricher = values['no-enrich'] ? null : await QueryEnricher.create();
  const onZoneMismatch = declareZoneMismatch(telemetry);
  const reader = new LogEventReader(source, sourceId, { logLinePrefix: values['log-line-prefix'], timezone: values.timezone, enricher, onFailure, onZoneMismatch });

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals += 1;
    if (signals === 1) controller.abort();
    else process.exit(130);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  // Checkpoint saves are serialised: at most one transaction in flight, the next one picks up the latest acks.
  // `saving` never stays rejected: a failed save is reported by its caller and the next one still runs.
  let dirty = false;
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    if (!store || !repository || !dirty) return saving;
    const activeStore = store;
    const repo = repository;
    const settled = saving.catch(() => undefined);
    saving = settled.then(async () => {
      if (!dirty) return;
      dirty = false;
      const current = source.checkpoints();
      try {
        await activeStore.transaction(async (tx) => {
          await repo.save(tx, current.map((c) => ({ sourceId, fileFingerprint: c.fingerprint, filePath: c.path, byteOffset: c.offset, cursor: null })));
          const keep = new Set(current.map((c) => c.fingerprint));
          const stale = (await repo.load(sourceId, tx)).filter((c) => !keep.has(c.fileFingerprint)).map((c) => c.fileFingerprint);
          if (stale.length > 0) await repo.forget(tx, sourceId, stale);
        });
      } catch (error) {
        dirty = true; // not saved: the next save (or the final one) tries again
        throw error;
      }
    });
    return saving;
  };
  const timer = setInterval(() => {
    save().catch((error: unknown) => logger.error('checkpoint_save_failed', { event: 'checkpoint_save_failed', error: (error as Error).message }));
  }, intervalMs);

  try {
    for await (const batch of reader.batches(controller.signal)) {
      if (batch.events.length > 0) await writeFlushed(process.stdout, `${batch.events.map((e) => JSON.stringify(e)).join('\n')}\n`);
      if (batch.position) {
        source.ack(batch.position);
        dirty = true;
      }
    }
  } finally {
    clearInterval(timer);
    // The handlers stay until the store is closed: a second signal during the final save exits 130.
    try {
      await source.stop();
      await save();
    } finally {
      await store?.close();
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  }
  return 0;
}
