/** Milliseconds per hour and per week. */
export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The hour-of-week bin (0-167) of an epoch-ms time in UTC, Monday 00:00-00:59 = 0, Sunday
 * 23:00-23:59 = 167 (1970-01-01, epoch day 0, was a Thursday). Baselines learn the profile of the
 * log's event times, so the zone only rotates the bins; UTC keeps a replay deterministic.
 */
export function hourOfWeek(timeMs: number): number {
  const day = Math.floor(timeMs / DAY_MS);
  const hour = Math.floor((timeMs - day * DAY_MS) / HOUR_MS);
  return (((day + 3) % 7) + 7) % 7 * 24 + hour;
}

/** `hourOfWeek` as a label for explanations, e.g. `sun 17:00` for bin 161. */
export function hourOfWeekLabel(bin: number): string {
  const day = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'][Math.floor(bin / 24)] ?? '?';
  return `${day} ${String(bin % 24).padStart(2, '0')}:00`;
}
