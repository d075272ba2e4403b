import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { AccessEvent, ParseFailure } from '../domain/access-event.js';
import type { Detection } from '../domain/detection.js';
import { FINGERPRINT_MAX_BYTES, fileFingerprint } from '../domain/file-fingerprint.js';
import type { Incident } from '../domain/incident.js';
import type { Store } from '../db/store.js';
import type { CompiledRule, MatchContext } from '../detect/compiled-rule.js';
import { DetectionEngine } from '../detect/detection-engine.js';
import { parseIsoTimeMs } from '../detect/event-time.js';
import type { SuppressionReport } from '../detect/suppression.js';
import type { QueryEnricher } from '../enrich/query-enricher.js';
import { IncidentRepository } from '../incidents/incident-repository.js';
import { createEventBuilder } from '../parse/event-builder.js';
import { type LogFormat, detectLogFormat } from '../parse/log-format.js';
import { type ParseOutput, createLogParser, isParseFailure } from '../parse/log-parser.js';

/** Bytes read from a file per read call. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Detections applied to the store per transaction (at least; a chunk's detections go together). */
const UPSERT_BATCH = 500;

/** How the files of one replay are parsed. */
export interface ReplayParseOptions {
  /** `auto` (by extension, then content) or one format for every file; default auto */
  format?: LogFormat | 'auto';
  /** the server's exact `log_line_prefix` (stderr only); default PostgreSQL's `'%m [%p] '` */
  logLinePrefix?: string;
  /** IANA zone of the server's `log_timezone`; default UTC */
  timezone?: string;
  /** server name stamped on events (part of every IncidentFingerprint); default the file's folder name */
  server?: string;
  /** records longer than this many bytes are cut and flagged; default 1 MiB */
  maxRecordBytes?: number;
}

/** What the pipeline runs with. */
export interface ReplayPipelineDeps {
  /** compiled rules (disabled ones are skipped by the engine; experimental ones still raise incidents) */
  rules: readonly CompiledRule[];
  /** lists and catalog of the rule set */
  context: MatchContext;
  /** adds `query` facts to events (null: statements are not analysed, rules on query.* never match) */
  enricher: QueryEnricher | null;
  /** where incidents go (replay uses an in-memory store) */
  store: Store;
  /** progress after every chunk read (the CLI draws a bar when stderr is a terminal) */
  onProgress?: (progress: ReplayProgress) => void;
  /** each parse failure (counted in the summary; carries no record content) */
  onParseFailure?: (failure: ParseFailure, format: LogFormat) => void;
}

/** Progress of a replay: the file being read and how far. */
export interface ReplayProgress {
  file: string;
  /** 0-based index of the file among the files given */
  fileIndex: number;
  files: number;
  bytesRead: number;
  bytesTotal: number;
  /** events parsed so far over all files */
  events: number;
}

/** Counters of one replay (the summary line of `jaga replay`). */
export interface ReplaySummary {
  files: number;
  /** log records read (events + failures) */
  records: number;
  events: number;
  failures: number;
  /** detections raised (after suppression) and applied to incidents */
  detections: number;
  /** detections hidden by per-group suppression */
  suppressed: number;
  /** incidents opened (each printed once) */
  incidents: number;
}

/** The outcome of a replay. */
export interface ReplayResult {
  /** every incident touched, as stored after the last detection, by id (the order they opened) */
  incidents: Incident[];
  summary: ReplaySummary;
  /** suppression windows that ended within the replayed time and hid detections */
  suppressionReports: SuppressionReport[];
}

/**
 * The composition of `jaga replay` (issue 4): log files → parse → enrich → detect → incidents in
 * the store. Files are read in the order given, each in 1 MiB chunks, with one event builder per
 * server (pgaudit `log_statement_once` state spans the files of a server). Every event goes
 * through one DetectionEngine, so event time drives every window; when the files end, the
 * watermark is advanced to the newest event time and no further, so `absence` rules fire only
 * for silences inside the data (never for the time after it). Detections are applied to
 * incidents with `IncidentRepository.upsert`, in the order raised (the replay is the store's only
 * writer, so incident ids follow the order incidents opened), in transactions of about 500.
 *
 * Bad input is never fatal: unparseable records are counted (`onParseFailure`), events whose time
 * does not parse are skipped by the engine.
 *
 * @throws Error with the file path when a file cannot be opened or read; ConfigError for a bad
 *   `logLinePrefix`; RangeError for an unknown `timezone`; StoreError from the store
 */
export class ReplayPipeline {
  private readonly engine: DetectionEngine;
  private readonly repository: IncidentRepository;
  private readonly builders = new Map<string, ReturnType<typeof createEventBuilder>>();
  private readonly incidents = new Map<number, Incident>();
  private readonly summary: ReplaySummary = { files: 0, records: 0, events: 0, failures: 0, detections: 0, suppressed: 0, incidents: 0 };
  private pending: Detection[] = [];
  private newestMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: ReplayPipelineDeps) {
    this.engine = new DetectionEngine([...deps.rules], deps.context);
    this.repository = new IncidentRepository(deps.store);
  }

  /** Replays `files` (paths) with `options`; call once per pipeline. */
  async run(files: readonly string[], options: ReplayParseOptions = {}): Promise<ReplayResult> {
    for (const [index, file] of files.entries()) await this.replayFile(file, index, files.length, options);
    if (Number.isFinite(this.newestMs)) this.take(this.engine.advance(this.newestMs));
    await this.flush();
    this.summary.suppressed = this.engine.stats().suppressed;
    const incidents = [...this.incidents.values()].sort((a, b) => a.id - b.id);
    this.summary.incidents = incidents.length;
    return { incidents, summary: { ...this.summary }, suppressionReports: this.engine.takeSuppressionReports() };
  }

  private async replayFile(path: string, fileIndex: number, fileCount: number, options: ReplayParseOptions): Promise<void> {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
    try {
      const bytesTotal = (await handle.stat()).size;
      const head = Buffer.alloc(FINGERPRINT_MAX_BYTES * 4);
      const { bytesRead: headBytes } = await handle.read(head, 0, head.length, 0);
      const headBuf = head.subarray(0, headBytes);
      const format = options.format === undefined || options.format === 'auto' ? detectLogFormat(path, headBuf) : options.format;
      const server = options.server ?? basename(dirname(path));
      let builder = this.builders.get(server);
      if (builder === undefined) {
        builder = createEventBuilder({ server });
        this.builders.set(server, builder);
      }
      const parser = createLogParser({
        format,
        logLinePrefix: options.logLinePrefix,
        timezone: options.timezone,
        maxRecordBytes: options.maxRecordBytes,
        server,
        source: { id: server, file: path, fingerprint: fileFingerprint(headBuf) ?? 'empty' },
        builder,
      });
      let position = 0;
      const progress = (): void => this.deps.onProgress?.({ file: path, fileIndex, files: fileCount, bytesRead: position, bytesTotal, events: this.summary.events });
      for (;;) {
        const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
        let bytesRead: number;
        try {
          ({ bytesRead } = await handle.read(chunk, 0, chunk.length, position));
        } catch (error) {
          throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
        }
        if (bytesRead === 0) break;
        position += bytesRead;
        this.consume(parser.push(chunk.subarray(0, bytesRead)), format);
        if (this.pending.length >= UPSERT_BATCH) await this.flush();
        progress();
      }
      this.consume(parser.end(), format);
      this.summary.records += parser.records;
      this.summary.files++;
      await this.flush();
      progress();
    } finally {
      await handle.close();
    }
  }

  private consume(outputs: readonly ParseOutput[], format: LogFormat): void {
    for (const out of outputs) {
      if (isParseFailure(out)) {
        this.summary.failures++;
        this.deps.onParseFailure?.(out, format);
        continue;
      }
      const event = out as AccessEvent;
      this.deps.enricher?.enrich(event);
      this.summary.events++;
      const timeMs = parseIsoTimeMs(event.time);
      if (timeMs > this.newestMs) this.newestMs = timeMs;
      this.take(this.engine.process(event));
    }
  }

  private take(detections: readonly Detection[]): void {
    if (detections.length > 0) this.pending.push(...detections);
  }

  /** applies the pending detections to incidents in one transaction */
  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    // One replay is the only writer of its store, so detections are applied in the order they were
    // raised (not upsertMany's fingerprint order): incident ids then follow the order incidents opened.
    const results = await this.deps.store.transaction(async (tx) => {
      const applied = [];
      for (const detection of batch) applied.push(await this.repository.upsert(tx, detection));
      return applied;
    });
    this.summary.detections += batch.length;
    for (const { incident } of results) {
      const known = this.incidents.get(incident.id);
      if (known === undefined || incident.version >= known.version) this.incidents.set(incident.id, incident);
    }
  }
}
