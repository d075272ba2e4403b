import { describe, expect, it } from 'vitest';
import { backoffDelayMs, isExhausted, parseRetryAfter } from '../../src/notify/retry-policy.js';
import { TokenBucket } from '../../src/notify/token-bucket.js';

const now = new Date('2026-01-01T00:00:00.000Z');

describe('backoffDelayMs (exponential, full jitter)', () => {
  const options = { baseMs: 1000, capMs: 10_000 };
  it('scales the ceiling by 2^(attempts-1) and takes random() of it', () => {
    expect(backoffDelayMs(1, options, null, () => 0.5)).toBe(500);
    expect(backoffDelayMs(2, options, null, () => 0.5)).toBe(1000);
    expect(backoffDelayMs(3, options, null, () => 0.5)).toBe(2000);
  });
  it('never exceeds the cap', () => {
    expect(backoffDelayMs(20, options, null, () => 0.999)).toBe(9990);
  });
  it('full jitter may wait 0', () => {
    expect(backoffDelayMs(4, options, null, () => 0)).toBe(0);
  });
  it('waits at least Retry-After', () => {
    expect(backoffDelayMs(1, options, 2000, () => 0.9)).toBe(2000);
    expect(backoffDelayMs(5, options, 2000, () => 0.9)).toBe(9000);
  });
});

describe('parseRetryAfter (RFC 9110)', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });
  it('reads an HTTP date relative to now, past dates as 0', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });
  it('gives null for absent or malformed values', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('-3', now)).toBeNull();
    expect(parseRetryAfter('soon-ish 12', now)).toBeNull();
  });
});

describe('isExhausted', () => {
  const bounds = { maxAttempts: 3, maxAgeMs: 60_000 };
  it('is true at the attempt bound or the age bound only', () => {
    expect(isExhausted(2, now, new Date(now.getTime() + 1000), bounds)).toBe(false);
    expect(isExhausted(3, now, new Date(now.getTime() + 1000), bounds)).toBe(true);
    expect(isExhausted(1, now, new Date(now.getTime() + 60_000), bounds)).toBe(true);
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then one token per 1/rate seconds', () => {
    const bucket = new TokenBucket(1, 2);
    expect(bucket.tryTake(0)).toBe(0);
    expect(bucket.tryTake(0)).toBe(0);
    expect(bucket.tryTake(0)).toBe(1000);
    expect(bucket.tryTake(400)).toBe(600);
    expect(bucket.tryTake(1000)).toBe(0);
    expect(bucket.tryTake(1000)).toBe(1000);
  });
  it('never holds more than the burst', () => {
    const bucket = new TokenBucket(10, 1);
    expect(bucket.tryTake(0)).toBe(0);
    expect(bucket.tryTake(60_000)).toBe(0);
    expect(bucket.tryTake(60_000)).toBe(100);
  });
  it('refuses a non-positive rate', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
  });
});
