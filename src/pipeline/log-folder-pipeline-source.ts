import type { LogFolderSourceConfig } from '../config/daemon-config.js';
import { CheckpointRepository } from '../db/checkpoint-repository.js';
import type { Store } from '../db/store.js';
import type { QueryEnricher } from '../enrich/query-enricher.js';
import type { Telemetry } from '../observe/telemetry.js';
import { LogFolderSource } from '../sources/log-folder-source.js';
import { LogEventReader } from './log-event-reader.js';
import { declareZoneMismatch } from './source-zone-check.js';
import type { PipelineSource, SourceBatch, SourceCheckpoints, SourceHealth } from './pipeline-source.js';

/**
 * Read size of the pipeline's log folder sources, bytes: 256 KiB (~770 csvlog records of the bench
 * corpus per batch; `jaga tail` keeps LogFolderSource's 1 MiB). A batch's events live from their
 * parse until detection is done with them. With 1 MiB reads (~3,100 events) the batch in hand survived
 * the scavenges that ran meanwhile and was copied, promoted, then collected by mark-compacts: on the
 * bench's 1,003,850 records 6-12 s of scavenge pauses and 10-11 mark-compacts, versus 1.3-3.6 s and 2-5
 * at 256 KiB, for 15-25 % less CPU (bench `pipeline`, session 8). 384 KiB already behaved like 1 MiB;
 * 64-192 KiB collected as little as 256 KiB and gave no further gain.
 */
const PIPELINE_CHUNK_BYTES = 256 * 1024;

/** A read position of a log file, as LogEventReader gives it. */
interface FilePosition {
  fingerprint: string;
  offset: number;
}

/**
 * A `log_folder` source for the live pipeline: LogFolderSource (rotation-proof tailing) +
 * LogEventReader (parse, enrich), resuming from the checkpoints stored under `checkpointKey`.
 * Event ids and the source label are the configured source name (not the agent), so two agents
 * replaying the same folder raise the same detection ids.
 */
export class LogFolderPipelineSource implements PipelineSource {
  readonly id: string;
  private readonly source: LogFolderSource;
  private readonly reader: LogEventReader;
  /** fingerprints that have a row in the store (loaded at start, then as saved) */
  private stored: Set<string>;

  private constructor(
    readonly checkpointKey: string,
    config: LogFolderSourceConfig,
    stored: readonly string[],
    source: LogFolderSource,
    enricher: QueryEnricher | null,
    telemetry: Telemetry,
  ) {
    this.id = config.name;
    this.source = source;
    this.stored = new Set(stored);
    const onFailure = telemetry.declare({ name: 'parse_failure', help: 'Log records that could not be parsed, by source, format and reason.', level: 'warn', labels: ['source', 'format', 'reason'] });
    this.reader = new LogEventReader(source, config.server, {
      logLinePrefix: config.logLinePrefix ?? undefined,
      timezone: config.timezone,
      enricher,
      onFailure,
      onZoneMismatch: declareZoneMismatch(telemetry),
    });
  }

  /**
   * Loads the source's checkpoints and builds it.
   * @throws ConfigError for a bad log_line_prefix or glob; StoreError from the store
   */
  static async open(config: LogFolderSourceConfig, deps: { store: Store; agent: string; enricher: QueryEnricher | null; telemetry: Telemetry }): Promise<LogFolderPipelineSource> {
    const checkpointKey = `${deps.agent}/${config.name}`;
    const rows = await new CheckpointRepository(deps.store).load(checkpointKey);
    const source = new LogFolderSource({
      id: config.name,
      dir: config.path,
      glob: config.glob ?? undefined,
      format: config.format,
      startAt: config.startAt,
      chunkBytes: PIPELINE_CHUNK_BYTES,
      checkpoints: rows.map((row) => ({ fingerprint: row.fileFingerprint, path: row.filePath, offset: row.byteOffset })),
      logger: deps.telemetry.logger,
      telemetry: deps.telemetry,
    });
    return new LogFolderPipelineSource(checkpointKey, config, rows.map((row) => row.fileFingerprint), source, deps.enricher, deps.telemetry);
  }

  async *batches(signal: AbortSignal): AsyncGenerator<SourceBatch> {
    for await (const batch of this.reader.batches(signal)) {
      yield { source: this, events: batch.events, failures: batch.failures.length, position: batch.position, bytesRead: batch.bytesRead };
    }
  }

  checkpointsWith(positions: readonly unknown[]): SourceCheckpoints {
    const newest = new Map<string, number>();
    for (const position of positions as readonly FilePosition[]) newest.set(position.fingerprint, Math.max(newest.get(position.fingerprint) ?? 0, position.offset));
    const current = this.source.checkpoints();
    const save = current.map((c) => ({
      sourceId: this.checkpointKey,
      fileFingerprint: c.fingerprint,
      filePath: c.path,
      byteOffset: Math.max(c.offset, newest.get(c.fingerprint) ?? 0),
      cursor: null,
    }));
    const keep = new Set(current.map((c) => c.fingerprint));
    for (const [fingerprint, offset] of newest) {
      if (!keep.has(fingerprint)) save.push({ sourceId: this.checkpointKey, fileFingerprint: fingerprint, filePath: '', byteOffset: offset, cursor: null });
      keep.add(fingerprint);
    }
    return { save, forget: [...this.stored].filter((fingerprint) => !keep.has(fingerprint)) };
  }

  ack(positions: readonly unknown[], saved: SourceCheckpoints): void {
    for (const position of positions as readonly FilePosition[]) this.source.ack(position);
    for (const fingerprint of saved.forget) this.stored.delete(fingerprint);
    for (const row of saved.save) this.stored.add(row.fileFingerprint);
  }

  /** up while the folder lists; lag = unread bytes of the tracked files */
  health(): SourceHealth {
    return { up: this.source.folderReadable, lagBytes: this.source.lagBytes, listenerConnected: null };
  }

  stop(): Promise<void> {
    return this.source.stop();
  }
}
