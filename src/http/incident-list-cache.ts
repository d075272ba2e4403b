import type { IncidentJson } from '../domain/incident.js';
import type { IncidentListQuery } from './incident-queries.js';

/** Most distinct filters kept at once (each entry is one list response). */
const MAX_ENTRIES = 100;

/**
 * A short-lived cache of incident lists in front of `IncidentQueries.list`, so many clients polling
 * the same list (dashboards, the page, a load of 200 concurrent readers) cost one store query per
 * filter per `ttlMs` instead of one each: concurrent misses for one filter share one query
 * (single flight), and a result is reused for `ttlMs` of wall-clock time (default 1 s; 0 disables).
 * Responder actions on this server clear it, so an actor sees the effect of their own action at once;
 * changes made elsewhere (the pipeline, another agent) show within `ttlMs`.
 */
export class IncidentListCache {
  private readonly entries = new Map<string, { atMs: number; value: Promise<IncidentJson[]> }>();

  constructor(private readonly ttlMs: number) {}

  /**
   * The list for `filter`, from the cache when fresh, else from `load` (whose rejection is not cached).
   * @throws what `load` throws
   */
  async get(filter: IncidentListQuery, load: () => Promise<IncidentJson[]>): Promise<IncidentJson[]> {
    if (this.ttlMs <= 0) return load();
    const key = JSON.stringify([filter.status, filter.severity, filter.detector, filter.since?.getTime(), filter.until?.getTime(), filter.limit]);
    const nowMs = Date.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && nowMs - hit.atMs < this.ttlMs) return hit.value;
    const value = load();
    this.entries.set(key, { atMs: nowMs, value });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  /** Forgets every cached list (after an action). */
  clear(): void {
    this.entries.clear();
  }
}
