import { CONTEXT_SLOTS } from './context-set.js';

/** Rows per chunk (a power of two): storage is allocated a chunk at a time, never copied. */
const CHUNK_ROWS = 1024;
const CHUNK_SHIFT = 10;
/**
 * A row's layout, 448 bytes (seven 64-byte lines): three Float64 fields (`floats[row x FLOATS_PER_ROW + field]`),
 * then as Int32 (`ints[row x INTS_PER_ROW + field]`, from byte 24) the set's size, its hashes and their hours.
 */
const FLOATS_PER_ROW = 56;
const INTS_PER_ROW = FLOATS_PER_ROW * 2;
const FIRST_SEEN_MS = 0;
const LAST_SEEN_MS = 1;
const EVENTS = 2;
const SIZE = 6;
const HASHES = 7;
const HOURS = HASHES + CONTEXT_SLOTS;

/**
 * The known contexts of many roles, one fixed row per role in chunked shared storage: the role's
 * first and last seen times (epoch ms, event time), its event count, and its set of known contexts
 * (up to CONTEXT_SLOTS 32-bit context hashes with the epoch hour each was last seen; when full, the
 * least recently seen is replaced), serialised as `[hashes[], hours[]]` in slot order
 * (contextSetFromJson reads it back). What baseline_new_context reads for every event (times, count,
 * set size and the first nine hashes) is one 64-byte line of one typed array, where a role object
 * with its own typed arrays costs four or five lines. Rows freed are reused (newest freed first)
 * and hold zeros when taken; chunks are never released (`clear` keeps them).
 */
export class ContextRows {
  /** per chunk, its rows' Float64 fields and, over the same memory, their Int32 fields */
  private readonly floatChunks: Float64Array[] = [];
  private readonly intChunks: Int32Array[] = [];
  private readonly freeRows: number[] = [];
  private rowCount = 0;

  /** rows in use */
  get size(): number {
    return this.rowCount - this.freeRows.length;
  }

  /**
   * A row of zeros (empty set, no events) first and last seen at `timeMs`: a freed one, else a new
   * one (allocating a chunk when the last is full).
   */
  alloc(timeMs: number): number {
    let row = this.freeRows.pop();
    if (row !== undefined) (this.floatChunks[row >> CHUNK_SHIFT] as Float64Array).fill(0, floatsStart(row), floatsStart(row) + FLOATS_PER_ROW);
    else {
      row = this.rowCount++;
      if (row >> CHUNK_SHIFT === this.floatChunks.length) {
        const floats = new Float64Array(CHUNK_ROWS * FLOATS_PER_ROW);
        this.floatChunks.push(floats);
        this.intChunks.push(new Int32Array(floats.buffer));
      }
    }
    const floats = this.floatChunks[row >> CHUNK_SHIFT] as Float64Array;
    floats[floatsStart(row) + FIRST_SEEN_MS] = timeMs;
    floats[floatsStart(row) + LAST_SEEN_MS] = timeMs;
    return row;
  }

  /** returns `row` (from `alloc`, not freed since) for reuse */
  free(row: number): void {
    this.freeRows.push(row);
  }

  /** frees every row */
  clear(): void {
    this.freeRows.length = 0;
    this.rowCount = 0;
  }

  firstSeenMs(row: number): number {
    return (this.floatChunks[row >> CHUNK_SHIFT] as Float64Array)[floatsStart(row) + FIRST_SEEN_MS] as number;
  }

  lastSeenMs(row: number): number {
    return (this.floatChunks[row >> CHUNK_SHIFT] as Float64Array)[floatsStart(row) + LAST_SEEN_MS] as number;
  }

  /** events counted for the role (`countEvent`) */
  events(row: number): number {
    return (this.floatChunks[row >> CHUNK_SHIFT] as Float64Array)[floatsStart(row) + EVENTS] as number;
  }

  /** contexts held */
  contexts(row: number): number {
    return (this.intChunks[row >> CHUNK_SHIFT] as Int32Array)[intsStart(row) + SIZE] as number;
  }

  /** counts one event of the role at `timeMs` (epoch ms): the event count + 1, last seen raised to it */
  countEvent(row: number, timeMs: number): void {
    const floats = this.floatChunks[row >> CHUNK_SHIFT] as Float64Array;
    const at = floatsStart(row);
    floats[at + EVENTS] = (floats[at + EVENTS] as number) + 1;
    if (timeMs > (floats[at + LAST_SEEN_MS] as number)) floats[at + LAST_SEEN_MS] = timeMs;
  }

  /** true when the role's set holds `hash` */
  has(row: number, hash: number): boolean {
    const ints = this.intChunks[row >> CHUNK_SHIFT] as Int32Array;
    const from = intsStart(row) + HASHES;
    const to = from + (ints[from - HASHES + SIZE] as number);
    for (let i = from; i < to; i++) if (ints[i] === hash) return true;
    return false;
  }

  /** adds or refreshes `hash` as seen at `hour` (epoch hours); when full, replaces the least recently seen */
  add(row: number, hash: number, hour: number): void {
    const ints = this.intChunks[row >> CHUNK_SHIFT] as Int32Array;
    const at = intsStart(row);
    const size = ints[at + SIZE] as number;
    for (let i = 0; i < size; i++) {
      if (ints[at + HASHES + i] === hash) {
        if (hour > (ints[at + HOURS + i] as number)) ints[at + HOURS + i] = hour;
        return;
      }
    }
    let slot = size;
    if (slot === CONTEXT_SLOTS) {
      slot = 0;
      for (let i = 1; i < CONTEXT_SLOTS; i++) if ((ints[at + HOURS + i] as number) < (ints[at + HOURS + slot] as number)) slot = i;
    } else ints[at + SIZE] = size + 1;
    ints[at + HASHES + slot] = hash;
    ints[at + HOURS + slot] = hour;
  }

  /** the role's set in its JSON form `[hashes[], hours[]]` (slot order) */
  toJson(row: number): [number[], number[]] {
    const ints = this.intChunks[row >> CHUNK_SHIFT] as Int32Array;
    const at = intsStart(row);
    const size = ints[at + SIZE] as number;
    return [Array.from(ints.subarray(at + HASHES, at + HASHES + size)), Array.from(ints.subarray(at + HOURS, at + HOURS + size))];
  }

  /**
   * Writes a role's numbers and set into `row` (a new row from `alloc`).
   * @param set `[hashes[], hours[]]` as `contextSetFromJson` returns them (already validated)
   */
  load(row: number, firstSeenMs: number, lastSeenMs: number, events: number, set: [hashes: readonly number[], hours: readonly number[]]): void {
    const floats = this.floatChunks[row >> CHUNK_SHIFT] as Float64Array;
    floats.set([firstSeenMs, lastSeenMs, events], floatsStart(row));
    const ints = this.intChunks[row >> CHUNK_SHIFT] as Int32Array;
    const at = intsStart(row);
    ints[at + SIZE] = set[0].length;
    ints.set(set[0], at + HASHES);
    ints.set(set[1], at + HOURS);
  }
}

/** where a row's Float64 fields start in its chunk */
function floatsStart(row: number): number {
  return (row & (CHUNK_ROWS - 1)) * FLOATS_PER_ROW;
}

/** where a row's Int32 fields start in its chunk's Int32 view */
function intsStart(row: number): number {
  return (row & (CHUNK_ROWS - 1)) * INTS_PER_ROW;
}
