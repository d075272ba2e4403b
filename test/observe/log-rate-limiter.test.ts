import { afterEach, describe, expect, it, vi } from 'vitest';
import { LogRateLimiter, type SuppressedLines } from '../../src/observe/log-rate-limiter.js';

const T0 = Date.parse('2026-11-30T00:00:00.000Z');

/** a limiter on a hand-driven clock, collecting its summaries */
function limiter(options: { maxLinesPerInterval?: number; intervalMs?: number } = {}) {
  let nowMs = T0;
  const summaries: SuppressedLines[] = [];
  const l = new LogRateLimiter({ ...options, now: () => nowMs, flushBeforeExit: false, onSuppressed: (s) => summaries.push(s) });
  return { l, summaries, advance: (ms: number) => (nowMs += ms) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LogRateLimiter', () => {
  it('defaults to 10 lines per event name per 60 s', () => {
    const { l } = limiter();
    expect([l.maxLinesPerInterval, l.intervalMs]).toEqual([10, 60_000]);
  });

  it('admits the first N lines of a name in an interval, then counts the rest without a summary until the interval ends', () => {
    const { l, summaries, advance } = limiter({ maxLinesPerInterval: 3, intervalMs: 1_000 });
    const admitted: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      admitted.push(l.admit('parse_failure', 'warn'));
      advance(100);
    }
    expect(admitted).toEqual([true, true, true, false, false]);
    expect(summaries).toEqual([]);
    l.close();
  });

  it('keeps one budget per event name', () => {
    const { l } = limiter({ maxLinesPerInterval: 1 });
    expect([l.admit('a', 'warn'), l.admit('b', 'warn'), l.admit('a', 'warn'), l.admit('b', 'info')]).toEqual([true, true, false, false]);
    l.close();
  });

  it('summarises at the first line after the interval ended, then starts a new interval with a fresh budget', () => {
    const { l, summaries, advance } = limiter({ maxLinesPerInterval: 2, intervalMs: 1_000 });
    l.admit('parse_failure', 'warn'); // t0, opens the interval
    l.admit('parse_failure', 'warn');
    advance(200);
    l.admit('parse_failure', 'warn'); // t0+200: first suppressed
    advance(300);
    l.admit('parse_failure', 'warn', 4); // t0+500: one line for 4 occurrences
    advance(500); // t0+1000: the interval [t0, t0+1000) is over
    expect(l.admit('parse_failure', 'warn')).toBe(true);
    expect(summaries).toEqual([{ name: 'parse_failure', level: 'warn', suppressed: 2, occurrences: 5, maxLines: 2, sinceMs: T0 + 200, untilMs: T0 + 1_000 }]);
    expect(l.admit('parse_failure', 'warn')).toBe(true);
    expect(l.admit('parse_failure', 'warn')).toBe(false);
    l.close();
  });

  it('gives no summary for an interval in which nothing was suppressed', () => {
    const { l, summaries, advance } = limiter({ maxLinesPerInterval: 2, intervalMs: 1_000 });
    l.admit('log_file', 'info');
    l.admit('log_file', 'info');
    advance(5_000);
    l.admit('log_file', 'info');
    l.flush();
    expect(summaries).toEqual([]);
  });

  it('summarises at flush without ending the interval, and at close', () => {
    const { l, summaries, advance } = limiter({ maxLinesPerInterval: 1, intervalMs: 60_000 });
    l.admit('jobs_failed', 'warn');
    advance(10);
    l.admit('jobs_failed', 'warn');
    l.admit('jobs_failed', 'error');
    l.admit('jobs_failed', 'info');
    advance(10);
    l.flush();
    expect(summaries).toEqual([{ name: 'jobs_failed', level: 'error', suppressed: 3, occurrences: 3, maxLines: 1, sinceMs: T0 + 10, untilMs: T0 + 20 }]);
    l.flush(); // nothing new: no second summary
    expect(summaries.length).toBe(1);
    advance(5);
    expect(l.admit('jobs_failed', 'warn')).toBe(false); // still the same interval
    l.close();
    expect(summaries.slice(1)).toEqual([{ name: 'jobs_failed', level: 'warn', suppressed: 1, occurrences: 1, maxLines: 1, sinceMs: T0 + 25, untilMs: T0 + 25 }]);
    expect(l.admit('jobs_failed', 'warn')).toBe(true); // close forgot the interval
    l.close();
  });

  it('takes a per-call limit (an event declared with its own maxLinesPerInterval)', () => {
    const { l, summaries } = limiter({ maxLinesPerInterval: 1 });
    expect([0, 1, 2, 3].map(() => l.admit('rules_reload_problem', 'error', 1, Infinity))).toEqual([true, true, true, true]);
    expect([0, 1, 2].map(() => l.admit('rules_reload_problem', 'error', 1, 2))).toEqual([false, false, false]);
    l.close();
    expect(summaries).toEqual([{ name: 'rules_reload_problem', level: 'error', suppressed: 3, occurrences: 3, maxLines: 2, sinceMs: T0, untilMs: T0 }]);
  });

  it('ends an interval with suppressed lines on its own timer when no further line comes', () => {
    vi.useFakeTimers({ now: T0 });
    const summaries: SuppressedLines[] = [];
    const l = new LogRateLimiter({ maxLinesPerInterval: 1, intervalMs: 60_000, flushBeforeExit: false, onSuppressed: (s) => summaries.push(s) });
    l.admit('log_source_error', 'warn');
    vi.advanceTimersByTime(30_000);
    l.admit('log_source_error', 'warn');
    vi.advanceTimersByTime(29_999);
    expect(summaries).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(summaries).toEqual([{ name: 'log_source_error', level: 'warn', suppressed: 1, occurrences: 1, maxLines: 1, sinceMs: T0 + 30_000, untilMs: T0 + 60_000 }]);
    expect(l.admit('log_source_error', 'warn')).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('summarises pending counts when the process is about to exit (beforeExit), once', () => {
    const summaries: SuppressedLines[] = [];
    const l = new LogRateLimiter({ maxLinesPerInterval: 0, now: () => T0, onSuppressed: (s) => summaries.push(s) });
    const before = process.listenerCount('beforeExit');
    l.admit('parse_failure', 'warn');
    l.admit('parse_failure', 'warn');
    const other = new LogRateLimiter({ maxLinesPerInterval: 0, now: () => T0, onSuppressed: (s) => summaries.push(s) });
    other.admit('jobs_failed', 'warn');
    // one hook per module instance, installed at the first suppressed line (no limiter in this file suppressed before with it on)
    expect(process.listenerCount('beforeExit') - before).toBe(1);
    process.emit('beforeExit', 0);
    process.emit('beforeExit', 0);
    expect(summaries).toEqual([
      { name: 'parse_failure', level: 'warn', suppressed: 2, occurrences: 2, maxLines: 0, sinceMs: T0, untilMs: T0 },
      { name: 'jobs_failed', level: 'warn', suppressed: 1, occurrences: 1, maxLines: 0, sinceMs: T0, untilMs: T0 },
    ]);
    l.close();
    other.close();
  });

  it('rejects a negative limit and an interval that is not a positive number of ms', () => {
    const onSuppressed = (): void => undefined;
    expect(() => new LogRateLimiter({ maxLinesPerInterval: -1, onSuppressed })).toThrow('maxLinesPerInterval must be 0 or more, got -1');
    expect(() => new LogRateLimiter({ intervalMs: 0, onSuppressed })).toThrow('intervalMs must be a positive number of ms, got 0');
    expect(() => new LogRateLimiter({ intervalMs: Infinity, onSuppressed })).toThrow('intervalMs must be a positive number of ms, got Infinity');
  });
});
