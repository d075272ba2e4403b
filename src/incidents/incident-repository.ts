import { SEVERITIES, type Detection, type Severity } from '../domain/detection.js';
import { StoreError } from '../domain/errors.js';
import { INCIDENT_STATUSES, type Incident, type IncidentStatus } from '../domain/incident.js';
import { FingerprintBatch, LIVE_INCIDENT as LIVE } from './fingerprint-batch.js';
import { incidentFingerprint } from './incident-fingerprint.js';
import { applyFingerprintGroup, mergeGroups } from './apply-fingerprint-group.js';
import { decodeIncidentRow, INCIDENT_COLUMNS, type IncidentRow } from './incident-row.js';
import { severityRank } from './merge-detection.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';

export { INCIDENT_LOCK_CLASS, incidentLockKey } from './fingerprint-batch.js';

/** Default and largest `limit` of `list`. */
export const INCIDENT_LIST_DEFAULT_LIMIT = 100;
export const INCIDENT_LIST_MAX_LIMIT = 10_000;

/** What `upsert` did with a detection. */
export type UpsertOutcome =
  /** a new incident was opened */
  | 'opened'
  /** merged into the live incident of its fingerprint, severity unchanged */
  | 'updated'
  /** merged into the live incident, whose severity rose to the detection's */
  | 'severity_raised'
  /** the detection id was applied before: nothing changed */
  | 'duplicate';

/** `upsert`'s answer: the incident as it is after the call, and what happened. */
export interface UpsertResult {
  incident: Incident;
  outcome: UpsertOutcome;
  /** for `severity_raised`: the severity before the detection; else absent */
  previousSeverity?: Severity;
}

/** What `upsert` stamps on the incident besides the detection (all optional; the replay pipeline gives none). */
export interface UpsertContext {
  /** the agent's wall clock: `last_detected_at`, `updated_at`, and `created_at` of a new incident; default the database's now() */
  appliedAt?: Date;
  /** the auto-resolve quiet period of the detection's rule, ms (stored as `resolve_after_ms`); default: left as is (NULL when opened) */
  resolveAfterMs?: (detectorId: string) => number;
  /**
   * The regulatory deadlines the incident should carry after the detection, given its (merged) first_seen,
   * data classes and current deadlines; default: left as is (null when opened).
   */
  deadlines?: (incident: { firstSeen: Date; dataClasses: readonly string[]; deadlines: Record<string, unknown> | null }) => Record<string, unknown> | null;
}

/** Filters of `list`; all optional, combined with AND. */
export interface IncidentListFilter {
  /** one status or any of several */
  status?: IncidentStatus | readonly IncidentStatus[];
  /** exactly this severity, or any of several */
  severity?: Severity | readonly Severity[];
  /** this severity or higher */
  minSeverity?: Severity;
  /** detector (rule) id, exact */
  detector?: string;
  /** incidents whose last_seen is at or after this time (Date or ISO-8601) */
  since?: Date | string;
  /** incidents whose first_seen is at or before this time (Date or ISO-8601) */
  until?: Date | string;
  /** at most this many, 1..INCIDENT_LIST_MAX_LIMIT; default INCIDENT_LIST_DEFAULT_LIMIT */
  limit?: number;
}

/**
 * Reads and writes incidents (tables `jaga_incident` and `jaga_incident_detection`, migration
 * 0002_incidents). Writes take the caller's transaction, so incident changes commit together with the
 * source checkpoints and detector state that caused them. Reads run on the store, or on `on` when given.
 *
 * Concurrency: `upsert` takes a transaction-level advisory lock per fingerprint
 * (`pg_advisory_xact_lock(INCIDENT_LOCK_CLASS, <first 32 bits of the fingerprint>)`), so agents sharing
 * one PostgreSQL apply detections of one fingerprint one after the other: never two live incidents,
 * never a lost count, and a detection id applied by two agents at once counts once. The partial unique
 * index on live fingerprints is the backstop. The lock is held until the caller's transaction ends: a
 * transaction applying several detections should apply them in fingerprint order (`upsertMany` does),
 * else two agents can deadlock; PostgreSQL then aborts one with a transient StoreError (40P01) and the
 * caller retries the transaction.
 */
export class IncidentRepository {
  constructor(private readonly store: SqlQueryable) {}

  /**
   * Applies a detection: merges it into the live (open or acknowledged) incident of its
   * IncidentFingerprint (count += detection.count, first_seen = earliest, last_seen = latest, severity
   * only rises, evidence appended up to 50 items unique by event_id, tags and data classes united,
   * title/maturity/explanation/summary from the detection, entity gaps filled, version + 1), else opens
   * a new incident (version 1) linked to the last resolved incident of the fingerprint. A detection id
   * applied before changes nothing (outcome `duplicate`, the incident as it is now). `context` (optional)
   * stamps the agent's clock, the rule's auto-resolve period and the regulatory deadlines (see `UpsertContext`).
   *
   * @throws RangeError when the detection is malformed (unknown severity or maturity, count not a safe
   *   non-negative integer, times not ISO-8601 or firstSeen after lastSeen): a caller bug.
   * @throws StoreError from the store (40P01 deadlock is transient: retry the whole transaction).
   */
  async upsert(tx: SqlQueryable, given: Detection, context: UpsertContext = {}): Promise<UpsertResult> {
    return (await this.upsertMany(tx, [given], context))[0]!;
  }

  /**
   * `upsert` for several detections in one transaction, applied in fingerprint order (input order
   * within one fingerprint) so concurrent agents take their locks in one order. Same results as one
   * `upsert` per detection in that order, in fewer statements: every fingerprint's lock is taken by
   * one statement (in fingerprint order, before any detection is applied), the applied-before check is
   * one query for all detection ids, the live incidents of the fingerprints with a new detection are
   * read by one query (FOR UPDATE, kept locked by this transaction), a fingerprint's consecutive new
   * detections form one group: the groups merging into live incidents are written together by ONE
   * UPDATE (mergeGroups, deferred until the last group or until something reads what they write), a
   * group opening an incident by one INSERT of the incident as they all leave it (applyFingerprintGroup);
   * each detection's result still carries the incident as it was right after that detection, computed
   * in memory by foldDetections; a group that adds no evidence item leaves the evidence column alone
   * (neither written nor returned), and the detection ids are recorded by one INSERT at the end. A
   * detection applied before (a duplicate) ends the group, so its result reads the incident as written
   * so far.
   * @returns the results in the order of `detections`
   * @throws as `upsert` (a malformed detection before any SQL runs)
   */
  async upsertMany(tx: SqlQueryable, detections: readonly Detection[], context: UpsertContext = {}): Promise<UpsertResult[]> {
    const checked = detections.map(checkedDetection);
    const order = checked.map((detection, index) => ({ index, fingerprint: incidentFingerprint(detection) }));
    order.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : a.index - b.index));
    await FingerprintBatch.lockAll(tx, distinctInOrder(order.map((o) => o.fingerprint)));
    /** detection id → incident id, of detections applied before this call and during it */
    const applied = await appliedIncidentIds(tx, checked);
    /** fingerprint → its live incident as read now (of the fingerprints with a detection not applied before), then as this transaction last wrote it; absent: none is live */
    const live = await FingerprintBatch.liveOf(tx, distinctInOrder(order.filter((o) => !applied.has(checked[o.index]!.id)).map((o) => o.fingerprint)));
    const recorded: { detectionId: string; incidentId: number }[] = [];
    const results: UpsertResult[] = new Array<UpsertResult>(checked.length);
    /** the current fingerprint's new detections, applied together when the fingerprint changes */
    let group: { fingerprint: string; indexes: number[]; ids: Set<string> } | null = null;
    /** groups merging into a live incident (its id known), written together by ONE statement (mergeGroups) before anything reads them */
    let merges: { fingerprint: string; incident: Incident; indexes: number[] }[] = [];
    const writeMerges = async (): Promise<void> => {
      if (merges.length === 0) return;
      const pending = merges;
      merges = [];
      const stepsOf = await mergeGroups(tx, pending.map((m) => ({ incident: m.incident, fingerprint: m.fingerprint, detections: m.indexes.map((i) => checked[i]!) })), context);
      for (const [g, merge] of pending.entries()) {
        const steps = stepsOf[g]!;
        for (const [n, step] of steps.entries()) results[merge.indexes[n]!] = step;
        live.set(merge.fingerprint, steps[steps.length - 1]!.incident);
      }
    };
    const flush = async (): Promise<void> => {
      if (group === null) return;
      const { fingerprint, indexes } = group;
      group = null;
      if (merges.some((m) => m.fingerprint === fingerprint)) await writeMerges();
      const incident = live.get(fingerprint);
      if (incident !== undefined) {
        merges.push({ fingerprint, incident, indexes });
        for (const i of indexes) {
          applied.set(checked[i]!.id, incident.id);
          recorded.push({ detectionId: checked[i]!.id, incidentId: incident.id });
        }
        return;
      }
      const steps = await applyFingerprintGroup(tx, fingerprint, indexes.map((i) => checked[i]!), context);
      for (const [n, step] of steps.entries()) {
        const detection = checked[indexes[n]!]!;
        applied.set(detection.id, step.incident.id);
        recorded.push({ detectionId: detection.id, incidentId: step.incident.id });
        results[indexes[n]!] = step;
      }
      live.set(fingerprint, steps[steps.length - 1]!.incident);
    };
    for (const { index, fingerprint } of order) {
      const detection = checked[index]!;
      // a group ends at the next fingerprint, and before a duplicate (applied before, or earlier in this group): it sees the incident as written
      if (group !== null && (group.fingerprint !== fingerprint || group.ids.has(detection.id) || applied.has(detection.id))) await flush();
      const appliedTo = applied.get(detection.id);
      if (appliedTo !== undefined) {
        await writeMerges();
        const incident = await this.get(appliedTo, tx);
        if (incident === null) throw new StoreError(`detection ${detection.id} is recorded for incident ${appliedTo}, which does not exist`, false);
        results[index] = { incident, outcome: 'duplicate' };
        continue;
      }
      group ??= { fingerprint, indexes: [], ids: new Set() };
      group.indexes.push(index);
      group.ids.add(detection.id);
    }
    await flush();
    await writeMerges();
    if (recorded.length > 0) {
      await tx.query('INSERT INTO jaga_incident_detection (detection_id, incident_id) SELECT * FROM unnest($1::text[], $2::bigint[])', [
        recorded.map((r) => r.detectionId),
        recorded.map((r) => r.incidentId),
      ]);
    }
    return results;
  }

  /** The incident with this id, or null. @throws StoreError */
  async get(id: number, on: SqlQueryable = this.store): Promise<Incident | null> {
    const [row] = await on.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM jaga_incident WHERE id = $1`, [id]);
    return row === undefined ? null : decodeIncidentRow(row);
  }

  /** The live (open or acknowledged) incident of a fingerprint, or null. @throws StoreError */
  async findOpenByFingerprint(fingerprint: string, on: SqlQueryable = this.store): Promise<Incident | null> {
    const [row] = await on.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM jaga_incident WHERE fingerprint = $1 AND ${LIVE}`, [fingerprint]);
    return row === undefined ? null : decodeIncidentRow(row);
  }

  /**
   * Incidents matching every given filter, most recent activity first (last_seen, then id, descending).
   * @throws RangeError for an unknown status or severity, an unparseable time, or a limit outside 1..INCIDENT_LIST_MAX_LIMIT.
   * @throws StoreError
   */
  async list(filter: IncidentListFilter = {}, on: SqlQueryable = this.store): Promise<Incident[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (param: string) => string, value: unknown): void => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (filter.status !== undefined) {
      const statuses = typeof filter.status === 'string' ? [filter.status] : [...filter.status];
      for (const status of statuses) if (!INCIDENT_STATUSES.includes(status)) throw new RangeError(`unknown incident status ${JSON.stringify(status)}`);
      add((p) => `status = ANY(${p}::text[])`, statuses);
    }
    if (filter.severity !== undefined) {
      const severities = typeof filter.severity === 'string' ? [filter.severity] : [...filter.severity];
      add((p) => `severity_rank = ANY(${p}::smallint[])`, severities.map(severityRank));
    }
    if (filter.minSeverity !== undefined) add((p) => `severity_rank >= ${p}`, severityRank(filter.minSeverity));
    if (filter.detector !== undefined) add((p) => `detector_id = ${p}`, filter.detector);
    if (filter.since !== undefined) add((p) => `last_seen >= ${p}::timestamptz`, isoTime(filter.since, 'since'));
    if (filter.until !== undefined) add((p) => `first_seen <= ${p}::timestamptz`, isoTime(filter.until, 'until'));
    const limit = filter.limit ?? INCIDENT_LIST_DEFAULT_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > INCIDENT_LIST_MAX_LIMIT) {
      throw new RangeError(`incident list limit must be an integer from 1 to ${INCIDENT_LIST_MAX_LIMIT}, got ${limit}`);
    }
    params.push(limit);
    const rows = await on.query<IncidentRow>(
      `SELECT ${INCIDENT_COLUMNS} FROM jaga_incident ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY last_seen DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(decodeIncidentRow);
  }

  /**
   * Unresolved incidents counted by severity and status (for `jaga_open_incidents`), e.g.
   * `[{ severity: 'high', status: 'open', count: 2 }]`; combinations without incidents are absent.
   * @throws StoreError
   */
  async countUnresolved(on: SqlQueryable = this.store): Promise<{ severity: Severity; status: Exclude<IncidentStatus, 'resolved'>; count: number }[]> {
    const rows = await on.query<{ severity: Severity; status: Exclude<IncidentStatus, 'resolved'>; count: number | bigint | string }>(
      "SELECT severity, status, count(*) AS count FROM jaga_incident WHERE status <> 'resolved' GROUP BY severity, status ORDER BY severity, status",
    );
    return rows.map((row) => ({ severity: row.severity, status: row.status, count: Number(row.count) }));
  }

  /**
   * Resolves a live incident (status `resolved`, version + 1): its fingerprint's next detection opens a
   * new incident linked to it (resolved_by `system`, no timeline entry). The minimal lifecycle step used by
   * replays; responders and auto-resolve go through IncidentService, which records actor and timeline.
   * @returns the resolved incident, or null when no live incident has this id (unknown or already resolved)
   * @throws StoreError
   */
  async resolve(tx: SqlQueryable, id: number): Promise<Incident | null> {
    const [row] = await tx.query<IncidentRow>(
      `UPDATE jaga_incident SET status = 'resolved', version = version + 1, updated_at = now(), resolved_at = now(), resolved_by = 'system'
        WHERE id = $1 AND ${LIVE} RETURNING ${INCIDENT_COLUMNS}`,
      [id],
    );
    return row === undefined ? null : decodeIncidentRow(row);
  }
}

/** detection id → incident id of those of `detections` already recorded in jaga_incident_detection. */
async function appliedIncidentIds(tx: SqlQueryable, detections: readonly Detection[]): Promise<Map<string, number>> {
  const rows = await tx.query<{ detection_id: string; incident_id: number | bigint }>('SELECT detection_id, incident_id FROM jaga_incident_detection WHERE detection_id = ANY($1::text[])', [
    detections.map((detection) => detection.id),
  ]);
  return new Map(rows.map((row) => [row.detection_id, Number(row.incident_id)]));
}

/** The distinct values of `values`, first occurrence first. */
function distinctInOrder(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** ISO-8601 text of a filter time. @throws RangeError when unparseable */
function isoTime(value: Date | string, name: string): string {
  const time = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(time)) throw new RangeError(`incident list ${name} is not a valid time: ${JSON.stringify(String(value))}`);
  return new Date(time).toISOString();
}

/**
 * The detection with firstSeen/lastSeen rewritten as `Date#toISOString` text (so PostgreSQL's session
 * time zone never interprets them); rejects a malformed detection before any SQL runs.
 * @throws RangeError
 */
function checkedDetection(detection: Detection): Detection {
  if (!SEVERITIES.includes(detection.severity)) throw new RangeError(`detection ${detection.id}: unknown severity ${JSON.stringify(detection.severity)}`);
  if (detection.maturity !== 'stable' && detection.maturity !== 'experimental') {
    throw new RangeError(`detection ${detection.id}: unknown maturity ${JSON.stringify(detection.maturity)}`);
  }
  if (!Number.isSafeInteger(detection.count) || detection.count < 0) {
    throw new RangeError(`detection ${detection.id}: count must be a safe non-negative integer, got ${detection.count}`);
  }
  const first = Date.parse(detection.firstSeen);
  const last = Date.parse(detection.lastSeen);
  if (Number.isNaN(first) || Number.isNaN(last)) throw new RangeError(`detection ${detection.id}: firstSeen and lastSeen must be ISO-8601 times`);
  if (first > last) throw new RangeError(`detection ${detection.id}: firstSeen ${detection.firstSeen} is after lastSeen ${detection.lastSeen}`);
  return { ...detection, firstSeen: new Date(first).toISOString(), lastSeen: new Date(last).toISOString() };
}
