import { hourOfWeek } from './hour-of-week.js';
import { weightedMedian } from './weighted-median.js';

/** Closed buckets a ring keeps per entity (the oldest is overwritten): bounds memory at 4 + 4 x width bytes each. */
export const HISTORY_SLOTS = 128;
/** Closed buckets of the same hour of week needed before they, not all buckets, are the reference. */
export const MIN_HOUR_OF_WEEK_SAMPLES = 3;

/** A robust reference for one measure: weighted median and MAD of the history's log1p values. */
export interface RobustReference {
  /** weighted median, log1p units */
  median: number;
  /** weighted median absolute deviation from it, log1p units (may be 0: callers apply a floor) */
  mad: number;
  /** history entries used */
  size: number;
  /** true when only entries of the judged bucket's hour of week were used */
  hourOfWeek: boolean;
  /** time from the oldest entry used to the judged bucket's start, ms */
  periodMs: number;
}

const scratchValues = new Float64Array(HISTORY_SLOTS);
const scratchWeights = new Float64Array(HISTORY_SLOTS);
const scratchDeviations = new Float64Array(HISTORY_SLOTS);

/** Entries a ring holds before its first growth (it doubles from here up to HISTORY_SLOTS). */
const FIRST_CAPACITY = 4;
const NO_SLOTS = new Int32Array(0);
/** `lowest` not computed since the last push */
const UNKNOWN_LOWEST = Number.NaN;
/** One Float32 seen as its Int32 bits: how a ring stores a value in its Int32Array (same rounding as a Float32Array). */
const bitsOfFloat = new Float32Array(1);
const floatBits = new Int32Array(bitsOfFloat.buffer);

/** the Int32 bits of `value` rounded to Float32 */
function toBits(value: number): number {
  bitsOfFloat[0] = value;
  return floatBits[0] as number;
}

/** the Float32 value whose Int32 bits are `bits` */
function fromBits(bits: number): number {
  floatBits[0] = bits;
  return bitsOfFloat[0] as number;
}

/**
 * A bounded ring of an entity's closed buckets: the bucket number (bucket start / bucket ms,
 * Int32) and `width` measures per bucket as log1p values (Float32), never raw events. Compact and
 * JSON-serialisable (`toJson` / `fromJson`: plain number arrays), so a restore gives bit-identical
 * references and hence identical scores. One Int32Array holds it all, slot after slot as
 * `[bucket, bits of value 0, ...]` (4 + 4 x width bytes a slot). Storage grows by doubling (4, 8,
 * ... HISTORY_SLOTS entries) while the ring fills, so a new entity costs no typed array until its
 * first bucket closes; the layout (slot order, `next`) is that of a ring allocated at full size.
 */
export class HistoryRing {
  /** `stride` Int32s per slot: the bucket number, then each measure's Float32 bits */
  private slots: Int32Array = NO_SLOTS;
  private readonly stride: number;
  /** entries held (<= HISTORY_SLOTS) */
  size = 0;
  private next = 0;
  /** the smallest held value of measures 0 and 1 (NaN: not computed since the last push) */
  private lowest0 = UNKNOWN_LOWEST;
  private lowest1 = UNKNOWN_LOWEST;

  /** @param width measures per bucket (e.g. 2: rows and statements) */
  constructor(readonly width: number) {
    this.stride = 1 + width;
  }

  /** slots the storage holds now (grows to HISTORY_SLOTS) */
  private get capacity(): number {
    return this.slots.length / this.stride;
  }

  /** the bucket number of slot `i` */
  private bucketAt(i: number): number {
    return this.slots[i * this.stride] as number;
  }

  /** the log1p value of measure `m` in slot `i` */
  private valueAt(i: number, m: number): number {
    return fromBits(this.slots[i * this.stride + 1 + m] as number);
  }

  /** adds a closed bucket; `measures` are raw values (>= 0), stored as log1p */
  push(bucket: number, measures: readonly number[]): void {
    const at = this.next * this.stride;
    this.pushValues(bucket, measures[0] ?? 0, measures[1] ?? 0);
    for (let m = 2; m < this.width; m++) this.slots[at + 1 + m] = toBits(Math.log1p(Math.max(0, measures[m] ?? 0)));
  }

  /**
   * `push(bucket, [first, second])` without the array (what the detectors call at every bucket
   * close): raw values (>= 0) of measures 0 and 1; `second` is ignored by a ring of width 1.
   */
  pushValues(bucket: number, first: number, second = 0): void {
    if (this.next >= this.capacity) this.grow(Math.min(HISTORY_SLOTS, Math.max(FIRST_CAPACITY, this.capacity * 2)));
    const at = this.next * this.stride;
    this.slots[at] = bucket;
    this.slots[at + 1] = toBits(Math.log1p(Math.max(0, first)));
    if (this.width > 1) this.slots[at + 2] = toBits(Math.log1p(Math.max(0, second)));
    this.next = (this.next + 1) % HISTORY_SLOTS;
    if (this.size < HISTORY_SLOTS) this.size++;
    this.lowest0 = this.lowest1 = UNKNOWN_LOWEST;
  }

  /**
   * The smallest held log1p value of measure `m` (-Infinity for an empty ring or a measure past
   * the first two, which are all the baselines use). Every
   * reference's median is at least this, so `(log1p(x) - lowest(m)) / (1.4826 x mad_floor)` bounds
   * the robust z of any reference of the ring from above: callers skip `reference` when that bound
   * is below their threshold. Computed once per push (O(size)).
   */
  lowest(m: number): number {
    if (m > 1 || this.size === 0) return Number.NEGATIVE_INFINITY;
    if (Number.isNaN(this.lowest0)) {
      let low0 = Number.POSITIVE_INFINITY;
      let low1 = Number.POSITIVE_INFINITY;
      const wide = this.width > 1;
      for (let i = 0; i < this.size; i++) {
        const v0 = this.valueAt(i, 0);
        if (v0 < low0) low0 = v0;
        if (wide) {
          const v1 = this.valueAt(i, 1);
          if (v1 < low1) low1 = v1;
        }
      }
      this.lowest0 = low0;
      this.lowest1 = wide ? low1 : Number.NEGATIVE_INFINITY;
    }
    return m === 0 ? this.lowest0 : this.lowest1;
  }

  /**
   * The reference for measure `m` when judging bucket `bucket` (bucket length `bucketMs`): entries
   * of the same hour of week when at least MIN_HOUR_OF_WEEK_SAMPLES exist, else all; each weighted
   * 0.5^(age / halfLifeMs) (age from the entry's bucket to `bucket`). Null when the ring is empty.
   */
  reference(m: number, bucket: number, bucketMs: number, halfLifeMs: number): RobustReference | null {
    if (this.size === 0) return null;
    const targetBin = hourOfWeek(bucket * bucketMs);
    let sameBin = 0;
    for (let i = 0; i < this.size; i++) if (hourOfWeek(this.bucketAt(i) * bucketMs) === targetBin) sameBin++;
    const byHour = bucketMs <= 3_600_000 && sameBin >= MIN_HOUR_OF_WEEK_SAMPLES;
    let n = 0;
    let oldest = bucket;
    for (let i = 0; i < this.size; i++) {
      const at = this.bucketAt(i);
      if (byHour && hourOfWeek(at * bucketMs) !== targetBin) continue;
      scratchValues[n] = this.valueAt(i, m);
      scratchWeights[n] = Math.pow(0.5, (Math.max(0, bucket - at) * bucketMs) / halfLifeMs);
      if (at < oldest) oldest = at;
      n++;
    }
    const median = weightedMedian(scratchValues, scratchWeights, n);
    for (let i = 0; i < n; i++) scratchDeviations[i] = Math.abs((scratchValues[i] as number) - median);
    const mad = weightedMedian(scratchDeviations, scratchWeights, n);
    return { median, mad, size: n, hourOfWeek: byHour, periodMs: (bucket - oldest) * bucketMs };
  }

  /** JSON form: `[buckets[], values[], next]`, oldest slot order as stored */
  toJson(): [number[], number[], number] {
    const buckets: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < this.size; i++) {
      buckets.push(this.bucketAt(i));
      for (let m = 0; m < this.width; m++) values.push(this.valueAt(i, m));
    }
    return [buckets, values, this.next];
  }

  /**
   * Rebuilds a ring from `toJson` output.
   * @throws Error naming `where` when the shape is wrong
   */
  static fromJson(value: unknown, width: number, where: string): HistoryRing {
    const ring = new HistoryRing(width);
    if (!Array.isArray(value) || value.length !== 3) throw new Error(`${where}: expected [buckets, values, next]`);
    const [buckets, values, next] = value as unknown[];
    if (!Array.isArray(buckets) || !Array.isArray(values) || typeof next !== 'number' || buckets.length > HISTORY_SLOTS || values.length !== buckets.length * width || next < 0 || next >= HISTORY_SLOTS) {
      throw new Error(`${where}: malformed history ring`);
    }
    if (![...buckets, ...values].every((v) => typeof v === 'number' && Number.isFinite(v))) throw new Error(`${where}: history ring values must be finite numbers`);
    // a ring that is not full has next = size; any other shape keeps the full-size layout
    const capacity = buckets.length === 0 && next === 0 ? 0 : next === buckets.length ? Math.min(HISTORY_SLOTS, Math.max(FIRST_CAPACITY, buckets.length)) : HISTORY_SLOTS;
    if (capacity > 0) ring.grow(capacity);
    for (let i = 0; i < buckets.length; i++) {
      ring.slots[i * ring.stride] = buckets[i] as number;
      for (let m = 0; m < width; m++) ring.slots[i * ring.stride + 1 + m] = toBits(values[i * width + m] as number);
    }
    ring.size = buckets.length;
    ring.next = next;
    return ring;
  }

  /** replaces the storage by one of `capacity` entries holding the current ones (slot for slot) */
  private grow(capacity: number): void {
    const slots = new Int32Array(capacity * this.stride);
    slots.set(this.slots);
    this.slots = slots;
  }
}
