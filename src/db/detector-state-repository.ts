import type { SqlQueryable } from '../domain/sql-queryable.js';

/** The component key of the DetectionEngine snapshot (src/detect/detection-engine.ts `EngineState`). */
export const ENGINE_STATE_COMPONENT = 'engine';

/** A stored snapshot: the JSON state, how many times it was written, and when (writing transaction's start, UTC). */
export interface StoredDetectorState {
  state: unknown;
  revision: number;
  updatedAt: Date;
}

interface StateRow {
  state: unknown;
  revision: number | bigint;
  updated_at: Date;
}

/**
 * Reads and writes the `jaga_pipeline_state` table (migrations 0007_pipeline_state and
 * 0008_pipeline_state_json: a `json` column, kept as written): one JSON state
 * snapshot per (agent, component), e.g. `('db-eu-1', 'engine') → EngineState`. Writes take the
 * caller's transaction: the pipeline saves the snapshot in the same transaction as the source
 * checkpoints of the records it covers, so after a crash the restored state and the resumed read
 * positions always belong together.
 */
export class DetectorStateRepository {
  constructor(private readonly store: SqlQueryable) {}

  /**
   * Writes (inserts or replaces) the snapshot of `component` for `agent`; `revision` grows by one.
   * @param state any JSON-serialisable value (stored as `json`: the text of `JSON.stringify(state)`)
   * @throws TypeError when `state` is not JSON-serialisable (a caller bug); StoreError from the store
   */
  async save(tx: SqlQueryable, agent: string, component: string, state: unknown): Promise<void> {
    const json = JSON.stringify(state);
    if (json === undefined) throw new TypeError(`detector state of ${component} is not JSON-serialisable`);
    await tx.query(
      `INSERT INTO jaga_pipeline_state AS s (agent, component, state, revision, updated_at)
       VALUES ($1, $2, $3::json, 1, now())
       ON CONFLICT (agent, component) DO UPDATE
          SET state = EXCLUDED.state, revision = s.revision + 1, updated_at = EXCLUDED.updated_at`,
      [agent, component, json],
    );
  }

  /**
   * The snapshot of `component` for `agent`, or null when none was saved.
   * @param on read inside this transaction instead of on the store
   * @throws StoreError
   */
  async load(agent: string, component: string, on: SqlQueryable = this.store): Promise<StoredDetectorState | null> {
    const [row] = await on.query<StateRow>('SELECT state, revision, updated_at FROM jaga_pipeline_state WHERE agent = $1 AND component = $2', [agent, component]);
    return row === undefined ? null : { state: row.state, revision: Number(row.revision), updatedAt: row.updated_at };
  }

  /**
   * Deletes every snapshot of `agent` (e.g. an operator resetting an agent's learned state).
   * @returns rows deleted
   * @throws StoreError
   */
  async forget(tx: SqlQueryable, agent: string): Promise<number> {
    const rows = await tx.query('DELETE FROM jaga_pipeline_state WHERE agent = $1 RETURNING 1 AS deleted', [agent]);
    return rows.length;
  }
}
