import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type DetectionConfig, resolveDetectionConfig } from '../config/detection-config.js';
import { loadConfigFile } from '../config/load-config-file.js';
import { openStore } from '../db/open-store.js';
import type { DetectorModule } from '../detect/detector.js';
import { DETECTOR_REGISTRY } from '../detect/detector-registry.js';
import { type LoadedRuleSet, loadRuleSet } from '../detect/rule-loader.js';
import { ConfigError, RuleLoadError } from '../domain/errors.js';
import { toIncidentJson } from '../domain/incident.js';
import { QueryEnricher } from '../enrich/query-enricher.js';
import { createLogger } from '../observe/logger.js';
import { Telemetry } from '../observe/telemetry.js';
import type { LogFormat } from '../parse/log-format.js';
import { createTimestampParser } from '../parse/timestamp-parser.js';
import { ReplayPipeline, type ReplayProgress } from '../pipeline/replay-pipeline.js';
import { argumentsError, CliError } from './cli-error.js';
import { checkFormatOption, FORMAT_CHOICES, wrongFormatHint } from './format-option.js';
import { fileZoneHint } from './open-log-file.js';
import { writeLines } from './write-lines.js';
import { writeProblems } from './write-problems.js';

const HELP = `usage: jaga replay [--config FILE] [--rules DIR]... [--format auto|stderr|csvlog|jsonlog]
                   [--log-line-prefix STR] [--timezone IANA] [--server NAME] FILE...

Replays PostgreSQL log files (stderr, csvlog, jsonlog with pgaudit) through parsing, enrichment and
the rules, raising incidents in an in-memory store, then prints one incident per line (JSON, the
incident list shape) to stdout, in the order they opened. Event time drives every window; at the
end the watermark stops at the newest event, so absence rules never fire for time after the data.
Experimental rules raise incidents too (their maturity is in each line). A summary line
{"files":N,"records":N,"events":N,"failures":N,"detections":N,"suppressed":N,"incidents":N} goes to
stderr, and a progress bar when stderr is a terminal; after it, a hint line when the first file's
first record's zone text contradicts --timezone (e.g. WIB read as UTC). Exit 0 when the files were replayed,
2 for a bad option, config, rule set or unreadable file.

  --config            jaga.yaml: its rules, overlays, lists and catalog are used
  --rules             rule folder (repeatable) instead of the config's (default: the shipped rules/)
  --format            auto (default: by extension, then content), stderr, csvlog or jsonlog
  --log-line-prefix   the server's exact log_line_prefix (stderr only; default '%m [%p] ')
  --timezone          IANA zone of the server's log_timezone (default UTC)
  --server            server name for incidents (default: each file's folder name)
`;

/** What `replayCommand` writes to (tests inject them). */
export interface ReplayCommandDeps {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  registry?: ReadonlyMap<string, DetectorModule>;
  /** clock for rule exception expiry; default now */
  now?: Date;
}

/**
 * `jaga replay` (issue 4, see HELP).
 * @param args the arguments after `replay`
 * @returns exit code: 0 replayed, 2 bad config or rule set (problems listed on stderr)
 * @throws CliError for a bad option, a missing FILE or an unreadable file (main prints it, exit 2)
 */
export async function replayCommand(args: string[], deps: ReplayCommandDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        rules: { type: 'string', multiple: true },
        format: { type: 'string', default: 'auto' },
        'log-line-prefix': { type: 'string' },
        timezone: { type: 'string', default: 'UTC' },
        server: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    const message = (error as Error).message;
    throw message.includes("'--format") ? new CliError(`${message} (formats: ${FORMAT_CHOICES.join(', ')})`) : argumentsError(error);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    stdout.write(HELP);
    return 0;
  }
  const format = values.format;
  checkFormatOption(format);
  if (positionals.length === 0) throw new CliError('no FILE given (jaga replay --help)');
  const files = positionals.map((file) => resolve(file));
  for (const file of files) await checkReadable(file);
  try {
    createTimestampParser(values.timezone);
  } catch {
    throw new CliError(`--timezone "${values.timezone}" is not an IANA time zone known to this Node`);
  }

  let detection: DetectionConfig;
  try {
    detection = values.config ? (await loadConfigFile(values.config)).detection : resolveDetectionConfig({}, process.cwd());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeProblems(stderr, error.problems);
    return 2;
  }
  const ruleSet = await loadRules(detection, values.rules?.map((dir) => resolve(dir)) ?? detection.ruleDirs, deps, stderr);
  if (ruleSet === null) return 2;
  for (const warning of ruleSet.warnings) stderr.write(`warning: ${warning}\n`);

  const logger = createLogger({ level: 'warn' });
  const telemetry = new Telemetry(logger);
  /** records in the right format with an impossible time: they do not count toward the wrong-format hint */
  let badTimestamps = 0;
  const reportFailure = telemetry.declare({ name: 'parse_failure', help: 'Log records that could not be parsed, by format and reason.', level: 'warn', labels: ['format', 'reason'] });
  const progress = stderr.isTTY === true ? new ProgressBar(stderr) : null;
  const store = await openStore({ memory: true, logger });
  try {
    const pipeline = new ReplayPipeline({
      rules: ruleSet.rules,
      context: ruleSet.context,
      enricher: await QueryEnricher.create(),
      store,
      onProgress: progress === null ? undefined : (p) => progress.update(p),
      onParseFailure: (failure, fmt) => {
        if (failure.reason === 'bad_timestamp') badTimestamps++;
        reportFailure({ format: fmt, reason: failure.reason }, { file: failure.source.file, offset: failure.source.offset, byte_length: failure.byteLength });
      },
    });
    let result;
    try {
      result = await pipeline.run(
        files,
        { format: format as LogFormat | 'auto', logLinePrefix: values['log-line-prefix'], timezone: values.timezone, server: values.server },
      );
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message);
      throw error;
    } finally {
      progress?.clear();
    }
    telemetry.flush(); // the `log_suppressed` summary of rate-limited failure lines goes before the summary line
    if (result.incidents.length > 0) await writeLines(stdout, result.incidents.map((incident) => JSON.stringify(toIncidentJson(incident))));
    stderr.write(`${JSON.stringify(result.summary)}\n`);
    if (format !== 'auto') {
      const hint = await wrongFormatHint(format as LogFormat, files, { records: result.summary.records, failures: result.summary.failures - badTimestamps });
      if (hint !== null) stderr.write(`${hint}\n`);
    }
    const zoneHint = await fileZoneHint(files[0] as string, format as LogFormat | 'auto', { logLinePrefix: values['log-line-prefix'], timezone: values.timezone });
    if (zoneHint !== null) stderr.write(`${zoneHint}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** @throws CliError when `file` is not a readable regular file */
async function checkReadable(file: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
    if (!(await stat(file)).isFile()) throw new CliError(`cannot read ${file}: not a file`);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

async function loadRules(detection: DetectionConfig, ruleDirs: readonly string[], deps: ReplayCommandDeps, stderr: NodeJS.WritableStream): Promise<LoadedRuleSet | null> {
  try {
    return await loadRuleSet({
      ruleDirs,
      overlayDirs: detection.overlayDirs,
      lists: detection.lists,
      catalog: detection.catalog,
      registry: deps.registry ?? DETECTOR_REGISTRY,
      ...(deps.now ? { now: deps.now } : {}),
    });
  } catch (error) {
    if (!(error instanceof RuleLoadError)) throw error;
    writeProblems(stderr, error.problems);
    return null;
  }
}

/** A one-line progress bar on a terminal, redrawn at most every 100 ms. */
class ProgressBar {
  private lastDrawMs = 0;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(progress: ReplayProgress): void {
    const now = Date.now();
    if (now - this.lastDrawMs < 100 && progress.bytesRead < progress.bytesTotal) return;
    this.lastDrawMs = now;
    const ratio = progress.bytesTotal > 0 ? Math.min(1, progress.bytesRead / progress.bytesTotal) : 1;
    const width = 30;
    const filled = Math.round(ratio * width);
    const name = progress.file.length > 40 ? `…${progress.file.slice(-39)}` : progress.file;
    this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% file ${progress.fileIndex + 1}/${progress.files} ${name} ${progress.events} events\x1b[K`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
