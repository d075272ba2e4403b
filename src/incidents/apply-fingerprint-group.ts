import type { Detection } from '../domain/detection.js';
import { StoreError } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import { FingerprintBatch, LIVE_INCIDENT as LIVE } from './fingerprint-batch.js';
import { foldDetections, settleFold, type FoldStep } from './incident-fold.js';
import type { UpsertContext } from './incident-repository.js';
import { decodeIncidentRow, INCIDENT_COLUMNS, type IncidentRow } from './incident-row.js';
import { severityRank } from './merge-detection.js';

/** How many times an opening INSERT is retried after it met a live incident it did not see (written without the lock). */
const MAX_OPEN_ATTEMPTS = 3;

/** A live incident and the new detections of its fingerprint to merge into it (in order, none applied before). */
export interface MergeGroup {
  /** the live incident as this transaction read it FOR UPDATE or last wrote it */
  incident: Incident;
  fingerprint: string;
  detections: readonly Detection[];
}

/**
 * The columns `mergeGroups` returns: INCIDENT_COLUMNS of the updated row (`i`), with `evidence` NULL for a
 * group that left it alone (its caller holds it already; up to 50 items, ~20 KB of jsonb).
 */
const MERGE_RETURNING = INCIDENT_COLUMNS.split(', ')
  .map((column) => (column === 'evidence' ? 'CASE WHEN u.evidence IS NULL THEN NULL ELSE i.evidence END AS evidence' : `i.${column}`))
  .join(', ');

/**
 * Applies one fingerprint's new detections (none applied before, in order) under its lock when none
 * of its incidents is live (the caller merges into live ones with mergeGroups): ONE INSERT of the
 * incident as all of them leave it (read again FOR UPDATE and merged into that one when a live
 * incident appeared meanwhile: written without the lock, so a conflict is possible). The per-detection
 * states come from foldDetections, so the steps are those of applying the detections one by one (same
 * versions, counts, severities, evidence...), and the last step's incident is the row as the statement
 * returned it.
 *
 * @returns one step per detection, in order
 * @throws StoreError from the store, or (transient) when a live incident kept appearing while opening one
 */
export async function applyFingerprintGroup(tx: SqlQueryable, fingerprint: string, detections: readonly Detection[], context: UpsertContext): Promise<FoldStep[]> {
  for (let attempt = 1; ; attempt += 1) {
    const current = attempt === 1 ? null : ((await FingerprintBatch.liveOf(tx, [fingerprint])).get(fingerprint) ?? null);
    const steps = current !== null ? (await mergeGroups(tx, [{ incident: current, fingerprint, detections }], context))[0]! : await openGroup(tx, fingerprint, detections, context);
    if (steps !== undefined) return steps;
    if (attempt >= MAX_OPEN_ATTEMPTS) {
      throw new StoreError(`incident ${fingerprint}: a live incident kept appearing while opening one (${attempt} attempts)`, true);
    }
  }
}

/**
 * Merges each group's detections into its live incident (distinct incidents) with ONE UPDATE for all
 * groups: the rows' new values go as one jsonb array (`jsonb_to_recordset`; PGlite runs every statement
 * through its whole protocol path, and a commit of the pipeline bench merged ~15 groups). Per row, like
 * one statement per group did: times and count relative to the row (`least`, `greatest`, `count + n`,
 * `version + k`), the other columns the fold's last state; a group that adds no evidence item leaves the
 * evidence column alone (neither written nor returned). Absent values are omitted from the jsonb (SQL
 * NULL whatever the server version makes of a JSON null in a jsonb column).
 *
 * @returns per group (in the order given), one step per detection, the last step's incident as written
 * @throws StoreError from the store, or (permanent) when a group's incident was not updated (a caller bug:
 *   the incidents are read FOR UPDATE first)
 */
export async function mergeGroups(tx: SqlQueryable, groups: readonly MergeGroup[], context: UpsertContext): Promise<FoldStep[][]> {
  if (groups.length === 0) return [];
  const folds = groups.map((group) => foldDetections(group.incident, group.fingerprint, group.detections, context));
  const values = groups.map((group, n) => {
    const before = group.incident;
    const last = folds[n]![folds[n]!.length - 1]!.incident;
    return {
      id: before.id,
      title: last.title,
      severity: last.severity,
      severity_rank: severityRank(last.severity),
      maturity: last.maturity,
      first_seen: last.firstSeen.toISOString(),
      last_seen: last.lastSeen.toISOString(),
      count_added: last.count - before.count,
      entity: last.entity,
      tags: last.tags,
      data_classes: last.dataClasses,
      explanation: last.explanation,
      summary: last.summary,
      evidence: last.evidence === before.evidence ? undefined : last.evidence,
      deadlines: last.deadlines ?? undefined,
      resolve_after_ms: context.resolveAfterMs ? (last.resolveAfterMs ?? undefined) : undefined,
      applied_at: context.appliedAt?.toISOString(),
      versions_added: group.detections.length,
    };
  });
  // times and count from the fold (it started from this row): least / greatest / + keep the statement relative to the row
  const rows = await tx.query<IncidentRow>(
    `UPDATE jaga_incident AS i
        SET title = u.title, severity = u.severity, severity_rank = u.severity_rank, maturity = u.maturity,
            first_seen = least(i.first_seen, u.first_seen), last_seen = greatest(i.last_seen, u.last_seen), count = i.count + u.count_added,
            entity = u.entity, tags = u.tags, data_classes = u.data_classes, explanation = u.explanation, summary = u.summary, evidence = coalesce(u.evidence, i.evidence),
            deadlines = u.deadlines, resolve_after_ms = coalesce(u.resolve_after_ms, i.resolve_after_ms),
            last_detected_at = coalesce(u.applied_at, now()), version = i.version + u.versions_added, updated_at = coalesce(u.applied_at, now())
       FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, title text, severity text, severity_rank smallint, maturity text, first_seen timestamptz, last_seen timestamptz,
                                              count_added bigint, entity jsonb, tags text[], data_classes text[], explanation jsonb, summary text, evidence jsonb,
                                              deadlines jsonb, resolve_after_ms bigint, applied_at timestamptz, versions_added int)
      WHERE i.id = u.id
      RETURNING ${MERGE_RETURNING}`,
    [JSON.stringify(values)],
  );
  const byId = new Map(rows.map((row) => [Number(row.id), row]));
  return groups.map((group, n) => {
    const row = byId.get(group.incident.id);
    if (row === undefined) throw new StoreError(`incident ${group.incident.id} (${group.fingerprint}) was not updated`, false);
    const steps = folds[n]!;
    const sameEvidence = values[n]!.evidence === undefined;
    const written = sameEvidence ? { ...decodeIncidentRow(row), evidence: group.incident.evidence } : decodeIncidentRow(row);
    settleFold(steps, written, false, context);
    steps[steps.length - 1]!.incident = written;
    return steps;
  });
}

/** Opens the incident as the group leaves it; undefined when a live incident of the fingerprint exists after all (ON CONFLICT). */
async function openGroup(tx: SqlQueryable, fingerprint: string, detections: readonly Detection[], context: UpsertContext): Promise<FoldStep[] | undefined> {
  const steps = foldDetections(null, fingerprint, detections, context);
  const last = steps[steps.length - 1]!.incident;
  const [row] = await tx.query<IncidentRow>(
    `INSERT INTO jaga_incident (fingerprint, detector_id, title, severity, severity_rank, maturity, first_seen, last_seen, count, server,
                               "group", entity, tags, data_classes, explanation, summary, evidence, previous_incident_id,
                               deadlines, resolve_after_ms, last_detected_at, created_at, updated_at, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9::bigint, $10, $11::jsonb, $12::jsonb, $13::text[], $14::text[], $15::jsonb, $16, $17::jsonb,
             (SELECT max(id) FROM jaga_incident WHERE fingerprint = $1 AND status = 'resolved'),
             $18::jsonb, $19::bigint, coalesce($20::timestamptz, now()), coalesce($20::timestamptz, now()), coalesce($20::timestamptz, now()), $21::int)
     ON CONFLICT (fingerprint) WHERE ${LIVE} DO NOTHING
     RETURNING ${INCIDENT_COLUMNS}`,
    [
      fingerprint,
      last.detectorId,
      last.title,
      last.severity,
      severityRank(last.severity),
      last.maturity,
      last.firstSeen.toISOString(),
      last.lastSeen.toISOString(),
      last.count,
      last.server,
      JSON.stringify(last.group),
      JSON.stringify(last.entity),
      last.tags,
      last.dataClasses,
      JSON.stringify(last.explanation),
      last.summary,
      JSON.stringify(last.evidence),
      last.deadlines === null ? null : JSON.stringify(last.deadlines),
      last.resolveAfterMs ?? null,
      context.appliedAt?.toISOString() ?? null,
      last.version,
    ],
  );
  if (row === undefined) return undefined;
  const written = decodeIncidentRow(row);
  settleFold(steps, written, true, context);
  steps[steps.length - 1]!.incident = written;
  return steps;
}
