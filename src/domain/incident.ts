/**
 * The incident (DESIGN.md vocabulary: incident): the persisted, deduplicated case a responder works,
 * and its one JSON shape. Every surface that shows incidents (`jaga replay`, `jaga incidents list|show|export`,
 * the HTTP API, notification payloads) prints `toIncidentJson` (lists) or `toIncidentDetailJson`
 * (one incident with its evidence), so the shape is defined once, here.
 *
 * JSON field names are snake_case because the shape is a data format; times are ISO-8601 UTC strings
 * with milliseconds (`2026-01-01T00:00:10.000Z`).
 */
import type { DetectionEntity, EvidenceItem, Maturity, Severity } from './detection.js';

/**
 * Lifecycle states, in order: open -> acknowledged -> resolved. A responder may reopen a resolved incident
 * (back to open) while no other live incident holds its fingerprint; a detection after a resolve opens a new one.
 */
export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/**
 * An incident as stored (table `jaga_incident`, migration 0002_incidents), decoded.
 *
 * Example: `{ id: 7, fingerprint: '225b73211dcae0f7e1a933f66145e39f', detectorId: 'jaga.auth.brute_force',
 * title: 'Brute force against a role', severity: 'high', maturity: 'stable', status: 'open', version: 3,
 * firstSeen: 2026-01-01T00:00:00.000Z, lastSeen: 2026-01-01T00:00:42.000Z, count: 30, server: 'db1',
 * group: { user: 'dba_admin' }, entity: { user: 'dba_admin', database: 'crm', client_addr: '10.0.0.5',
 * application_name: null }, tags: ['attack.t1110'], dataClasses: [], explanation: { count: 10, threshold: 10 },
 * summary: '10 failed logins for dba_admin within 60s', evidence: [...], deadlines: null,
 * previousIncidentId: null, createdAt: ..., updatedAt: ... }`
 */
export interface Incident {
  /** store-assigned, increasing */
  id: number;
  /** IncidentFingerprint: 32 hex chars of sha256 over [server, detectorId, groupKey] */
  fingerprint: string;
  /** rule id, or `baseline.<name>` */
  detectorId: string;
  /** of the latest applied detection */
  title: string;
  /** the highest severity of any applied detection (never falls) */
  severity: Severity;
  /** of the latest applied detection */
  maturity: Maturity;
  status: IncidentStatus;
  /** optimistic concurrency: 1 when opened, +1 on every change */
  version: number;
  /** earliest event time of any applied detection */
  firstSeen: Date;
  /** latest event time of any applied detection */
  lastSeen: Date;
  /** sum of the applied detections' counts */
  count: number;
  /** source name of the contributing events */
  server: string;
  /** the group_by values (empty object when the rule has no group_by) */
  group: Record<string, string | number | null>;
  /** who it is about: from the first detection, fields still null filled by later ones */
  entity: DetectionEntity;
  /** union of the applied detections' tags, sorted */
  tags: string[];
  /** union of the applied detections' data classes, sorted */
  dataClasses: string[];
  /** why: the latest applied detection's explanation */
  explanation: Record<string, unknown>;
  /** one line without literals or parameters: the latest applied detection's summary */
  summary: string;
  /** redacted evidence, oldest applied first, unique by event_id, at most 50 items */
  evidence: EvidenceItem[];
  /** regulatory deadlines by clock name (`IncidentDeadline` values, see `deadlineStatus`); null when no clock applies */
  deadlines: Record<string, unknown> | null;
  /** the last resolved incident of the same fingerprint when this one opened, else null */
  previousIncidentId: number | null;
  createdAt: Date;
  updatedAt: Date;
  /** when a responder last acknowledged it; null when never or reopened since (absent on objects built without the lifecycle columns) */
  acknowledgedAt?: Date | null;
  /** actor of that acknowledgement, e.g. `responder:alice` */
  acknowledgedBy?: string | null;
  /** when it was resolved; null while live */
  resolvedAt?: Date | null;
  /** actor of the resolve: `responder:<name>` or `system` (auto-resolve) */
  resolvedBy?: string | null;
  /** quiet period after which it auto-resolves (per rule), ms; null = the configured default */
  resolveAfterMs?: number | null;
}

/**
 * One regulatory deadline as stored in `Incident.deadlines`, keyed by the clock's name (config
 * `incidents.regulatory[].name`). Example: `{ gdpr_art33: { title: 'GDPR Art. 33: notify the supervisory
 * authority', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259200000 } }`.
 */
export interface IncidentDeadline {
  title: string;
  /** ISO-8601 UTC: the incident's first detection (first_seen) + within_ms */
  due_at: string;
  /** the clock's period, ms (72 h = 259200000) */
  within_ms: number;
}

/** A deadline with the time left at some instant (see `deadlineStatus`). */
export interface DeadlineStatus extends IncidentDeadline {
  /** the clock's name, e.g. `gdpr_art33` */
  name: string;
  /** due_at minus now, ms; negative once the deadline has passed */
  left_ms: number;
}

/**
 * The list shape of an incident (one line of `jaga replay`, an item of `GET /incidents`). Key order is
 * fixed (the order below), so printed lines are stable. Evidence is not part of it.
 */
export interface IncidentJson {
  id: number;
  fingerprint: string;
  /** the detector id (rule id or `baseline.<name>`) */
  detector: string;
  title: string;
  severity: Severity;
  maturity: Maturity;
  status: IncidentStatus;
  version: number;
  /** ISO-8601 UTC */
  first_seen: string;
  /** ISO-8601 UTC */
  last_seen: string;
  count: number;
  server: string;
  group: Record<string, string | number | null>;
  entity: DetectionEntity;
  tags: string[];
  data_classes: string[];
  explanation: Record<string, unknown>;
  deadlines: Record<string, unknown> | null;
  summary: string;
}

/** The detail shape of one incident: the list shape plus its link, times, redacted evidence and who acknowledged/resolved it when. */
export interface IncidentDetailJson extends IncidentJson {
  previous_incident_id: number | null;
  /** ISO-8601 UTC */
  created_at: string;
  /** ISO-8601 UTC */
  updated_at: string;
  evidence: EvidenceItem[];
  /** ISO-8601 UTC, or null */
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  /** ISO-8601 UTC, or null */
  resolved_at: string | null;
  resolved_by: string | null;
}

/** The list shape of an incident (see `IncidentJson`); copies arrays and objects, so the result is independent. */
export function toIncidentJson(incident: Incident): IncidentJson {
  return {
    id: incident.id,
    fingerprint: incident.fingerprint,
    detector: incident.detectorId,
    title: incident.title,
    severity: incident.severity,
    maturity: incident.maturity,
    status: incident.status,
    version: incident.version,
    first_seen: incident.firstSeen.toISOString(),
    last_seen: incident.lastSeen.toISOString(),
    count: incident.count,
    server: incident.server,
    group: { ...incident.group },
    entity: {
      user: incident.entity.user,
      database: incident.entity.database,
      client_addr: incident.entity.client_addr,
      application_name: incident.entity.application_name,
    },
    tags: [...incident.tags],
    data_classes: [...incident.dataClasses],
    explanation: structuredClone(incident.explanation),
    deadlines: incident.deadlines === null ? null : structuredClone(incident.deadlines),
    summary: incident.summary,
  };
}

/** The detail shape of an incident (see `IncidentDetailJson`): `toIncidentJson` plus link, times and evidence. */
export function toIncidentDetailJson(incident: Incident): IncidentDetailJson {
  return {
    ...toIncidentJson(incident),
    previous_incident_id: incident.previousIncidentId,
    created_at: incident.createdAt.toISOString(),
    updated_at: incident.updatedAt.toISOString(),
    evidence: incident.evidence.map((item) => ({ ...item })),
    acknowledged_at: incident.acknowledgedAt?.toISOString() ?? null,
    acknowledged_by: incident.acknowledgedBy ?? null,
    resolved_at: incident.resolvedAt?.toISOString() ?? null,
    resolved_by: incident.resolvedBy ?? null,
  };
}

/**
 * The incident's regulatory deadlines with the time left at `now`, soonest first (ties by name).
 * Entries of `deadlines` that are not `IncidentDeadline`-shaped are skipped (never thrown on).
 * Example: an incident first seen 2026-01-01T00:00Z with a 72 h clock, at 2026-01-03T23:00Z →
 * `[{ name: 'gdpr_art33', title: '…', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259200000, left_ms: 3600000 }]`.
 */
export function deadlineStatus(incident: Pick<Incident, 'deadlines'>, now: Date): DeadlineStatus[] {
  const result: DeadlineStatus[] = [];
  for (const [name, value] of Object.entries(incident.deadlines ?? {})) {
    if (typeof value !== 'object' || value === null) continue;
    const { title, due_at, within_ms } = value as Partial<IncidentDeadline>;
    const dueMs = typeof due_at === 'string' ? Date.parse(due_at) : Number.NaN;
    if (typeof title !== 'string' || typeof within_ms !== 'number' || Number.isNaN(dueMs)) continue;
    result.push({ name, title, due_at: new Date(dueMs).toISOString(), within_ms, left_ms: dueMs - now.getTime() });
  }
  return result.sort((a, b) => a.left_ms - b.left_ms || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
