import type { Incident } from '../domain/incident.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import { INCIDENT_LOCK_CLASS, incidentLockKey } from './fingerprint-batch.js';
import { decodeIncidentRow, INCIDENT_COLUMNS, type IncidentRow } from './incident-row.js';

const LIVE = "status IN ('open', 'acknowledged')";

/**
 * The lifecycle writes and job queries on incidents (tables `jaga_incident`, `jaga_incident_escalation`,
 * `jaga_incident_reminder`, migration 0003_incident_lifecycle). The state checks live in IncidentService;
 * these statements assume the caller locked the row (`lock`) in the same transaction.
 */
export class LifecycleRepository {
  constructor(private readonly store: SqlQueryable) {}

  /** The incident with this id, row-locked until the transaction ends (FOR UPDATE), or null. @throws StoreError */
  async lock(tx: SqlQueryable, id: number): Promise<Incident | null> {
    const [row] = await tx.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM jaga_incident WHERE id = $1 FOR UPDATE`, [id]);
    return row === undefined ? null : decodeIncidentRow(row);
  }

  /** Takes the per-fingerprint advisory lock (the one `IncidentRepository.upsert` takes) until the transaction ends. @throws StoreError */
  async lockFingerprint(tx: SqlQueryable, fingerprint: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [INCIDENT_LOCK_CLASS, incidentLockKey(fingerprint)]);
  }

  /** Id of the live incident of a fingerprint, or null. @throws StoreError */
  async liveIdOf(tx: SqlQueryable, fingerprint: string): Promise<number | null> {
    const [row] = await tx.query<{ id: number | bigint }>(`SELECT id FROM jaga_incident WHERE fingerprint = $1 AND ${LIVE}`, [fingerprint]);
    return row === undefined ? null : Number(row.id);
  }

  /** Sets status `acknowledged` with actor and time, version + 1. @returns the incident after @throws StoreError */
  async acknowledge(tx: SqlQueryable, id: number, actor: string, at: Date): Promise<Incident> {
    return this.update(tx, `status = 'acknowledged', acknowledged_at = $2::timestamptz, acknowledged_by = $3`, id, at, actor);
  }

  /** Sets status `resolved` with actor and time, version + 1. @returns the incident after @throws StoreError */
  async resolve(tx: SqlQueryable, id: number, actor: string, at: Date): Promise<Incident> {
    return this.update(tx, `status = 'resolved', resolved_at = $2::timestamptz, resolved_by = $3`, id, at, actor);
  }

  /** Sets status `open` again, clearing acknowledged_* and resolved_*, version + 1. @returns the incident after @throws StoreError */
  async reopen(tx: SqlQueryable, id: number, at: Date): Promise<Incident> {
    return this.update(tx, `status = 'open', acknowledged_at = NULL, acknowledged_by = NULL, resolved_at = NULL, resolved_by = NULL`, id, at, null);
  }

  /**
   * Live incidents quiet for their auto-resolve period at `now`: `greatest(last_seen, last_detected_at)`
   * + coalesce(resolve_after_ms, defaultMs) <= now, oldest first, at most `limit`.
   * @throws StoreError
   */
  async quiet(tx: SqlQueryable, now: Date, defaultMs: number, limit: number): Promise<Incident[]> {
    const rows = await tx.query<IncidentRow>(
      `SELECT ${INCIDENT_COLUMNS} FROM jaga_incident
        WHERE ${LIVE}
          AND greatest(last_seen, coalesce(last_detected_at, last_seen)) + coalesce(resolve_after_ms, $2::bigint) * interval '1 millisecond' <= $1::timestamptz
        ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [now.toISOString(), defaultMs, limit],
    );
    return rows.map(decodeIncidentRow);
  }

  /**
   * Open (unacknowledged) incidents of the given severities opened at or before `openedBy`, with the
   * number of escalation steps fired so far, oldest first, at most `limit`.
   * @throws StoreError
   */
  async escalationCandidates(tx: SqlQueryable, severities: readonly string[], openedBy: Date, limit: number): Promise<{ incident: Incident; fired: number }[]> {
    if (severities.length === 0) return [];
    const rows = await tx.query<IncidentRow & { fired: number | bigint }>(
      `SELECT ${INCIDENT_COLUMNS}, (SELECT count(*) FROM jaga_incident_escalation e WHERE e.incident_id = jaga_incident.id) AS fired
         FROM jaga_incident WHERE status = 'open' AND severity = ANY($1::text[]) AND created_at <= $2::timestamptz ORDER BY id LIMIT $3`,
      [severities, openedBy.toISOString(), limit],
    );
    return rows.map((row) => ({ incident: decodeIncidentRow(row), fired: Number(row.fired) }));
  }

  /** Records an escalation step as fired. @returns true when this call recorded it (false: fired before) @throws StoreError */
  async fireEscalation(tx: SqlQueryable, id: number, step: number, at: Date): Promise<boolean> {
    const rows = await tx.query(
      'INSERT INTO jaga_incident_escalation (incident_id, step, fired_at) VALUES ($1, $2, $3::timestamptz) ON CONFLICT DO NOTHING RETURNING step',
      [id, step, at.toISOString()],
    );
    return rows.length === 1;
  }

  /** Live incidents that carry regulatory deadlines, oldest first, at most `limit`. @throws StoreError */
  async withDeadlines(tx: SqlQueryable, limit: number): Promise<Incident[]> {
    const rows = await tx.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM jaga_incident WHERE ${LIVE} AND deadlines IS NOT NULL ORDER BY id LIMIT $1`, [limit]);
    return rows.map(decodeIncidentRow);
  }

  /** Records a deadline reminder as fired. @returns true when this call recorded it (false: fired before) @throws StoreError */
  async fireReminder(tx: SqlQueryable, id: number, deadline: string, beforeMs: number, at: Date): Promise<boolean> {
    const rows = await tx.query(
      'INSERT INTO jaga_incident_reminder (incident_id, deadline, before_ms, fired_at) VALUES ($1, $2, $3, $4::timestamptz) ON CONFLICT DO NOTHING RETURNING deadline',
      [id, deadline, beforeMs, at.toISOString()],
    );
    return rows.length === 1;
  }

  /**
   * Retention: clears (to `[]`) the evidence of incidents resolved before `before` (resolved_at, or
   * updated_at for incidents resolved without it). The incident rows stay (the breach register).
   * @returns how many incidents had evidence cleared
   * @throws StoreError
   */
  async clearEvidence(before: Date, on: SqlQueryable = this.store): Promise<number> {
    const rows = await on.query(
      `UPDATE jaga_incident SET evidence = '[]'::jsonb
        WHERE status = 'resolved' AND coalesce(resolved_at, updated_at) < $1::timestamptz AND evidence <> '[]'::jsonb RETURNING id`,
      [before.toISOString()],
    );
    return rows.length;
  }

  private async update(tx: SqlQueryable, set: string, id: number, at: Date, actor: string | null): Promise<Incident> {
    const [row] = await tx.query<IncidentRow>(
      `UPDATE jaga_incident SET ${set}, version = version + 1, updated_at = $2::timestamptz WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
      actor === null ? [id, at.toISOString()] : [id, at.toISOString(), actor],
    );
    return decodeIncidentRow(row!);
  }
}
