import type { IncidentChange, IncidentChangeKind } from '../domain/incident-change.js';
import type { TimelineDetail, TimelineEntry } from '../domain/incident-timeline.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';

interface TimelineRow {
  change_id: string;
  incident_id: number | bigint;
  kind: IncidentChangeKind;
  actor: string;
  at: Date;
  note: string | null;
  detail: TimelineDetail;
}

const COLUMNS = 'change_id, incident_id, kind, actor, at, note, detail';

/**
 * Reads and appends the incident timeline (table `jaga_incident_timeline`, migration
 * 0003_incident_lifecycle): one row per IncidentChange, keyed by the change's deterministic id.
 * Appends take the caller's transaction (the row commits with the change); reads run on the store,
 * or on `on` when given.
 */
export class TimelineRepository {
  constructor(private readonly store: SqlQueryable) {}

  /**
   * Appends the timeline row of a change (`detail`: see TimelineDetail; never customer data). A change
   * id written before (a replay) is left as it was.
   * @returns true when the row was written, false when the change id was already there
   * @throws StoreError
   */
  async append(tx: SqlQueryable, change: IncidentChange, detail: TimelineDetail): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO jaga_incident_timeline (incident_id, change_id, kind, actor, at, note, detail)
       VALUES ($1, $2, $3, $4, $5::timestamptz, $6, $7::jsonb) ON CONFLICT (change_id) DO NOTHING RETURNING change_id`,
      [change.incident.id, change.id, change.kind, change.actor, change.at.toISOString(), change.note, JSON.stringify(detail)],
    );
    return rows.length === 1;
  }

  /**
   * `append` for several changes in one INSERT, rows written in the order given (ids ascending); change
   * ids written before are left as they were.
   * @returns how many rows were written
   * @throws StoreError
   */
  async appendMany(tx: SqlQueryable, entries: readonly { change: IncidentChange; detail: TimelineDetail }[]): Promise<number> {
    if (entries.length === 0) return 0;
    const rows = await tx.query(
      `INSERT INTO jaga_incident_timeline (incident_id, change_id, kind, actor, at, note, detail)
       SELECT incident_id, change_id, kind, actor, at::timestamptz, note, detail::jsonb
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY
              AS given (incident_id, change_id, kind, actor, at, note, detail, position)
        ORDER BY position
       ON CONFLICT (change_id) DO NOTHING RETURNING change_id`,
      [
        entries.map((e) => e.change.incident.id),
        entries.map((e) => e.change.id),
        entries.map((e) => e.change.kind),
        entries.map((e) => e.change.actor),
        entries.map((e) => e.change.at.toISOString()),
        entries.map((e) => e.change.note),
        entries.map((e) => JSON.stringify(e.detail)),
      ],
    );
    return rows.length;
  }

  /** The timeline of one incident, oldest first (in the order written). @throws StoreError */
  async list(incidentId: number, on: SqlQueryable = this.store): Promise<TimelineEntry[]> {
    const rows = await on.query<TimelineRow>(`SELECT ${COLUMNS} FROM jaga_incident_timeline WHERE incident_id = $1 ORDER BY id`, [incidentId]);
    return rows.map(decode);
  }

  /**
   * The timelines of several incidents, each oldest first.
   * @returns incident id → entries (incidents without entries are absent)
   * @throws StoreError
   */
  async listMany(incidentIds: readonly number[], on: SqlQueryable = this.store): Promise<Map<number, TimelineEntry[]>> {
    const result = new Map<number, TimelineEntry[]>();
    if (incidentIds.length === 0) return result;
    const rows = await on.query<TimelineRow>(`SELECT ${COLUMNS} FROM jaga_incident_timeline WHERE incident_id = ANY($1::bigint[]) ORDER BY id`, [incidentIds]);
    for (const row of rows) {
      const entry = decode(row);
      const list = result.get(entry.incidentId);
      if (list) list.push(entry);
      else result.set(entry.incidentId, [entry]);
    }
    return result;
  }

  /**
   * Retention: deletes `updated` entries (routine merges of further detections; the incident row keeps
   * the totals) made before `before`. Lifecycle entries (opened, severity_raised, acknowledged, resolved,
   * reopened, escalated, deadline_reminder) stay with the incident as the record of what was done.
   * @returns how many rows were deleted
   * @throws StoreError
   */
  async purgeUpdated(before: Date, on: SqlQueryable = this.store): Promise<number> {
    const rows = await on.query(`DELETE FROM jaga_incident_timeline WHERE kind = 'updated' AND at < $1::timestamptz RETURNING change_id`, [before.toISOString()]);
    return rows.length;
  }
}

function decode(row: TimelineRow): TimelineEntry {
  return { changeId: row.change_id, incidentId: Number(row.incident_id), kind: row.kind, actor: row.actor, at: row.at, note: row.note, detail: row.detail };
}
