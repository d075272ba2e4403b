/**
 * A token bucket (per-receiver rate limit: Slack allows about 1 message per second per webhook).
 * Starts full; refills continuously at `ratePerSecond` up to `burst` tokens. Time comes from the
 * caller (ms since epoch), so tests drive it with a fake clock.
 */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number | null = null;

  /**
   * @param ratePerSecond tokens added per second, > 0
   * @param burst bucket size (whole tokens), >= 1
   * @throws RangeError for a rate <= 0 or a burst < 1
   */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    if (!(burst >= 1)) throw new RangeError('burst must be >= 1');
    this.tokens = burst;
  }

  /**
   * Takes one token if there is one. @returns 0 when taken, else the ms until one is available
   * (nothing taken; call again then).
   */
  tryTake(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }

  private refill(nowMs: number): void {
    if (this.updatedMs !== null && nowMs > this.updatedMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.updatedMs) / 1000) * this.ratePerSecond);
    }
    if (this.updatedMs === null || nowMs > this.updatedMs) this.updatedMs = nowMs;
  }
}
