import type { Detection } from '../domain/detection.js';
import { StoreError } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import { FingerprintBatch, LIVE_INCIDENT as LIVE } from './fingerprint-batch.js';
import { foldDetections, settleFold, type FoldStep } from './incident-fold.js';
import type { UpsertContext } from './incident-repository.js';
import { decodeIncidentRow, INCIDENT_COLUMNS, INCIDENT_COLUMNS_BUT_EVIDENCE, type IncidentRow } from './incident-row.js';
import { severityRank } from './merge-detection.js';

/** How many times an opening INSERT is retried after it met a live incident it did not see (written without the lock). */
const MAX_OPEN_ATTEMPTS = 3;

/**
 * Applies one fingerprint's new detections (none applied before, in order) under its lock with ONE
 * statement: an UPDATE of the live incident `live` (as this transaction read it FOR UPDATE or last wrote
 * it), or, when none is live, one INSERT of the incident as all of them leave it (read again FOR UPDATE
 * and folded into that one when a live incident appeared meanwhile: written without the lock, so a
 * conflict is possible). The per-detection states come from foldDetections, so the steps are those of
 * applying the detections one by one (same versions, counts, severities, evidence...), and the last
 * step's incident is the row as the statement returned it.
 *
 * The UPDATE combines times and count relative to the row (`least`, `greatest`, `count + n`,
 * `version + k`) like the per-detection statement did; the other columns get the last state's values. A
 * group that adds no evidence item leaves the evidence column alone (neither written nor returned).
 *
 * @returns one step per detection, in order
 * @throws StoreError from the store, or (transient) when a live incident kept appearing while opening one
 */
export async function applyFingerprintGroup(tx: SqlQueryable, fingerprint: string, live: Incident | null, detections: readonly Detection[], context: UpsertContext): Promise<FoldStep[]> {
  if (live !== null) return mergeGroup(tx, live, fingerprint, detections, context);
  for (let attempt = 1; ; attempt += 1) {
    const current = attempt === 1 ? null : ((await FingerprintBatch.liveOf(tx, [fingerprint])).get(fingerprint) ?? null);
    const steps = current !== null ? await mergeGroup(tx, current, fingerprint, detections, context) : await openGroup(tx, fingerprint, detections, context);
    if (steps !== undefined) return steps;
    if (attempt >= MAX_OPEN_ATTEMPTS) {
      throw new StoreError(`incident ${fingerprint}: a live incident kept appearing while opening one (${attempt} attempts)`, true);
    }
  }
}

async function mergeGroup(tx: SqlQueryable, incident: Incident, fingerprint: string, detections: readonly Detection[], context: UpsertContext): Promise<FoldStep[]> {
  const steps = foldDetections(incident, fingerprint, detections, context);
  const last = steps[steps.length - 1]!.incident;
  const sameEvidence = last.evidence === incident.evidence;
  // times and count from the fold (it started from this row): least / greatest / + keep the statement relative to the row
  const [row] = await tx.query<IncidentRow>(
    `UPDATE jaga_incident
        SET title = $2, severity = $3, severity_rank = $4, maturity = $5,
            first_seen = least(first_seen, $6::timestamptz), last_seen = greatest(last_seen, $7::timestamptz), count = count + $8::bigint,
            entity = $9::jsonb, tags = $10::text[], data_classes = $11::text[], explanation = $12::jsonb, summary = $13, evidence = coalesce($14::jsonb, evidence),
            deadlines = $15::jsonb, resolve_after_ms = coalesce($16::bigint, resolve_after_ms),
            last_detected_at = coalesce($17::timestamptz, now()), version = version + $18::int, updated_at = coalesce($17::timestamptz, now())
      WHERE id = $1
      RETURNING ${sameEvidence ? INCIDENT_COLUMNS_BUT_EVIDENCE : INCIDENT_COLUMNS}`,
    [
      incident.id,
      last.title,
      last.severity,
      severityRank(last.severity),
      last.maturity,
      last.firstSeen.toISOString(),
      last.lastSeen.toISOString(),
      last.count - incident.count,
      JSON.stringify(last.entity),
      last.tags,
      last.dataClasses,
      JSON.stringify(last.explanation),
      last.summary,
      sameEvidence ? null : JSON.stringify(last.evidence),
      last.deadlines === null ? null : JSON.stringify(last.deadlines),
      context.resolveAfterMs ? last.resolveAfterMs : null,
      context.appliedAt?.toISOString() ?? null,
      detections.length,
    ],
  );
  const written = sameEvidence ? { ...decodeIncidentRow(row!), evidence: incident.evidence } : decodeIncidentRow(row!);
  settleFold(steps, written, false, context);
  steps[steps.length - 1]!.incident = written;
  return steps;
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
