/**
 * The incident timeline (DESIGN.md section 6: who did what, when): one append-only entry per
 * IncidentChange (src/domain/incident-change.ts), stored in `jaga_incident_timeline` (migration
 * 0003_incident_lifecycle). Entries carry no customer data: `detail` holds counts, severities,
 * escalation steps and deadlines only; `note` is a responder's own free text.
 */
import type { IncidentChangeKind } from './incident-change.js';

/**
 * What a timeline entry records beyond kind, actor and time, by kind:
 * - `opened`: `{ detection_id, count_delta, count, severity }`
 * - `updated`: `{ detection_id, count_delta, count }`
 * - `severity_raised`: `{ detection_id, count_delta, count, previous_severity, severity }`
 * - `acknowledged` / `reopened`: `{ version }` (the version after the change)
 * - `resolved`: `{ version }`, plus `{ reason: 'quiet', quiet_ms }` for an auto-resolve by `system`
 * - `escalated`: `{ step, after_ms }` (after_ms: the configured bound since the incident opened)
 * - `deadline_reminder`: `{ deadline, due_at, before_ms }`
 */
export type TimelineDetail = Record<string, string | number | null>;

/** One timeline entry, decoded. */
export interface TimelineEntry {
  /** the IncidentChange id (32 hex chars, deterministic) */
  changeId: string;
  incidentId: number;
  kind: IncidentChangeKind;
  /** `system`, `rule:<rule id>`, `baseline:<name>` or `responder:<name>` */
  actor: string;
  /** when the change was made (agent wall clock, UTC) */
  at: Date;
  /** the responder's note, else null */
  note: string | null;
  detail: TimelineDetail;
}

/**
 * The JSON shape of a timeline entry (`jaga incidents show`, the HTTP API), keys in this order.
 * Example: `{"change_id":"5f0c…","kind":"acknowledged","actor":"responder:alice","at":"2026-01-01T00:10:00.000Z",
 * "note":"looking","detail":{"version":2}}`
 */
export interface TimelineEntryJson {
  change_id: string;
  kind: IncidentChangeKind;
  actor: string;
  /** ISO-8601 UTC with milliseconds */
  at: string;
  note: string | null;
  detail: TimelineDetail;
}

/** The JSON shape of a timeline entry (see `TimelineEntryJson`); copies `detail`. */
export function toTimelineEntryJson(entry: TimelineEntry): TimelineEntryJson {
  return { change_id: entry.changeId, kind: entry.kind, actor: entry.actor, at: entry.at.toISOString(), note: entry.note, detail: { ...entry.detail } };
}
