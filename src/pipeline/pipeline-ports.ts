import type { Detection } from '../domain/detection.js';
import type { IncidentChange } from '../domain/incident-change.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';

/**
 * The ports the pipeline's commit and jobs use (wave1 plan, "The ports"): the incidents stage's
 * `IncidentService` and the notify stage's `NotificationPlanner` / `NotificationDispatcher` fit them
 * structurally; the composition root (src/pipeline/agent.ts) passes the real objects in.
 */

/** Applies detections to incidents inside the caller's transaction (`IncidentService.applyDetections`). */
export interface IncidentApplier {
  /**
   * @returns one change per incident opened / updated / severity raised (with timeline rows);
   *   a detection already applied gives no change (idempotent by detection id)
   * @throws StoreError from the store (40P01 deadlock: transient, the whole commit is retried)
   */
  applyDetections(tx: SqlQueryable, detections: readonly Detection[], now: Date): Promise<IncidentChange[]>;
}

/** Writes outbox rows for incident changes in the caller's transaction (`NotificationPlanner.enqueue`). */
export interface NotificationEnqueuer {
  /** @returns outbox rows written */
  enqueue(tx: SqlQueryable, changes: readonly IncidentChange[], now: Date): Promise<number>;
}

/** Something that delivers the outbox; woken after a commit wrote rows (polling stays the truth). */
export interface DispatcherWake {
  wake?(): void;
}

/** The singleton jobs of the incidents stage (`IncidentService.runDueJobs`): auto-resolve, escalation, reminders. */
export interface DueJobs {
  /** @returns the changes made (each fires once: unique keys in the store) */
  runDueJobs(tx: SqlQueryable, now: Date): Promise<IncidentChange[]>;
}

/**
 * Another writer whose state must commit with the checkpoints (e.g. the access ledger's per-day
 * counts): `write` runs inside the commit transaction, `committed` after it (to drop what was written).
 */
export interface CommitParticipant {
  /** short name for logs, e.g. `access_ledger` */
  readonly name: string;
  write(tx: SqlQueryable, now: Date): Promise<void>;
  committed?(): void;
}
