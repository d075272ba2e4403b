import type { IncidentJson } from '../domain/incident.js';

/** The lifecycle moves a responder makes. */
export const INCIDENT_ACTIONS = ['ack', 'resolve', 'reopen'] as const;
export type IncidentActionName = (typeof INCIDENT_ACTIONS)[number];

/** Who acts and on which version. */
export interface IncidentActionBy {
  /** `responder:<token name>` (API, page) or `responder:link:<notification id>` (one-click link) */
  actor: string;
  /** free text from the responder (at most 2000 chars), or null */
  note: string | null;
  /** the version the responder saw; null acts on whatever version is current */
  expectedVersion: number | null;
}

/**
 * Write port of the HTTP stage: the composition root implements it with the incidents service and the
 * notify planner in one store transaction, so the action's timeline row and its notifications commit
 * together. Errors are recognised by their `code` property:
 * `incident_version_conflict` (stale expectedVersion) → 409, `incident_not_found` → 404,
 * `incident_invalid_state` (e.g. ack of a resolved incident; `incident_state` is accepted too) → 409; anything else → 500.
 */
export interface IncidentActions {
  /** @returns the incident after the change (list shape) */
  ack(id: number, by: IncidentActionBy): Promise<IncidentJson>;
  resolve(id: number, by: IncidentActionBy): Promise<IncidentJson>;
  reopen(id: number, by: IncidentActionBy): Promise<IncidentJson>;
}
