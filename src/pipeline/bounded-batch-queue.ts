/** What `take` answers when the queue is closed and empty. */
export const QUEUE_CLOSED: unique symbol = Symbol('queue closed');

/**
 * A FIFO between producers (the sources' pumps) and one consumer (detection), bounded by the total
 * weight of the items held (events, in the pipeline): `put` waits while the queue is full, so a
 * slow consumer (e.g. a slow store during a commit) stops reading instead of growing memory. One item
 * heavier than the capacity is still admitted when the queue is empty (never a deadlock), so the
 * memory bound is `capacity + one item`.
 */
export class BoundedBatchQueue<T> {
  private readonly items: { item: T; weight: number }[] = [];
  private weight = 0;
  private closed = false;
  private readonly spaceWaiters: (() => void)[] = [];
  private itemWaiter: (() => void) | null = null;

  /** @throws RangeError when `capacity` is not a positive integer */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
  }

  /** items held */
  get length(): number {
    return this.items.length;
  }

  /** total weight held */
  get heldWeight(): number {
    return this.weight;
  }

  /**
   * Adds `item` once there is room for `weight` (or the queue is empty), or returns false without
   * adding it when the queue is closed or `signal` aborts first.
   */
  async put(item: T, weight: number, signal?: AbortSignal): Promise<boolean> {
    while (!this.closed && this.items.length > 0 && this.weight + weight > this.capacity) {
      if (signal?.aborted) return false;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.spaceWaiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
    if (this.closed || signal?.aborted) return false;
    this.items.push({ item, weight });
    this.weight += weight;
    this.itemWaiter?.();
    return true;
  }

  /**
   * The oldest item; waits up to `timeoutMs` for one. Returns null on timeout, QUEUE_CLOSED once the
   * queue is closed and drained. One consumer at a time.
   */
  async take(timeoutMs: number): Promise<T | null | typeof QUEUE_CLOSED> {
    if (this.items.length === 0) {
      if (this.closed) return QUEUE_CLOSED;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, timeoutMs));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.itemWaiter = done;
      });
      this.itemWaiter = null;
      if (this.items.length === 0) return this.closed ? QUEUE_CLOSED : null;
    }
    const head = this.items.shift() as { item: T; weight: number };
    this.weight -= head.weight;
    for (const wake of this.spaceWaiters.splice(0)) wake();
    return head.item;
  }

  /** No more puts: pending and later `put`s return false; `take` drains what is held, then QUEUE_CLOSED. */
  close(): void {
    this.closed = true;
    for (const wake of this.spaceWaiters.splice(0)) wake();
    this.itemWaiter?.();
  }
}
