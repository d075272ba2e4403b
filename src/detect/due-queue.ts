/**
 * A min-heap of (due time, key) pairs with lazy deletion: the owner keeps each key's current due
 * time and ignores popped entries that no longer match it. Pushing and popping are O(log n).
 */
export class DueQueue {
  private readonly dues: number[] = [];
  private readonly keys: string[] = [];

  get size(): number {
    return this.dues.length;
  }

  /** the earliest due time, ms, or +Infinity when empty */
  peekDueMs(): number {
    return this.dues.length === 0 ? Number.POSITIVE_INFINITY : (this.dues[0] as number);
  }

  push(dueMs: number, key: string): void {
    const dues = this.dues;
    const keys = this.keys;
    let i = dues.length;
    dues.push(dueMs);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((dues[parent] as number) <= dueMs) break;
      dues[i] = dues[parent] as number;
      keys[i] = keys[parent] as string;
      i = parent;
    }
    dues[i] = dueMs;
    keys[i] = key;
  }

  /** removes and returns the key of the earliest entry; undefined when empty */
  pop(): string | undefined {
    const dues = this.dues;
    const keys = this.keys;
    if (dues.length === 0) return undefined;
    const top = keys[0] as string;
    const lastDue = dues.pop() as number;
    const lastKey = keys.pop() as string;
    const n = dues.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && (dues[right] as number) < (dues[left] as number) ? right : left;
        if ((dues[child] as number) >= lastDue) break;
        dues[i] = dues[child] as number;
        keys[i] = keys[child] as string;
        i = child;
      }
      dues[i] = lastDue;
      keys[i] = lastKey;
    }
    return top;
  }

  clear(): void {
    this.dues.length = 0;
    this.keys.length = 0;
  }
}
