import { type Checkpoint, CheckpointRepository } from '../db/checkpoint-repository.js';
import { DetectorStateRepository, ENGINE_STATE_COMPONENT } from '../db/detector-state-repository.js';
import type { Store } from '../db/store.js';
import type { Detection } from '../domain/detection.js';
import { StoreError } from '../domain/errors.js';
import type { IncidentChange } from '../domain/incident-change.js';
import type { CommitParticipant, DispatcherWake, IncidentApplier, NotificationEnqueuer } from './pipeline-ports.js';

/** What one commit writes: everything the pipeline did since the previous commit. */
export interface CommitUnit {
  /** detections raised since the last commit, in the order raised */
  detections: readonly Detection[];
  /**
   * the engine's snapshot taken right after the last event whose record is covered by `checkpoints`
   * (null: the state is not saved, e.g. nothing stateful ran)
   */
  engineState: unknown;
  /** read positions after the last record processed, one per (source, file or table cursor) */
  checkpoints: readonly Checkpoint[];
  /** checkpoints of files gone for good, per checkpoint source id */
  forget?: readonly { sourceId: string; fingerprints: readonly string[] }[];
  /** runs once after the commit succeeded (the caller acknowledges the source positions here) */
  onCommitted?: () => void;
}

/** What a commit wrote. */
export interface CommitResult {
  changes: IncidentChange[];
  /** outbox rows written (0 without a notification planner) */
  notifications: number;
  /** checkpoint rows inserted or moved forward */
  checkpoints: number;
  /** transaction attempts (1 unless a transient error, e.g. a deadlock, forced a retry) */
  attempts: number;
}

/** What a PipelineCommit writes with. */
export interface PipelineCommitDeps {
  store: Store;
  /** this agent's name: keys its engine snapshot */
  agent: string;
  incidents: IncidentApplier;
  /** the notify stage's planner; null in a build without notifications */
  notifications: NotificationEnqueuer | null;
  /** woken after a commit that wrote outbox rows */
  dispatcher?: DispatcherWake | null;
  /** further writers committed with the checkpoints (e.g. the access ledger) */
  participants?: readonly CommitParticipant[];
  /** wall clock for incident changes; default `() => new Date()` */
  now?: () => Date;
  /** attempts for transient store errors (deadlock, serialisation, lost connection); default 5 */
  maxAttempts?: number;
  /** first retry delay, ms, doubled per attempt; default 50 */
  retryDelayMs?: number;
}

/**
 * The pipeline's commit (issue 6): ONE store transaction per commit holding, in this order,
 * 1. `incidents.applyDetections` → incident changes (with their timeline rows),
 * 2. `notifications.enqueue(changes)` → outbox rows (when the notify stage is present),
 * 3. every participant's `write` (e.g. access ledger deltas),
 * 4. the engine snapshot (`jaga_pipeline_state`, component `engine`),
 * 5. the source checkpoints of the records covered (and the forgotten files).
 * After COMMIT: `onCommitted` (the caller acks the sources), participants' `committed`, and the
 * dispatcher is woken when outbox rows were written.
 *
 * Why the snapshot and the checkpoints always agree: the caller takes the snapshot synchronously
 * after the last event it processed and before the next one, and passes the positions just past
 * exactly those events' records; both go into the same transaction, so a store only ever holds a
 * (state, positions) pair that belonged together at one instant. A crash before COMMIT leaves the
 * previous pair; the restart restores that state and re-reads from those positions, i.e. replays
 * exactly the uncommitted tail, whose detections get the same deterministic ids; detections already
 * applied are skipped by id, so replay is idempotent.
 *
 * Failure: any error rolls back everything (incidents, outbox, state and checkpoints together). A
 * transient StoreError (deadlock between agents, lost connection) is retried with the same unit up
 * to `maxAttempts` times (the work is idempotent, so an unknown COMMIT outcome is safe to redo);
 * other errors and the last transient one are rethrown.
 */
export class PipelineCommit {
  private readonly checkpoints: CheckpointRepository;
  private readonly state: DetectorStateRepository;
  private readonly now: () => Date;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;

  constructor(private readonly deps: PipelineCommitDeps) {
    this.checkpoints = new CheckpointRepository(deps.store);
    this.state = new DetectorStateRepository(deps.store);
    this.now = deps.now ?? (() => new Date());
    this.maxAttempts = deps.maxAttempts ?? 5;
    this.retryDelayMs = deps.retryDelayMs ?? 50;
  }

  /**
   * Commits `unit` (see the class comment).
   * @throws StoreError (permanent, or transient after the last attempt); RangeError for a malformed
   *   detection or checkpoint (a caller bug); whatever a port throws. Nothing is written then.
   */
  async commit(unit: CommitUnit): Promise<CommitResult> {
    const participants = this.deps.participants ?? [];
    for (let attempt = 1; ; attempt++) {
      const now = this.now();
      try {
        const result = await this.deps.store.transaction(async (tx) => {
          const changes = unit.detections.length > 0 ? await this.deps.incidents.applyDetections(tx, unit.detections, now) : [];
          const notifications = changes.length > 0 && this.deps.notifications !== null ? await this.deps.notifications.enqueue(tx, changes, now) : 0;
          for (const participant of participants) await participant.write(tx, now);
          if (unit.engineState !== null && unit.engineState !== undefined) await this.state.save(tx, this.deps.agent, ENGINE_STATE_COMPONENT, unit.engineState);
          const checkpoints = await this.checkpoints.save(tx, unit.checkpoints);
          for (const gone of unit.forget ?? []) await this.checkpoints.forget(tx, gone.sourceId, gone.fingerprints);
          return { changes, notifications, checkpoints, attempts: attempt };
        });
        unit.onCommitted?.();
        for (const participant of participants) participant.committed?.();
        if (result.notifications > 0) this.deps.dispatcher?.wake?.();
        return result;
      } catch (error) {
        if (!(error instanceof StoreError) || !error.transient || attempt >= this.maxAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }
}
