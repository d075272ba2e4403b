import type { Store } from '../../src/db/store.js';
import { resolveIncidentsConfig, type IncidentsConfig } from '../../src/config/incidents-config.js';
import { IncidentService, type IncidentActor } from '../../src/incidents/incident-service.js';

/** The default incidents config (resolve_after 1h, escalation critical [15m, 1h] / high [30m, 2h] / medium [4h], GDPR + UU PDP on pii, retention 180d/30d/365d). */
export const DEFAULT_CONFIG: IncidentsConfig = resolveIncidentsConfig({});

/** A new IncidentService on `store` (a "restart" is simply another one) with the default config unless given. */
export function service(store: Store, config: IncidentsConfig = DEFAULT_CONFIG, resolveAfterMs?: (detectorId: string) => number): IncidentService {
  return new IncidentService(store, resolveAfterMs ? { config, resolveAfterMs } : { config });
}

/** A responder action by `responder:alice`. */
export function alice(note: string | null = null, expectedVersion: number | null = null): IncidentActor {
  return { actor: 'responder:alice', note, expectedVersion };
}

/** Empties every incident table (children first). */
export async function clearIncidents(store: Store): Promise<void> {
  for (const table of ['jaga_incident_timeline', 'jaga_incident_escalation', 'jaga_incident_reminder', 'jaga_incident_detection']) await store.query(`DELETE FROM ${table}`);
  await store.query('UPDATE jaga_incident SET previous_incident_id = NULL');
  await store.query('DELETE FROM jaga_incident');
}

/** `base` + `minutes` as a Date. */
export function at(base: string, minutes: number): Date {
  return new Date(Date.parse(base) + minutes * 60_000);
}
