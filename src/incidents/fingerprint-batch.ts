import type { Incident } from '../domain/incident.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import { decodeIncidentRow, INCIDENT_COLUMNS, type IncidentRow } from './incident-row.js';

/** `status IN ('open', 'acknowledged')`: the live incidents, at most one per fingerprint (partial unique index). */
export const LIVE_INCIDENT = "status IN ('open', 'acknowledged')";

/**
 * Advisory lock class (first key of the two-int form) of the per-fingerprint upsert lock: ASCII "jagi".
 * The second key is the fingerprint's first 32 bits. Distinct from the migration lock's class ("jaga").
 */
export const INCIDENT_LOCK_CLASS = 0x6a616769;

/**
 * Second key of the per-fingerprint advisory lock (first key INCIDENT_LOCK_CLASS): the fingerprint's
 * first 8 hex digits as a signed 32-bit integer. Whoever changes which incident is live for a fingerprint
 * (upsert, reopen) holds `pg_advisory_xact_lock(INCIDENT_LOCK_CLASS, incidentLockKey(fingerprint))`.
 */
export function incidentLockKey(fingerprint: string): number {
  return Number.parseInt(fingerprint.slice(0, 8), 16) | 0;
}

/**
 * The per-commit reads of `IncidentRepository.upsertMany`, one statement each instead of one per
 * fingerprint (PGlite runs every statement through its whole protocol path, ~0.5-1 ms each):
 *
 * - `lockAll`: takes `pg_advisory_xact_lock(INCIDENT_LOCK_CLASS, incidentLockKey(f))` for every
 *   fingerprint, in the order given (the caller passes them sorted, so agents sharing a PostgreSQL
 *   take their locks in one order); held until the transaction ends.
 * - `liveOf`: the live incident of each fingerprint, read FOR UPDATE.
 */
export const FingerprintBatch = {
  /**
   * Locks every fingerprint of `fingerprints`, in that order (a subquery ordered by position, so the
   * function runs row by row in array order). No statement when the list is empty.
   * @throws StoreError (40P01 deadlock is transient: retry the whole transaction)
   */
  async lockAll(tx: SqlQueryable, fingerprints: readonly string[]): Promise<void> {
    if (fingerprints.length === 0) return;
    await tx.query(
      `SELECT count(pg_advisory_xact_lock($1, k)) AS locked
         FROM (SELECT k FROM unnest($2::int[]) WITH ORDINALITY AS t(k, n) ORDER BY n) AS keys`,
      [INCIDENT_LOCK_CLASS, fingerprints.map(incidentLockKey)],
    );
  },

  /**
   * The live (open or acknowledged) incident of each of `fingerprints`, locked FOR UPDATE; a
   * fingerprint without one is absent from the map. No statement when the list is empty.
   * @returns fingerprint → incident
   * @throws StoreError
   */
  async liveOf(tx: SqlQueryable, fingerprints: readonly string[]): Promise<Map<string, Incident>> {
    if (fingerprints.length === 0) return new Map();
    const rows = await tx.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM jaga_incident WHERE fingerprint = ANY($1::text[]) AND ${LIVE_INCIDENT} FOR UPDATE`, [[...fingerprints]]);
    return new Map(rows.map((row) => [row.fingerprint, decodeIncidentRow(row)]));
  },
};
