import { AccessLedgerRepository } from '../db/access-ledger-repository.js';
import type { AccessEvent } from '../domain/access-event.js';
import type { AccessLedgerDelta } from '../domain/access-ledger.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import { AccessLedger, type AccessLedgerContext } from '../detect/access-ledger.js';
import type { CommitParticipant } from './pipeline-ports.js';

/**
 * The access ledger (per day x server x role x relation x client access counts, read by
 * `jaga report access`) as a participant of the pipeline commit: the live pipeline hands it every
 * event it runs through detection (`observe`, after jaga's own traffic was dropped); the commit
 * writes the deltas counted since the last commit in the SAME transaction as the source
 * checkpoints (`write`), so a crash before COMMIT loses them together with the checkpoints and the
 * replay counts them exactly once.
 *
 * A failed commit keeps its deltas: the next `write` applies them again together with what was
 * counted since (the transaction that failed rolled back, so nothing was counted twice); they are
 * dropped only at `committed`. The pipeline processes no event while a commit runs, so what
 * `write` drains is exactly what the checkpoints cover.
 *
 * Memory: one delta per distinct key since the last successful commit.
 */
export class AccessLedgerParticipant implements CommitParticipant {
  readonly name = 'access_ledger';
  private readonly ledger = new AccessLedger();
  private readonly repository: AccessLedgerRepository;
  /** deltas of the commit in progress (kept after a failed commit, applied again by the next) */
  private inflight: AccessLedgerDelta[] = [];
  /** ledger rows inserted or updated by the last successful commit */
  private lastRows = 0;
  private writtenRows = 0;

  /**
   * @param store where the repository reads outside a transaction (unused by `write`)
   * @param catalog the data classes of relations (the running rule set's catalog, so a hot reload of
   *   the catalog applies to the next events); null: nothing is classified, nothing counts
   */
  constructor(
    store: SqlQueryable,
    private readonly catalog: () => AccessLedgerContext | null,
  ) {
    this.repository = new AccessLedgerRepository(store);
  }

  /** Counts one event (only `audit` events on catalogued relations count; see AccessLedger). */
  observe(event: AccessEvent): void {
    const context = this.catalog();
    if (context !== null) this.ledger.observe(event, context);
  }

  /** Keys counted and not yet committed. */
  get pendingKeys(): number {
    return this.ledger.size + this.inflight.length;
  }

  /** Ledger rows written by the last successful commit. */
  get rowsLastCommit(): number {
    return this.lastRows;
  }

  /**
   * Applies the deltas of this commit (the ones of a failed commit, plus what was counted since)
   * inside the commit transaction.
   * @throws StoreError (the commit rolls back; the deltas stay for the next attempt)
   */
  async write(tx: SqlQueryable): Promise<void> {
    if (this.ledger.size > 0) this.inflight = [...this.inflight, ...this.ledger.drain()];
    this.writtenRows = this.inflight.length === 0 ? 0 : await this.repository.apply(tx, this.inflight);
  }

  /** The commit succeeded: its deltas are durable. */
  committed(): void {
    this.inflight = [];
    this.lastRows = this.writtenRows;
    this.writtenRows = 0;
  }
}
