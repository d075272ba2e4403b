import type { DetectionEntity, EvidenceItem, Maturity, Severity } from '../domain/detection.js';
import type { Incident, IncidentStatus } from '../domain/incident.js';

/** The columns of `jaga_incident` every read selects, in the order of the table (migrations 0002_incidents, 0003_incident_lifecycle). */
export const INCIDENT_COLUMNS =
  'id, fingerprint, detector_id, title, severity, maturity, status, version, first_seen, last_seen, count, server, "group", ' +
  'entity, tags, data_classes, explanation, summary, evidence, deadlines, previous_incident_id, created_at, updated_at, ' +
  'acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolve_after_ms';

/** A `jaga_incident` row as both store drivers return it (int8 as number when safe, else bigint; jsonb parsed). */
export interface IncidentRow {
  id: number | bigint;
  fingerprint: string;
  detector_id: string;
  title: string;
  severity: Severity;
  maturity: Maturity;
  status: IncidentStatus;
  version: number;
  first_seen: Date;
  last_seen: Date;
  count: number | bigint;
  server: string;
  group: Record<string, string | number | null>;
  entity: DetectionEntity;
  tags: string[];
  data_classes: string[];
  explanation: Record<string, unknown>;
  summary: string;
  evidence: EvidenceItem[];
  deadlines: Record<string, unknown> | null;
  previous_incident_id: number | bigint | null;
  created_at: Date;
  updated_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolve_after_ms: number | bigint | null;
}

/** Decodes a row selected with INCIDENT_COLUMNS into an `Incident` (ids and count as numbers). */
export function decodeIncidentRow(row: IncidentRow): Incident {
  return {
    id: Number(row.id),
    fingerprint: row.fingerprint,
    detectorId: row.detector_id,
    title: row.title,
    severity: row.severity,
    maturity: row.maturity,
    status: row.status,
    version: row.version,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    count: Number(row.count),
    server: row.server,
    group: row.group,
    entity: row.entity,
    tags: row.tags,
    dataClasses: row.data_classes,
    explanation: row.explanation,
    summary: row.summary,
    evidence: row.evidence,
    deadlines: row.deadlines,
    previousIncidentId: row.previous_incident_id === null ? null : Number(row.previous_incident_id),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: row.resolved_at,
    resolvedBy: row.resolved_by,
    resolveAfterMs: row.resolve_after_ms === null ? null : Number(row.resolve_after_ms),
  };
}
