/**
 * Errors of the incident lifecycle (acknowledge, resolve, reopen), declared in domain so every surface
 * (HTTP, CLI) can tell them apart with `instanceof` without importing the incidents stage. Each has a
 * stable `code` a client can branch on (the HTTP API answers 404 / 409 / 409 with it).
 */
import { JagaError } from './errors.js';
import type { IncidentStatus } from './incident.js';

/** No incident has this id. Code `incident_not_found`. */
export class IncidentNotFoundError extends JagaError {
  constructor(readonly incidentId: number) {
    super('incident_not_found', `incident ${incidentId} does not exist`);
  }
}

/**
 * The caller acted on a version of the incident that is no longer current (optimistic concurrency:
 * someone or something changed it in between). Code `incident_version_conflict`.
 */
export class IncidentConflictError extends JagaError {
  constructor(
    readonly incidentId: number,
    /** the version the caller had seen */
    readonly expectedVersion: number,
    /** the version stored now */
    readonly actualVersion: number,
  ) {
    super('incident_version_conflict', `incident ${incidentId} is at version ${actualVersion}, not ${expectedVersion}: reload it and try again`);
  }
}

/** The lifecycle actions an `IncidentStateError` can be about. */
export type IncidentAction = 'acknowledge' | 'resolve' | 'reopen';

/**
 * The action is not allowed in the incident's current state: acknowledging an acknowledged or resolved
 * incident, resolving a resolved one, reopening a live one, or reopening while another live incident
 * holds the fingerprint. Code `incident_invalid_state`.
 */
export class IncidentStateError extends JagaError {
  constructor(
    readonly incidentId: number,
    readonly action: IncidentAction,
    /** the incident's status when the action was refused */
    readonly status: IncidentStatus,
    /** why, in words, e.g. `it is resolved` */
    reason: string,
  ) {
    super('incident_invalid_state', `cannot ${action} incident ${incidentId}: ${reason}`);
  }
}
