import type { Store } from '../db/store.js';
import { ConfigError, JagaError } from '../domain/errors.js';
import type { IncidentChange } from '../domain/incident-change.js';
import { toTimelineEntryJson } from '../domain/incident-timeline.js';
import { toIncidentDetailJson, toIncidentJson, type IncidentJson } from '../domain/incident.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import { toSilenceJson } from '../domain/silence.js';
import type { IncidentActionBy, IncidentActions } from '../http/incident-actions.js';
import type { IncidentQueries } from '../http/incident-queries.js';
import type { SilenceAdmin } from '../http/silence-admin.js';
import { IncidentRepository } from '../incidents/incident-repository.js';
import type { IncidentService } from '../incidents/incident-service.js';
import type { SilenceRepository } from '../notify/silence-repository.js';

/** The part of the NotificationPlanner the actions use (structural, so tests may pass a real planner or none). */
export interface ChangePlanner {
  enqueue(tx: SqlQueryable, changes: readonly IncidentChange[], now: Date): Promise<number>;
}

/** What `createResponderPorts` wires together. */
export interface ResponderPortsDeps {
  store: Store;
  incidents: IncidentService;
  /** plans the notifications of each responder action in the action's transaction; null: none */
  planner: ChangePlanner | null;
  silences: SilenceRepository;
  /** clock; default `() => new Date()` */
  now?: () => Date;
  /** after an action's transaction committed, with its change (metrics: time to acknowledge, open incidents) */
  onCommitted?: (change: IncidentChange) => void;
}

/** The HTTP stage's incident and silence ports, implemented over the incidents and notify stages. */
export interface ResponderPorts {
  queries: IncidentQueries;
  actions: IncidentActions;
  silences: SilenceAdmin;
}

/**
 * Implements the HTTP stage's ports (src/http/incident-queries.ts, incident-actions.ts,
 * silence-admin.ts) with the real services:
 * - queries: IncidentRepository.list/get on the store; the timeline from IncidentService.timeline;
 * - actions: one store transaction per action: IncidentService.acknowledge/resolve/reopen, then the
 *   planner's enqueue of that change, so the timeline row and its notifications commit together; the
 *   service's IncidentConflictError / IncidentNotFoundError / IncidentStateError pass through (their
 *   `code` gives the HTTP status);
 * - silences: SilenceRepository on the store; its ConfigError for a bad silence becomes a JagaError
 *   with code `silence_invalid` (HTTP 400).
 */
export function createResponderPorts(deps: ResponderPortsDeps): ResponderPorts {
  const now = deps.now ?? (() => new Date());
  const repository = new IncidentRepository(deps.store);

  const act = (move: 'acknowledge' | 'resolve' | 'reopen') => async (id: number, by: IncidentActionBy): Promise<IncidentJson> => {
    const at = now();
    const change = await deps.store.transaction(async (tx) => {
      const made = await deps.incidents[move](tx, id, by, at);
      if (deps.planner !== null) await deps.planner.enqueue(tx, [made], at);
      return made;
    });
    deps.onCommitted?.(change);
    return toIncidentJson(change.incident);
  };

  return {
    queries: {
      async list(filter) {
        const incidents = await repository.list({
          status: filter.status,
          severity: filter.severity,
          detector: filter.detector,
          since: filter.since,
          until: filter.until,
          limit: filter.limit,
        });
        return incidents.map(toIncidentJson);
      },
      async get(id) {
        const incident = await repository.get(id);
        if (incident === null) return null;
        const timeline = await deps.incidents.timeline(id);
        return { ...toIncidentDetailJson(incident), timeline: timeline.map(toTimelineEntryJson) };
      },
    },
    actions: { ack: act('acknowledge'), resolve: act('resolve'), reopen: act('reopen') },
    silences: {
      async list(options) {
        const at = now();
        return (await deps.silences.list(deps.store, at, options)).map((s) => toSilenceJson(s, at));
      },
      async create(request) {
        const at = now();
        try {
          const silence = await deps.silences.create(deps.store, request, at);
          return toSilenceJson(silence, at);
        } catch (error) {
          if (error instanceof ConfigError) throw new JagaError('silence_invalid', error.message, { cause: error });
          throw error;
        }
      },
      async expire(id, by) {
        const at = now();
        const silence = await deps.silences.expire(deps.store, id, by, at);
        return silence === null ? null : toSilenceJson(silence, at);
      },
    },
  };
}
