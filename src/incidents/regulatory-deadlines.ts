import type { RegulatoryClock } from '../config/incidents-config.js';
import type { IncidentDeadline } from '../domain/incident.js';

/**
 * The regulatory deadlines an incident carries (pure): its current `deadlines`, plus one
 * `IncidentDeadline` for every configured clock whose data classes intersect the incident's and that it
 * does not carry yet, due `within_ms` after `firstSeen` (the incident's first detection, event time: the
 * earliest moment jaga could have known, so the clock is never late). Deadlines already set never move
 * (a later detection with an earlier event does not shift a clock the responders already work to).
 *
 * @param clocks the configured clocks (config `incidents.regulatory`)
 * @returns the deadlines keyed by clock name, or null when none applies and none was set
 *   (e.g. `{ gdpr_art33: { title: 'GDPR Art. 33: …', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259200000 } }`)
 */
export function regulatoryDeadlines(
  clocks: readonly RegulatoryClock[],
  incident: { firstSeen: Date; dataClasses: readonly string[]; deadlines: Record<string, unknown> | null },
): Record<string, unknown> | null {
  const result: Record<string, unknown> = { ...(incident.deadlines ?? {}) };
  for (const clock of clocks) {
    if (clock.name in result) continue;
    if (!clock.dataClasses.some((dataClass) => incident.dataClasses.includes(dataClass))) continue;
    const deadline: IncidentDeadline = {
      title: clock.title,
      due_at: new Date(incident.firstSeen.getTime() + clock.withinMs).toISOString(),
      within_ms: clock.withinMs,
    };
    result[clock.name] = deadline;
  }
  return Object.keys(result).length === 0 ? null : result;
}
