import type { Severity } from '../domain/detection.js';
import type { IncidentDetailJson, IncidentJson, IncidentStatus } from '../domain/incident.js';
import type { TimelineEntryJson } from '../domain/incident-timeline.js';

/** Filter of `GET /api/incidents` and the page's list; all optional, combined with AND. */
export interface IncidentListQuery {
  /** any of these statuses */
  status?: readonly IncidentStatus[];
  /** any of these severities */
  severity?: readonly Severity[];
  /** detector (rule) id, exact */
  detector?: string;
  /** last_seen at or after */
  since?: Date;
  /** first_seen at or before */
  until?: Date;
  /** at most this many, 1..1000 (the API's default 100) */
  limit?: number;
}

/** `GET /api/incidents/:id`: the detail shape plus its timeline (src/domain/incident-timeline.ts JSON shape, oldest first). */
export interface IncidentWithTimelineJson extends IncidentDetailJson {
  timeline: TimelineEntryJson[];
}

/**
 * Read port of the HTTP stage (implemented by the composition root over IncidentRepository and the
 * incidents service's timeline). Shapes are src/domain/incident.ts's JSON shapes.
 */
export interface IncidentQueries {
  /** Incidents matching the filter, most recent activity first. @throws StoreError */
  list(filter: IncidentListQuery): Promise<IncidentJson[]>;
  /** One incident with its timeline, or null when there is none with this id. @throws StoreError */
  get(id: number): Promise<IncidentWithTimelineJson | null>;
}
