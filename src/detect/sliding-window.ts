/** An aggregate over the values of a window (count, sum, distinct values), updated incrementally. */
export interface WindowAggregate<V> {
  add(value: V): void;
  remove(value: V): void;
  /** the aggregate's current value: a count, a sum, a number of distinct values */
  readonly value: number;
}

/**
 * One group's contributing events in event-time order, for the windowed detectors: each entry is
 * an event time (ms), what it contributes (`V`: 1, a number, values, a step mask) and a payload
 * (`P`: the event's data classes, or its digest), held in parallel arrays (no object per entry). An aggregate over the front window
 * `[newestMs - windowMs, newestMs]` (both ends included) is maintained incrementally. Entries may
 * arrive out of order: they are inserted at their place (equal times keep arrival order) and join
 * the front aggregate when they fall inside it.
 *
 * Cost: appending in order and evicting from the front are O(1) amortised; an out-of-order insert
 * is O(log n + moved entries); `aggregateOver` is O(entries in the range).
 */
export class SlidingWindow<V, P> {
  /** live entries are at indexes `head..` of the three arrays, sorted by time */
  private times: number[] = [];
  private payloads: P[] = [];
  private values: V[] = [];
  private head = 0;
  /** absolute index of the first entry inside the front window */
  private frontStart = 0;

  /**
   * @param windowMs the window length, ms (> 0)
   * @param front the aggregate kept over the front window
   * @param newAggregate makes an empty aggregate of the same kind, for `aggregateOver`
   */
  constructor(
    readonly windowMs: number,
    private readonly front: WindowAggregate<V>,
    private readonly newAggregate: () => WindowAggregate<V>,
  ) {}

  /** number of entries held */
  get size(): number {
    return this.times.length - this.head;
  }

  /** event time of the newest entry, ms, or -Infinity when empty */
  get newestMs(): number {
    return this.size === 0 ? Number.NEGATIVE_INFINITY : (this.times[this.times.length - 1] as number);
  }

  /** the aggregate over `[newestMs - windowMs, newestMs]` */
  get frontValue(): number {
    return this.front.value;
  }

  /** event time of the entry at relative index `i` (0 = oldest) */
  timeAt(i: number): number {
    return this.times[this.head + i] as number;
  }

  /** contribution of the entry at relative index `i` */
  valueAt(i: number): V {
    return this.values[this.head + i] as V;
  }

  /** Inserts an entry at its time; returns its relative index. Equal times keep arrival order. */
  insert(timeMs: number, value: V, payload: P): number {
    const times = this.times;
    const last = times.length - 1;
    if (last < this.head || (times[last] as number) <= timeMs) {
      times.push(timeMs);
      this.payloads.push(payload);
      this.values.push(value);
      this.front.add(value);
      const floor = timeMs - this.windowMs;
      while (this.frontStart < times.length && (times[this.frontStart] as number) < floor) {
        this.front.remove(this.values[this.frontStart] as V);
        this.frontStart++;
      }
      return times.length - 1 - this.head;
    }
    // sorted order puts an entry older than the front window before frontStart, any other inside it
    const index = this.upperBoundAbsolute(timeMs);
    const inFront = timeMs >= (times[last] as number) - this.windowMs;
    times.splice(index, 0, timeMs);
    this.payloads.splice(index, 0, payload);
    this.values.splice(index, 0, value);
    if (inFront) this.front.add(value);
    else this.frontStart++;
    return index - this.head;
  }

  /** relative index of the first entry with time >= `timeMs` (size when none) */
  lowerBound(timeMs: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.times[mid] as number) < timeMs) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.head;
  }

  /** relative index of the first entry with time > `timeMs` (size when none) */
  upperBound(timeMs: number): number {
    return this.upperBoundAbsolute(timeMs) - this.head;
  }

  /** the aggregate over the entries with relative indexes `[from, to)` */
  aggregateOver(from: number, to: number): number {
    const aggregate = this.newAggregate();
    for (let i = this.head + from; i < this.head + to; i++) aggregate.add(this.values[i] as V);
    return aggregate.value;
  }

  /** payload of the entry at relative index `i` */
  payloadAt(i: number): P {
    return this.payloads[this.head + i] as P;
  }

  /** payloads of the entries with relative indexes `[from, to)`, oldest first */
  payloadsOf(from: number, to: number): P[] {
    return this.payloads.slice(this.head + from, this.head + to);
  }

  /** contributions of the entries with relative indexes `[from, to)`, oldest first */
  valuesOf(from: number, to: number): V[] {
    return this.values.slice(this.head + from, this.head + to);
  }

  /** every entry as `[time ms, value, payload]`, oldest first */
  entries(): [number, V, P][] {
    const entries: [number, V, P][] = [];
    for (let i = this.head; i < this.times.length; i++) entries.push([this.times[i] as number, this.values[i] as V, this.payloads[i] as P]);
    return entries;
  }

  /** removes the oldest entries while older than `timeMs`, or more while over `maxEntries`; returns how many */
  evictOlderThan(timeMs: number, maxEntries = Number.POSITIVE_INFINITY): number {
    let removed = 0;
    const times = this.times;
    while (this.head < times.length && ((times[this.head] as number) < timeMs || times.length - this.head > maxEntries)) {
      if (this.head >= this.frontStart) {
        this.front.remove(this.values[this.head] as V);
        this.frontStart++;
      }
      this.head++;
      removed++;
    }
    if (removed > 0 && this.head > 64 && this.head * 2 > times.length) {
      this.times = times.slice(this.head);
      this.payloads = this.payloads.slice(this.head);
      this.values = this.values.slice(this.head);
      this.frontStart -= this.head;
      this.head = 0;
    }
    return removed;
  }

  private upperBoundAbsolute(timeMs: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.times[mid] as number) <= timeMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Counts entries. */
export class CountAggregate<V> implements WindowAggregate<V> {
  value = 0;
  add(): void {
    this.value++;
  }
  remove(): void {
    this.value--;
  }
}
