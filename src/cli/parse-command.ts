import { existsSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../domain/errors.js';
import { QueryEnricher } from '../enrich/query-enricher.js';
import { createEventBuilder } from '../parse/event-builder.js';
import type { LogFormat } from '../parse/log-format.js';
import type { ParseFailure } from '../domain/access-event.js';
import type { InternalEventReporter, Telemetry } from '../observe/telemetry.js';
import { type LogParser, type ParseOutputSink, createLogParser, isParseFailure } from '../parse/log-parser.js';
import { createTimestampParser } from '../parse/timestamp-parser.js';
import { argumentsError, CliError } from './cli-error.js';
import { EventJsonSerializer } from './event-json-serializer.js';
import { checkFormatOption, logLinePrefixHint, wrongFormatHint } from './format-option.js';
import type { EventJsonWorkerData } from './event-json-worker.js';
import { fileZoneHint, openLogFile } from './open-log-file.js';
import { parseOnTwoThreads } from './parse-on-two-threads.js';
import { createLineWriter } from './write-lines.js';

const HELP = `usage: jaga parse [--format auto|stderr|csvlog|jsonlog] [--log-line-prefix STR] [--timezone IANA]
                  [--server NAME] [--max-record-bytes N] [--no-enrich] FILE...

Parses PostgreSQL server log files (stderr, csvlog, jsonlog; pgaudit AUDIT entries, connections,
authentication failures, errors) and writes one JSON event per line to stdout, then one summary line
{"records":N,"events":N,"failures":N} to stderr (last; a hint line before it when at most half of the
records parsed: about --log-line-prefix for stderr logs, else about an explicit --format; and one
when the first record's zone text contradicts --timezone). Exit 0
when the files were read (failures are counted), 2 for an unreadable file or a bad option. Files of
32 MiB or more are parsed on two threads (same output).

  --format            auto (default: by extension, then content), stderr, csvlog or jsonlog
  --log-line-prefix   the server's exact log_line_prefix (stderr only; default '%m [%p] ')
  --timezone          IANA zone of the server's log_timezone (default UTC); times are written in UTC
  --server            source name stamped on events (default: the file's folder name)
  --max-record-bytes  records longer than this are cut and flagged (default 1048576)
  --no-enrich         skip SQL fingerprints/normalisation (query is null)
`;

/** Bytes read from a file per read call. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** Files of at least this many bytes are parsed on two threads: below it the worker's start-up and warm-up (module load, libpg-query, JIT) cost about what it saves (measured on 21 MB files). */
const TWO_THREAD_MIN_BYTES = 32 * 1024 * 1024;

/** Smallest segment of a file parsed on two threads, bytes (see `parseOnTwoThreads`). */
const SEGMENT_BYTES = 4 * 1024 * 1024;

/** How `jaga parse` may use a second thread; tests point it at a worker they can load. */
export interface ParseCommandThreads {
  /** files of at least this many bytes use the worker (default 32 MiB; Infinity: never) */
  twoThreadMinBytes?: number;
  /**
   * smallest segment of a file on two threads, bytes (default 4 MiB); a file under two of them is
   * cut in half, so the worker always has a share. Tests set it small to put many segment ends
   * (and records and statements across them) in a small file.
   */
  segmentBytes?: number;
  /**
   * the worker entry, a `file:` or `data:` URL (default `event-json-worker-main.js` beside this
   * module); a `file:` URL whose file is missing (e.g. run from TypeScript sources) means one thread
   */
  workerUrl?: URL;
  /** `execArgv` of the worker (default none) */
  workerExecArgv?: string[];
}

/** Counters the summary line reports. */
interface ParseSummary {
  records: number;
  events: number;
  failures: number;
}

/**
 * `jaga parse`: the CLI contract of issue 2 (see HELP).
 *
 * A file of 32 MiB or more is parsed on two threads with the same output (`parseOnTwoThreads`):
 * each thread parses every other segment of the file from its start, and the main thread proves
 * and completes each segment (records and log_statement_once statements across segment ends),
 * writes them in file order, and counts and reports every record and failure.
 * @param threads where the worker comes from (tests); default as documented on `ParseCommandThreads`
 * @returns exit code 0; throws CliError (exit 2) for a bad option or an unreadable file
 */
export async function parseCommand(args: string[], threads: ParseCommandThreads = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'auto' },
        'log-line-prefix': { type: 'string' },
        timezone: { type: 'string', default: 'UTC' },
        server: { type: 'string' },
        'max-record-bytes': { type: 'string' },
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
  checkFormatOption(format);
  if (positionals.length === 0) throw new CliError('no FILE given (jaga parse --help)');
  try {
    createTimestampParser(values.timezone);
  } catch {
    throw new CliError(`--timezone "${values.timezone}" is not an IANA time zone known to this Node`);
  }
  let maxRecordBytes: number | undefined;
  if (values['max-record-bytes'] !== undefined) {
    maxRecordBytes = Number(values['max-record-bytes']);
    if (!Number.isInteger(maxRecordBytes) || maxRecordBytes < 1024) throw new CliError('--max-record-bytes must be an integer >= 1024');
  }

  const failureLog = createFailureLog();
  // libpg-query is compiled once, on V8's baseline compiler (see loadLibpgQuery); the worker thread's enricher reuses that code
  const enricher = values['no-enrich'] ? null : await QueryEnricher.create();
  const summary: ParseSummary = { records: 0, events: 0, failures: 0 };

  for (const file of positionals) {
    await parseFile(resolve(file), {
      requested: format as LogFormat | 'auto',
      logLinePrefix: values['log-line-prefix'],
      timezone: values.timezone,
      server: values.server,
      maxRecordBytes,
      enricher,
      summary,
      threads,
      failureLog,
    });
  }
  failureLog.flush(); // the `log_suppressed` line of rate-limited failure lines goes before the summary line
  const files = positionals.map((file) => resolve(file));
  // before the summary: it stays the last line. Records with an impossible time are in the right format: they do not count
  const misread = { records: summary.records, failures: summary.failures - failureLog.badTimestamps };
  const hint = (await logLinePrefixHint(format as LogFormat | 'auto', values['log-line-prefix'], files, misread)) ?? (format === 'auto' ? null : await wrongFormatHint(format as LogFormat, files, misread));
  if (hint !== null) process.stderr.write(`${hint}\n`);
  const zoneHint = await fileZoneHint(files[0] as string, format as LogFormat | 'auto', { logLinePrefix: values['log-line-prefix'], timezone: values.timezone });
  if (zoneHint !== null) process.stderr.write(`${zoneHint}\n`);
  process.stderr.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

interface ParseFileOptions {
  requested: LogFormat | 'auto';
  logLinePrefix: string | undefined;
  timezone: string;
  server: string | undefined;
  maxRecordBytes: number | undefined;
  /** the SQL enricher (its exact-text index answers repeated statements), or null for --no-enrich */
  enricher: QueryEnricher | null;
  summary: ParseSummary;
  threads: ParseCommandThreads;
  failureLog: FailureLog;
}

/**
 * Parse failures waiting to be logged. The logger and telemetry modules (winston, prom-client: a
 * large share of this command's start-up) are loaded at the first failure only; failures are
 * logged, in order, when `report` is awaited (after each chunk's output is written).
 */
interface FailureLog {
  add(format: LogFormat, failure: ParseFailure): void;
  /** `bad_timestamp` failures added so far: records in the right format with an impossible time */
  readonly badTimestamps: number;
  /** Logs the failures added so far: one `parse_failure` warn line each (no record content). */
  report(): Promise<void>;
  /** Writes the pending `log_suppressed` summary of rate-limited failure lines, if any. */
  flush(): void;
}

function createFailureLog(): FailureLog {
  const pending: { format: LogFormat; failure: ParseFailure }[] = [];
  let reportFailure: InternalEventReporter<'format' | 'reason'> | null = null;
  let telemetry: Telemetry | null = null;
  let badTimestamps = 0;
  return {
    add(format, failure) {
      pending.push({ format, failure });
      if (failure.reason === 'bad_timestamp') badTimestamps++;
    },
    get badTimestamps() {
      return badTimestamps;
    },
    async report() {
      if (pending.length === 0) return;
      if (reportFailure === null) {
        const [{ createLogger }, { Telemetry }] = await Promise.all([import('../observe/logger.js'), import('../observe/telemetry.js')]);
        telemetry = new Telemetry(createLogger({ level: 'warn' }));
        reportFailure = telemetry.declare({ name: 'parse_failure', help: 'Log records that could not be parsed, by format and reason.', level: 'warn', labels: ['format', 'reason'] });
      }
      for (const { format, failure } of pending.splice(0)) reportFailure({ format, reason: failure.reason }, { file: failure.source.file, offset: failure.source.offset, byte_length: failure.byteLength });
    },
    flush() {
      telemetry?.flush();
    },
  };
}

/** Reads one file in chunks, parses it, writes its events to stdout. @throws CliError when unreadable. */
async function parseFile(path: string, o: ParseFileOptions): Promise<void> {
  const { handle, format, fingerprint } = await openLogFile(path, o.requested);
  try {
    const server = o.server ?? basename(dirname(path));
    const source = { id: server, file: path, fingerprint };
    let parser: LogParser;
    try {
      // also checks the options for the two-thread path (whose parsers start on the way)
      parser = createLogParser({ format, logLinePrefix: o.logLinePrefix, timezone: o.timezone, maxRecordBytes: o.maxRecordBytes, server, source, builder: createEventBuilder({ server }) });
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message);
      throw error;
    }
    const writer = createLineWriter(process.stdout);
    const serializer = new EventJsonSerializer();
    const readChunk = async (position: number): Promise<Buffer> => {
      const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      try {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
        return chunk.subarray(0, bytesRead);
      } catch (error) {
        throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    };
    const two = await twoThreadWorker(handle, o.threads);
    if (two === null) {
      // Each output is enriched, serialised and UTF-8 encoded into the writer's 1 MiB buffers as soon as
      // its record is complete (no per-chunk arrays, no joined strings); the buffers are written at the
      // end of every input chunk, so the bytes written before a read error are those of one write per chunk.
      const serializing: ParseOutputSink = {
        push(out) {
          if (isParseFailure(out)) {
            o.summary.failures++;
            o.failureLog.add(format, out);
            return;
          }
          o.enricher?.enrich(out);
          writer.add(serializer.serialize(out));
          o.summary.events++;
        },
      };
      let position = 0;
      for (;;) {
        const chunk = await readChunk(position);
        if (chunk.length === 0) break;
        position += chunk.length;
        parser.pushTo(chunk, serializing);
        await writer.flush();
        await o.failureLog.report();
      }
      parser.endTo(serializing);
      await writer.flush();
      await o.failureLog.report();
      o.summary.records += parser.records;
    } else {
      const data: EventJsonWorkerData = { format, logLinePrefix: o.logLinePrefix, timezone: o.timezone, maxRecordBytes: o.maxRecordBytes, server, source, enrich: o.enricher !== null };
      await parseOnTwoThreads({
        workerUrl: two.url,
        execArgv: o.threads.workerExecArgv,
        data,
        enricher: o.enricher,
        serializer,
        readChunk,
        segmentBytes: two.segmentBytes,
        writer,
        summary: o.summary,
        addFailure: (failureFormat, failure) => o.failureLog.add(failureFormat, failure),
        afterWrite: () => o.failureLog.report(),
      });
    }
  } finally {
    await handle.close();
  }
}

/**
 * The worker entry and segment size to use for this file, or null to stay on one thread (small
 * file, no worker file).
 */
async function twoThreadWorker(handle: FileHandle, threads: ParseCommandThreads): Promise<{ url: URL; segmentBytes: number } | null> {
  const url = threads.workerUrl ?? new URL('./event-json-worker-main.js', import.meta.url);
  if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) return null;
  const { size } = await handle.stat();
  if (size < (threads.twoThreadMinBytes ?? TWO_THREAD_MIN_BYTES)) return null;
  return { url, segmentBytes: Math.max(1, Math.min(threads.segmentBytes ?? SEGMENT_BYTES, Math.ceil(size / 2))) };
}
