/** Default bound on groups per detector (DetectorDeps.maxGroups). */
export const DEFAULT_MAX_GROUPS = 100_000;
/** Default bound on events kept per group (DetectorDeps.maxEventsPerGroup). */
export const DEFAULT_MAX_EVENTS_PER_GROUP = 10_000;

/**
 * A detector's per-group state, keyed by group key, with a memory bound: when more than
 * `maxGroups` groups are held, the least recently seen tenth (by `recencyOf`, event time ms) is
 * dropped, so the cost is O(log n) amortised per new group. `evicted` counts dropped groups.
 */
export class GroupTable<S> {
  private readonly groups = new Map<string, S>();
  /** groups dropped by the bound since creation */
  evicted = 0;

  /**
   * @param maxGroups most groups held (>= 1)
   * @param recencyOf when a group was last seen, epoch ms (event time)
   * @param onEvict called with each key the bound drops and its state (after it is removed)
   */
  constructor(
    private readonly maxGroups: number,
    private readonly recencyOf: (state: S) => number,
    private readonly onEvict?: (key: string, state: S) => void,
  ) {}

  get size(): number {
    return this.groups.size;
  }

  get(key: string): S | undefined {
    return this.groups.get(key);
  }

  /** adds or replaces a group, then applies the bound (never drops the group just set) */
  set(key: string, state: S): void {
    this.groups.set(key, state);
    if (this.groups.size > this.maxGroups) this.shed(key);
  }

  delete(key: string): void {
    this.groups.delete(key);
  }

  clear(): void {
    this.groups.clear();
  }

  entries(): IterableIterator<[string, S]> {
    return this.groups.entries();
  }

  /** the held states in insertion order (no [key, state] pairs: for sweeps over every group) */
  values(): IterableIterator<S> {
    return this.groups.values();
  }

  private shed(keep: string): void {
    const drop = Math.max(1, Math.ceil(this.maxGroups / 10));
    const byAge = [...this.groups.entries()].filter(([key]) => key !== keep).sort((a, b) => this.recencyOf(a[1]) - this.recencyOf(b[1]));
    for (const [key, state] of byAge.slice(0, drop)) {
      this.groups.delete(key);
      this.evicted++;
      this.onEvict?.(key, state);
    }
  }
}
