import type { Checkpoint } from '../db/checkpoint-repository.js';
import type { AccessEvent } from '../domain/access-event.js';

/** One batch of parsed events from a source, and the opaque position just past their records. */
export interface SourceBatch {
  source: PipelineSource;
  events: AccessEvent[];
  /** records that did not parse (already counted and logged by the source, without content) */
  failures: number;
  /** where reading resumes after this batch once it is committed; null: nothing to acknowledge */
  position: unknown;
  /**
   * bytes read from the source for this batch (log file bytes; app-access rows' text values as UTF-8),
   * for `jaga_source_read_bytes_total`; absent = 0
   */
  bytesRead?: number;
}

/** Checkpoint rows for the store at a commit. */
export interface SourceCheckpoints {
  save: Checkpoint[];
  /** fingerprints (of `checkpointKey`) whose rows are to be deleted: files gone for good */
  forget: string[];
}

/** A source's health for `/metrics` (`jaga_source_up`, `jaga_source_lag_bytes`, `jaga_listener_connected`). */
export interface SourceHealth {
  /** the source can read: its folder lists, or its LISTEN connection is up */
  up: boolean;
  /** bytes written to its files and not read yet (0 for table sources) */
  lagBytes: number;
  /** the LISTEN connection of an app-access source is up; null: the source has none */
  listenerConnected: boolean | null;
}

/**
 * A source as the live pipeline sees it: parsed batches in read order (pull-based: nothing is read
 * ahead of the consumer), and the checkpoints that acknowledging some positions would give.
 * Implementations: LogFolderPipelineSource, AppAccessPipelineSource.
 */
export interface PipelineSource {
  /** the configured source name */
  readonly id: string;
  /** the `source_id` of its rows in `jaga_checkpoint`: `<agent>/<source name>` */
  readonly checkpointKey: string;
  /** batches until `signal` aborts or `stop()` */
  batches(signal: AbortSignal): AsyncIterable<SourceBatch>;
  /**
   * The checkpoint rows to save when the positions given (batch positions of this source, in read
   * order, not yet acknowledged) and all acknowledged before are committed. Pure: acknowledges nothing.
   */
  checkpointsWith(positions: readonly unknown[]): SourceCheckpoints;
  /** after the commit that saved `checkpointsWith(positions)`: the positions are durable */
  ack(positions: readonly unknown[], saved: SourceCheckpoints): void;
  /** current health (cheap, no I/O); absent: not reported */
  health?(): SourceHealth;
  /** stops reading and releases files / connections; idempotent */
  stop(): Promise<void>;
}
