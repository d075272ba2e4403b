/** Options of `AuthFailureLimiter` (config `http.auth_failures`). */
export interface AuthFailureLimits {
  /** failures allowed per address within the window (default 10) */
  max: number;
  /** sliding window, ms (default 5 min) */
  windowMs: number;
}

/** Most addresses tracked at once; the oldest is dropped beyond it (memory stays bounded under a spray). */
const MAX_ADDRESSES = 10_000;

/**
 * Counts authentication failures (missing or wrong token, bad sign-in, forged link) per client address
 * in a sliding window, in memory. Once an address has `max` failures within `windowMs` it is over the
 * limit: its further FAILING attempts get 429 until the oldest counted failure leaves the window (and
 * each one still counts, so a script that keeps guessing stays refused). A valid credential is never
 * refused by this limiter (RequestAuth checks it first): tokens carry 256 random bits, so the limit is
 * against noise and weak secrets, not a reason to lock the operator's own CLI out of a shared address.
 * Per process: agents do not share counts. At most `max` times are kept per address.
 */
export class AuthFailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: AuthFailureLimits) {}

  /** Records one failure of `address` at `nowMs` (epoch ms). */
  fail(address: string, nowMs: number): void {
    const times = this.recent(address, nowMs);
    times.push(nowMs);
    if (times.length > this.limits.max) times.splice(0, times.length - this.limits.max);
    this.failures.delete(address);
    this.failures.set(address, times);
    if (this.failures.size > MAX_ADDRESSES) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  /** ms until `address` is under the limit again, or 0 when it is not over it. */
  retryAfterMs(address: string, nowMs: number): number {
    const times = this.recent(address, nowMs);
    if (times.length < this.limits.max) return 0;
    return (times[times.length - this.limits.max] as number) + this.limits.windowMs - nowMs;
  }

  private recent(address: string, nowMs: number): number[] {
    const times = (this.failures.get(address) ?? []).filter((t) => t > nowMs - this.limits.windowMs);
    if (times.length === 0) this.failures.delete(address);
    else this.failures.set(address, times);
    return times;
  }
}
