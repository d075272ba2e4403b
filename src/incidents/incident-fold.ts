import type { Detection, DetectionEntity, EvidenceItem, Severity } from '../domain/detection.js';
import type { Incident } from '../domain/incident.js';
import type { UpsertContext, UpsertOutcome } from './incident-repository.js';
import { jsonbValue } from './jsonb-value.js';
import { appendEvidence, mergeDetection } from './merge-detection.js';

/** One detection folded into an incident: the incident after it, and what it did. */
export interface FoldStep {
  incident: Incident;
  outcome: Exclude<UpsertOutcome, 'duplicate'>;
  /** for `severity_raised`: the severity before the detection */
  previousSeverity?: Severity;
}

/**
 * The incident states that applying `detections` one by one would leave, computed in memory (pure), so
 * that a fingerprint's detections of one commit are written by ONE statement while every detection still
 * gets its own change with the incident as it was right after it (IncidentRepository.upsertMany).
 *
 * Each state is what one statement per detection would store and return (see IncidentRepository.upsert):
 * - opening (`base` null, first detection): status `open`, version 1, the detection's fields, tags and
 *   data classes distinct and sorted, evidence unique by event_id (at most 50), deadlines and
 *   auto-resolve period from `context`, no acknowledgement or resolution;
 * - merging: `mergeDetection` (severity only rises, entity gaps filled, unions, evidence appended),
 *   title/maturity/explanation/summary from the detection, first_seen earliest, last_seen latest,
 *   count summed, deadlines recomputed, resolve_after_ms replaced when `context` gives one, version + 1.
 * jsonb-backed fields (group, entity, explanation, evidence items, deadlines) are given in jsonb's key
 * order (jsonbValue), as a read of the row would give them; an evidence list a detection leaves as it is
 * stays the same array.
 *
 * What only the store knows is left as a placeholder (id 0, previous id null, times `context.appliedAt`
 * or the epoch) and filled in by `settleFold` once the write returned the row: the id, the previous
 * incident id and created_at of an incident this fold opens, and updated_at when `context.appliedAt` is
 * absent (the transaction's now(), the same for every statement of it).
 *
 * @param base the live incident as this transaction read it FOR UPDATE, or null when none is live
 * @param detections checked detections (times as `Date#toISOString` text), none applied before
 * @returns one step per detection, in order
 * @throws RangeError for an unknown severity (checkedDetection rejects it earlier)
 */
export function foldDetections(base: Incident | null, fingerprint: string, detections: readonly Detection[], context: UpsertContext): FoldStep[] {
  const steps: FoldStep[] = [];
  let current = base;
  for (const detection of detections) {
    const step = current === null ? { incident: openedIncident(fingerprint, detection, context), outcome: 'opened' as const } : mergedIncident(current, detection, context);
    steps.push(step);
    current = step.incident;
  }
  return steps;
}

/**
 * Fills in what only the store knows (see foldDetections) from `written`, the row the fold's one write
 * returned: when the fold opened the incident (`opened`), its id, previous incident id and created_at in
 * every step; when `context.appliedAt` is absent, updated_at (and created_at of an opened one) in every
 * step. Mutates the steps' incidents (fresh objects of the fold).
 */
export function settleFold(steps: readonly FoldStep[], written: Incident, opened: boolean, context: UpsertContext): void {
  for (const step of steps) {
    const incident = step.incident;
    if (opened) {
      incident.id = written.id;
      incident.previousIncidentId = written.previousIncidentId;
      incident.createdAt = written.createdAt;
    }
    if (context.appliedAt === undefined) incident.updatedAt = written.updatedAt;
  }
}

/** `evidence` as stored: the items kept from `before` (already as stored) as they are, the detection's added ones through jsonbValue. */
function storedEvidence(evidence: readonly EvidenceItem[], before: readonly EvidenceItem[]): EvidenceItem[] {
  const kept = new Set(before);
  return evidence.map((item) => (kept.has(item) ? item : (jsonbValue(item) as EvidenceItem)));
}

/** Placeholder of what only the store knows, until settleFold. */
const UNSETTLED_AT = new Date(0);

function openedIncident(fingerprint: string, detection: Detection, context: UpsertContext): Incident {
  const dataClasses = [...new Set(detection.dataClasses)].sort();
  const firstSeen = new Date(detection.firstSeen);
  const deadlines = context.deadlines ? context.deadlines({ firstSeen, dataClasses, deadlines: null }) : null;
  const at = context.appliedAt ?? UNSETTLED_AT;
  return {
    id: 0,
    fingerprint,
    detectorId: detection.detectorId,
    title: detection.title,
    severity: detection.severity,
    maturity: detection.maturity,
    status: 'open',
    version: 1,
    firstSeen,
    lastSeen: new Date(detection.lastSeen),
    count: detection.count,
    server: detection.server,
    group: jsonbValue(detection.group) as Incident['group'],
    entity: jsonbValue(detection.entity) as DetectionEntity,
    tags: [...new Set(detection.tags)].sort(),
    dataClasses,
    explanation: jsonbValue(detection.explanation) as Record<string, unknown>,
    summary: detection.summary,
    evidence: jsonbValue(appendEvidence([], detection.evidence)) as EvidenceItem[],
    deadlines: deadlines === null ? null : (jsonbValue(deadlines) as Record<string, unknown>),
    previousIncidentId: null,
    createdAt: at,
    updatedAt: at,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    resolveAfterMs: context.resolveAfterMs ? context.resolveAfterMs(detection.detectorId) : null,
  };
}

function mergedIncident(incident: Incident, detection: Detection, context: UpsertContext): FoldStep {
  const merged = mergeDetection(incident, detection);
  const sameEvidence = merged.evidence.length === incident.evidence.length && merged.evidence.every((item, i) => item === incident.evidence[i]);
  const firstSeen = new Date(Math.min(incident.firstSeen.getTime(), Date.parse(detection.firstSeen)));
  const deadlines = context.deadlines ? context.deadlines({ firstSeen, dataClasses: merged.dataClasses, deadlines: incident.deadlines }) : incident.deadlines;
  const after: Incident = {
    ...incident,
    title: detection.title,
    severity: merged.severity,
    maturity: detection.maturity,
    version: incident.version + 1,
    firstSeen,
    lastSeen: new Date(Math.max(incident.lastSeen.getTime(), Date.parse(detection.lastSeen))),
    count: incident.count + detection.count,
    entity: jsonbValue(merged.entity) as DetectionEntity,
    tags: merged.tags,
    dataClasses: merged.dataClasses,
    explanation: jsonbValue(detection.explanation) as Record<string, unknown>,
    summary: detection.summary,
    evidence: sameEvidence ? incident.evidence : storedEvidence(merged.evidence, incident.evidence),
    deadlines: deadlines === null ? null : (jsonbValue(deadlines) as Record<string, unknown>),
    updatedAt: context.appliedAt ?? UNSETTLED_AT,
    resolveAfterMs: context.resolveAfterMs ? context.resolveAfterMs(detection.detectorId) : incident.resolveAfterMs,
  };
  return merged.severityRaised ? { incident: after, outcome: 'severity_raised', previousSeverity: incident.severity } : { incident: after, outcome: 'updated' };
}
