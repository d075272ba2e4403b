/**
 * Retry timing of deliveries: exponential backoff with full jitter (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"), a receiver's `Retry-After` as the minimum wait, and the
 * dead-letter bound (attempts or age).
 */

/** Backoff parameters (from the receiver's config). */
export interface BackoffOptions {
  /** first attempt's cap, ms */
  baseMs: number;
  /** largest wait, ms */
  capMs: number;
}

/**
 * Wait before the next attempt after `attempts` failed ones (1-based): a uniform random value in
 * [0, min(cap, base * 2^(attempts-1))], then at least `retryAfterMs` when the receiver gave one.
 * @param random uniform in [0, 1) (injectable for tests; default Math.random)
 * @returns whole ms, >= 0
 */
export function backoffDelayMs(attempts: number, options: BackoffOptions, retryAfterMs: number | null = null, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  const jittered = Math.floor(random() * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * Parses an HTTP `Retry-After` value (RFC 9110 section 10.2.3): delay-seconds (`"2"`) or an
 * HTTP-date (`"Wed, 21 Oct 2026 07:28:00 GMT"`, relative to `now`). Bad or absent values give null;
 * a date in the past gives 0.
 * @returns ms to wait, or null
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP-date forms (IMF-fixdate, RFC 850, asctime) all hold a 4- or 2-digit year and hh:mm:ss
  if (!/[A-Za-z]{3}/.test(text) || !/\d{2}:\d{2}:\d{2}/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}

/** True when a message should be dead-lettered instead of retried: attempts used up, or older than `maxAgeMs`. */
export function isExhausted(attempts: number, createdAt: Date, now: Date, bounds: { maxAttempts: number; maxAgeMs: number }): boolean {
  return attempts >= bounds.maxAttempts || now.getTime() - createdAt.getTime() >= bounds.maxAgeMs;
}
