import { SEVERITIES, type Detection, type DetectionEntity, type EvidenceItem, type Severity } from '../domain/detection.js';
import type { Incident } from '../domain/incident.js';

/** Most evidence items an incident keeps (the first ones applied; later ones are dropped). */
export const INCIDENT_EVIDENCE_LIMIT = 50;

/** The parts of a live incident a detection changes that are computed in code (times and count are summed in SQL). */
export interface DetectionMerge {
  /** the higher of the incident's and the detection's severity */
  severity: Severity;
  /** true when the detection's severity is above the incident's */
  severityRaised: boolean;
  /** the incident's entity with its null fields filled from the detection's */
  entity: DetectionEntity;
  /** union, sorted */
  tags: string[];
  /** union, sorted */
  dataClasses: string[];
  /** the incident's evidence, then the detection's items with an event_id not yet present, at most INCIDENT_EVIDENCE_LIMIT */
  evidence: EvidenceItem[];
}

/** Index of a severity on the ladder info (0) ... critical (4). @throws RangeError for an unknown severity. */
export function severityRank(severity: Severity): number {
  const rank = SEVERITIES.indexOf(severity);
  if (rank < 0) throw new RangeError(`unknown severity ${JSON.stringify(severity)}: expected one of ${SEVERITIES.join(', ')}`);
  return rank;
}

/**
 * How a detection changes a live incident of its fingerprint (pure): severity only rises, entity gaps
 * are filled, tags and data classes are unions, evidence is appended up to the bound. Title, maturity,
 * explanation and summary simply become the detection's, and count/first_seen/last_seen are combined
 * in SQL (see IncidentRepository.upsert).
 *
 * @throws RangeError for an unknown severity.
 */
export function mergeDetection(
  incident: Pick<Incident, 'severity' | 'entity' | 'tags' | 'dataClasses' | 'evidence'>,
  detection: Pick<Detection, 'severity' | 'entity' | 'tags' | 'dataClasses' | 'evidence'>,
): DetectionMerge {
  const severityRaised = severityRank(detection.severity) > severityRank(incident.severity);
  return {
    severity: severityRaised ? detection.severity : incident.severity,
    severityRaised,
    entity: {
      user: incident.entity.user ?? detection.entity.user,
      database: incident.entity.database ?? detection.entity.database,
      client_addr: incident.entity.client_addr ?? detection.entity.client_addr,
      application_name: incident.entity.application_name ?? detection.entity.application_name,
    },
    tags: sortedUnion(incident.tags, detection.tags),
    dataClasses: sortedUnion(incident.dataClasses, detection.dataClasses),
    evidence: appendEvidence(incident.evidence, detection.evidence),
  };
}

/**
 * `existing` then the items of `added` whose event_id is in neither (first occurrence wins), cut at
 * INCIDENT_EVIDENCE_LIMIT items.
 */
export function appendEvidence(existing: readonly EvidenceItem[], added: readonly EvidenceItem[]): EvidenceItem[] {
  const seen = new Set<string>();
  const result: EvidenceItem[] = [];
  for (const item of [...existing, ...added]) {
    if (result.length >= INCIDENT_EVIDENCE_LIMIT) break;
    if (seen.has(item.event_id)) continue;
    seen.add(item.event_id);
    result.push(item);
  }
  return result;
}

/** Distinct values of both lists, sorted by UTF-16 code units (locale-independent, so stable everywhere). */
function sortedUnion(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
