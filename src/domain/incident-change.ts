/**
 * One change to an incident (DESIGN.md section 6): what the incidents stage hands to the notify stage
 * inside the SAME store transaction that made the change, so an incident change and its outbox rows
 * commit together or not at all. Every change is also one row of the incident's append-only timeline.
 *
 * Example (an incident opened by a rule detection):
 * `{ id: 'c3f2…(32 hex)', kind: 'opened', incident: {…state after the change…}, previousSeverity: null,
 *   actor: 'rule:jaga.auth.brute_force', at: 2026-01-01T00:00:42.000Z, note: null, escalationStep: null,
 *   deadline: null }`
 */
import type { Severity } from './detection.js';
import type { Incident } from './incident.js';

/**
 * The kinds of change, in the order an incident usually sees them.
 * - `opened`: a detection opened a new incident (after a resolve, a new one linked by `previousIncidentId`)
 * - `updated`: a detection merged into the live incident without raising its severity (count, last_seen, evidence)
 * - `severity_raised`: a detection merged and raised the severity (`previousSeverity` holds the old one)
 * - `acknowledged` / `resolved` / `reopened`: lifecycle moves by a responder or `system` (auto-resolve)
 * - `escalated`: unacknowledged past a bound; `escalationStep` is 1, 2, ... (each fires once per incident)
 * - `deadline_reminder`: a regulatory deadline is near while the incident is open; `deadline` says which
 */
export const INCIDENT_CHANGE_KINDS = [
  'opened',
  'updated',
  'severity_raised',
  'acknowledged',
  'resolved',
  'reopened',
  'escalated',
  'deadline_reminder',
] as const;
export type IncidentChangeKind = (typeof INCIDENT_CHANGE_KINDS)[number];

/** A regulatory deadline a reminder is about. */
export interface DeadlineRef {
  /** the clock's configured name, e.g. `gdpr_art33`, `uu_pdp_art46` */
  name: string;
  /** when it passes, ISO-8601 UTC */
  due_at: string;
  /** how long before `due_at` this reminder fires, ms */
  before_ms: number;
}

/** One incident change (see the file comment). */
export interface IncidentChange {
  /**
   * Deterministic id (32 hex chars): the same change replayed after a crash gets the same id, so a
   * notification built from it carries a stable id a reader can dedupe by. Detection changes (opened,
   * updated, severity_raised) hash the fingerprint, kind and detection id (a rolled-back transaction
   * burns an incident id, so the incident id would not be stable); lifecycle and job changes hash the
   * incident id, kind and what makes them unique (the version acted on, escalation step, deadline and
   * reminder offset). See src/incidents/incident-change-id.ts.
   */
  id: string;
  kind: IncidentChangeKind;
  /** the incident as it is after the change */
  incident: Incident;
  /** for `severity_raised`: the severity before; else null */
  previousSeverity: Severity | null;
  /** who: `system`, `rule:<rule id>` (or `baseline:<name>`), `responder:<token name>` */
  actor: string;
  /** when the change was made (wall clock of the agent, UTC) */
  at: Date;
  /** responder's note (ack/resolve/reopen), else null; free text written by a responder, never event data */
  note: string | null;
  /** for `escalated`: the step, 1-based; else null */
  escalationStep: number | null;
  /** for `deadline_reminder`: the deadline; else null */
  deadline: DeadlineRef | null;
}
