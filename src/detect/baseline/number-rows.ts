/** Rows a table holds before its first growth (it doubles from here). */
const FIRST_ROWS = 64;

/**
 * Fixed-width rows of numbers (Float64) for many small entities, in one shared Float64Array:
 * row `r` is `data[r x stride, (r + 1) x stride)`. A baseline detector keeps the time fields of
 * its per-role state here (epoch ms are not small integers, so as object fields V8 would box each
 * one in a heap number of its own: one more cache line per field read) and its objects hold the
 * row number. Rows freed are reused (newest freed first); storage grows by doubling and never
 * shrinks (`clear` keeps it). A new or reused row holds zeros.
 */
export class NumberRows {
  /** the rows; replaced when storage grows, so read it through this field, never keep it */
  data: Float64Array;
  private readonly freeRows: number[] = [];
  private rowCount = 0;

  /** @param stride numbers per row (>= 1) */
  constructor(readonly stride: number) {
    this.data = new Float64Array(FIRST_ROWS * stride);
  }

  /** rows in use */
  get size(): number {
    return this.rowCount - this.freeRows.length;
  }

  /** a row of zeros: a freed one, else a new one (growing the storage when full) */
  alloc(): number {
    const reused = this.freeRows.pop();
    if (reused !== undefined) {
      this.data.fill(0, reused * this.stride, (reused + 1) * this.stride);
      return reused;
    }
    if ((this.rowCount + 1) * this.stride > this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    return this.rowCount++;
  }

  /**
   * A row (as `alloc`) holding `values` from its first column (at most `stride` of them; the rest 0).
   * @returns the row
   */
  add(values: ArrayLike<number>): number {
    const row = this.alloc();
    this.data.set(values, row * this.stride);
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
    this.data.fill(0);
  }
}
