import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../domain/errors.js';
import { QueryEnricher } from '../enrich/query-enricher.js';
import { createLogger } from '../observe/logger.js';
import { Telemetry } from '../observe/telemetry.js';
import { createEventBuilder } from '../parse/event-builder.js';
import { LOG_FORMATS, type LogFormat } from '../parse/log-format.js';
import { type ParseOutput, type ParseOutputSink, createLogParser, isParseFailure } from '../parse/log-parser.js';
import { createTimestampParser } from '../parse/timestamp-parser.js';
import { CliError } from './cli-error.js';
import { openLogFile } from './open-log-file.js';
import { createLineWriter } from './write-lines.js';

const HELP = `usage: jaga parse [--format auto|stderr|csvlog|jsonlog] [--log-line-prefix STR] [--timezone IANA]
                  [--server NAME] [--max-record-bytes N] [--no-enrich] FILE...

Parses PostgreSQL server log files (stderr, csvlog, jsonlog; pgaudit AUDIT entries, connections,
authentication failures, errors) and writes one JSON event per line to stdout, then one summary line
{"records":N,"events":N,"failures":N} to stderr. Exit 0 when the files were read (failures are counted),
2 for an unreadable file or a bad option.

  --format            auto (default: by extension, then content), stderr, csvlog or jsonlog
  --log-line-prefix   the server's exact log_line_prefix (stderr only; default '%m [%p] ')
  --timezone          IANA zone of the server's log_timezone (default UTC); times are written in UTC
  --server            source name stamped on events (default: the file's folder name)
  --max-record-bytes  records longer than this are cut and flagged (default 1048576)
  --no-enrich         skip SQL fingerprints/normalisation (query is null)
`;

/** Bytes read from a file per read call. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** Counters the summary line reports. */
interface ParseSummary {
  records: number;
  events: number;
  failures: number;
}

/**
 * `jaga parse`: the CLI contract of issue 2 (see HELP).
 * @returns exit code 0; throws CliError (exit 2) for a bad option or an unreadable file
 */
export async function parseCommand(args: string[]): Promise<number> {
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
    throw new CliError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const format = values.format;
  if (format !== 'auto' && !LOG_FORMATS.includes(format as LogFormat)) throw new CliError(`--format must be auto, stderr, csvlog or jsonlog, not "${format}"`);
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

  const logger = createLogger({ level: 'warn' });
  const telemetry = new Telemetry(logger);
  const reportFailure = telemetry.declare({ name: 'parse_failure', help: 'Log records that could not be parsed, by format and reason.', level: 'warn', labels: ['format', 'reason'] });
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
      onFailure: (fmt, out) => reportFailure({ format: fmt, reason: out.reason }, { file: out.source.file, offset: out.source.offset, byte_length: out.byteLength }),
    });
  }
  process.stderr.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

interface ParseFileOptions {
  requested: LogFormat | 'auto';
  logLinePrefix: string | undefined;
  timezone: string;
  server: string | undefined;
  maxRecordBytes: number | undefined;
  enricher: QueryEnricher | null;
  summary: ParseSummary;
  onFailure: (format: LogFormat, failure: Extract<ParseOutput, { reason: string }>) => void;
}

/** Reads one file in chunks, parses it, writes its events to stdout. @throws CliError when unreadable. */
async function parseFile(path: string, o: ParseFileOptions): Promise<void> {
  const { handle, format, fingerprint } = await openLogFile(path, o.requested);
  try {
    const server = o.server ?? basename(dirname(path));
    const source = { id: server, file: path, fingerprint };
    let parser;
    try {
      parser = createLogParser({ format, logLinePrefix: o.logLinePrefix, timezone: o.timezone, maxRecordBytes: o.maxRecordBytes, server, source, builder: createEventBuilder({ server }) });
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message);
      throw error;
    }
    // Each output is enriched, serialised and UTF-8 encoded into the writer's 1 MiB buffers as soon as
    // its record is complete (no per-chunk arrays, no joined strings); the buffers are written at the
    // end of every input chunk, so the bytes written before a read error are those of one write per chunk.
    const writer = createLineWriter(process.stdout);
    const sink: ParseOutputSink = {
      push(out) {
        if (isParseFailure(out)) {
          o.summary.failures++;
          o.onFailure(format, out);
          return;
        }
        o.enricher?.enrich(out);
        writer.add(JSON.stringify(out));
        o.summary.events++;
      },
    };
    let position = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(chunk, 0, chunk.length, position));
      } catch (error) {
        throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      if (bytesRead === 0) break;
      position += bytesRead;
      parser.pushTo(chunk.subarray(0, bytesRead), sink);
      await writer.flush();
    }
    parser.endTo(sink);
    await writer.flush();
    o.summary.records += parser.records;
  } finally {
    await handle.close();
  }
}
