/**
 * A one-slot wake-up signal: `notify()` wakes a pending `wait()` at once, or makes the next `wait()`
 * return at once (notifications are never lost, several coalesce into one).
 */
export class Wakeup {
  private pending = false;
  private release: (() => void) | null = null;

  /** Wakes the waiter (or the next one). */
  notify(): void {
    this.pending = true;
    this.release?.();
  }

  /** Resolves on `notify()`, after `timeoutMs` (ms, clamped at 0), or when `signal` aborts. */
  async wait(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (!this.pending && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.release = null;
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, timeoutMs));
        signal.addEventListener('abort', done, { once: true });
        this.release = done;
      });
    }
    this.pending = false;
  }
}
