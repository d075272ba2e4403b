import type { AppAccessSourceConfig } from '../config/daemon-config.js';
import { CheckpointRepository, TABLE_CURSOR_KEY } from '../db/checkpoint-repository.js';
import type { Store } from '../db/store.js';
import type { Telemetry } from '../observe/telemetry.js';
import { type AppAccessBatchParser, createAppAccessBatchParser } from '../parse/app-access-parser.js';
import { AppAccessSource } from '../sources/app-access-source.js';
import { APP_ACCESS_CHANNEL, type AppAccessRow } from '../sources/app-access-row.js';
import type { PipelineSource, SourceBatch, SourceCheckpoints, SourceHealth } from './pipeline-source.js';

/**
 * An `app_access` source for the live pipeline: AppAccessSource (LISTEN/NOTIFY wake-up, commit-safe
 * table cursor) + the app access row parser, resuming from the cursor stored under
 * `checkpointKey` (one `jaga_checkpoint` row, fingerprint `table-cursor`).
 */
export class AppAccessPipelineSource implements PipelineSource {
  readonly id: string;
  private readonly parse: AppAccessBatchParser;

  private constructor(
    readonly checkpointKey: string,
    private readonly source: AppAccessSource,
    telemetry: Telemetry,
  ) {
    this.id = source.id;
    this.parse = createAppAccessBatchParser(telemetry);
  }

  /** Loads the stored cursor and builds the source. @throws ConfigError for bad options; StoreError */
  static async open(config: AppAccessSourceConfig, deps: { store: Store; agent: string; telemetry: Telemetry }): Promise<AppAccessPipelineSource> {
    const checkpointKey = `${deps.agent}/${config.name}`;
    const rows = await new CheckpointRepository(deps.store).load(checkpointKey);
    const cursor = rows.find((row) => row.fileFingerprint === TABLE_CURSOR_KEY)?.cursor ?? null;
    const source = new AppAccessSource({ id: config.name, url: config.url, pollIntervalMs: config.pollIntervalMs, cursor, telemetry: deps.telemetry, logger: deps.telemetry.logger });
    return new AppAccessPipelineSource(checkpointKey, source, deps.telemetry);
  }

  async *batches(signal: AbortSignal): AsyncGenerator<SourceBatch> {
    for await (const batch of this.source.batches(signal)) {
      const parsed = this.parse({ sourceId: batch.sourceId, rows: batch.rows });
      yield { source: this, events: parsed.events, failures: parsed.failures.length, position: batch.cursor, bytesRead: rowBytes(batch.rows) };
    }
  }

  checkpointsWith(positions: readonly unknown[]): SourceCheckpoints {
    const cursor = (positions[positions.length - 1] as string | undefined) ?? this.source.checkpoint();
    if (cursor === null) return { save: [], forget: [] };
    return { save: [{ sourceId: this.checkpointKey, fileFingerprint: TABLE_CURSOR_KEY, filePath: APP_ACCESS_CHANNEL, byteOffset: 0, cursor }], forget: [] };
  }

  ack(positions: readonly unknown[]): void {
    for (const cursor of positions as readonly string[]) this.source.ack(cursor);
  }

  /** up while its LISTEN connection is up (the poll fallback keeps reading meanwhile); lag is not measured in bytes (0) */
  health(): SourceHealth {
    const connected = this.source.connected;
    return { up: connected, lagBytes: 0, listenerConnected: connected };
  }

  stop(): Promise<void> {
    return this.source.stop();
  }
}

/** UTF-8 bytes of the rows' text values (what the source read from the monitored database), bytes. */
function rowBytes(rows: readonly AppAccessRow[]): number {
  let bytes = 0;
  for (const row of rows) {
    for (const value of Object.values(row) as (string | null)[]) if (value !== null) bytes += Buffer.byteLength(value, 'utf8');
  }
  return bytes;
}
