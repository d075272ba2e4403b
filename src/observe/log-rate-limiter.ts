import type { EventLevel } from './telemetry.js';

/** Default number of log lines written per event name per interval (`LogRateLimiterOptions.maxLinesPerInterval`). */
export const DEFAULT_MAX_LINES_PER_INTERVAL = 10;
/** Default length of a rate-limit interval, ms (`LogRateLimiterOptions.intervalMs`). */
export const DEFAULT_LOG_INTERVAL_MS = 60_000;

/** What was not logged for one event name since its last summary (or the start of its interval). */
export interface SuppressedLines {
  /** the event name, e.g. `parse_failure` */
  name: string;
  /** the most severe level among the lines not logged (the summary is logged at this level) */
  level: EventLevel;
  /** lines not logged */
  suppressed: number;
  /** occurrences those lines stood for (a report of `count` 5 is one line, 5 occurrences) */
  occurrences: number;
  /** the limit those lines were over: lines admitted per interval */
  maxLines: number;
  /** clock time of the first line not logged, ms since the epoch */
  sinceMs: number;
  /** clock time the summary was made, ms since the epoch */
  untilMs: number;
}

/** Options of `LogRateLimiter`. */
export interface LogRateLimiterOptions {
  /** lines admitted per event name per interval, default 10 (`Infinity`: no limit) */
  maxLinesPerInterval?: number;
  /** interval length, ms, default 60,000; an interval starts at the first line of a name after the previous one ended */
  intervalMs?: number;
  /** the clock, ms since the epoch (default `Date.now`); tests inject one */
  now?: () => number;
  /**
   * also summarise when the process is about to exit (Node's `beforeExit`, i.e. the event loop ran
   * dry: a short CLI command that never calls `flush`), default true. The hook is installed once per
   * process, at the first suppressed line, and holds only limiters with an unsummarised count.
   */
  flushBeforeExit?: boolean;
  /** receives each summary (never called with `suppressed` 0) */
  onSuppressed: (summary: SuppressedLines) => void;
}

/** One event name's interval. */
interface Budget {
  startMs: number;
  logged: number;
  suppressed: number;
  occurrences: number;
  sinceMs: number;
  level: EventLevel;
  maxLines: number;
  /** ends the interval on time when lines were suppressed (unref'd: never keeps the process alive) */
  timer: NodeJS.Timeout | null;
}

const SEVERITY: Record<EventLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Limiters holding an unsummarised count, summarised by the process `beforeExit` hook. */
const pendingAtExit = new Set<LogRateLimiter>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('beforeExit', () => {
    for (const limiter of [...pendingAtExit]) limiter.flush();
  });
}

/**
 * Rate-limits log lines per event name: within an interval (default 60 s, starting at a name's first
 * line) the first N lines (default 10) are admitted, the rest only counted; a summary of what was not
 * logged goes to `onSuppressed` when that interval ends (on a timer, or at the name's next line if
 * the clock already passed the end), at `flush()` / `close()`, and before the process exits. A name
 * whose interval saw no suppressed line gets no summary.
 *
 * Example (N 10, 60 s): 1,582 `parse_failure` lines within a minute → 10 admitted, then one summary
 * `{ name: 'parse_failure', level: 'warn', suppressed: 1572, occurrences: 1572, maxLines: 10, sinceMs, untilMs }`.
 * @throws RangeError from the constructor when maxLinesPerInterval is negative or intervalMs is not positive
 */
export class LogRateLimiter {
  readonly maxLinesPerInterval: number;
  readonly intervalMs: number;
  private readonly now: () => number;
  private readonly flushBeforeExit: boolean;
  private readonly onSuppressed: (summary: SuppressedLines) => void;
  private readonly budgets = new Map<string, Budget>();

  constructor(options: LogRateLimiterOptions) {
    this.maxLinesPerInterval = options.maxLinesPerInterval ?? DEFAULT_MAX_LINES_PER_INTERVAL;
    this.intervalMs = options.intervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    if (!(this.maxLinesPerInterval >= 0)) throw new RangeError(`maxLinesPerInterval must be 0 or more, got ${this.maxLinesPerInterval}`);
    if (!(this.intervalMs > 0) || !Number.isFinite(this.intervalMs)) throw new RangeError(`intervalMs must be a positive number of ms, got ${this.intervalMs}`);
    this.now = options.now ?? (() => Date.now());
    this.flushBeforeExit = options.flushBeforeExit ?? true;
    this.onSuppressed = options.onSuppressed;
  }

  /**
   * Whether a line of event `name` may be written now; when not, it is counted for the summary.
   * @param count occurrences the line stands for (default 1)
   * @param maxLines this event's own limit per interval (default the limiter's)
   */
  admit(name: string, level: EventLevel, count = 1, maxLines = this.maxLinesPerInterval): boolean {
    const nowMs = this.now();
    let budget = this.budgets.get(name);
    if (budget !== undefined && nowMs - budget.startMs >= this.intervalMs) {
      this.endInterval(name, budget, nowMs);
      budget = undefined;
    }
    if (budget === undefined) {
      budget = { startMs: nowMs, logged: 0, suppressed: 0, occurrences: 0, sinceMs: nowMs, level, maxLines, timer: null };
      this.budgets.set(name, budget);
    }
    if (budget.logged < maxLines) {
      budget.logged += 1;
      return true;
    }
    budget.maxLines = maxLines;
    if (budget.suppressed === 0) {
      budget.sinceMs = nowMs;
      budget.level = level;
    } else if (SEVERITY[level] > SEVERITY[budget.level]) budget.level = level;
    budget.suppressed += 1;
    budget.occurrences += count;
    if (budget.timer === null) {
      const ending = budget;
      budget.timer = setTimeout(() => this.endInterval(name, ending, this.now()), Math.max(0, budget.startMs + this.intervalMs - nowMs));
      budget.timer.unref();
    }
    if (this.flushBeforeExit) {
      pendingAtExit.add(this);
      installExitHook();
    }
    return false;
  }

  /**
   * Summarises every name with lines not logged since its last summary. Intervals go on: lines stay
   * suppressed until the interval ends.
   */
  flush(): void {
    const nowMs = this.now();
    for (const [name, budget] of this.budgets) this.summarise(name, budget, nowMs);
    pendingAtExit.delete(this);
  }

  /** `flush()`, then forgets every interval and stops their timers. */
  close(): void {
    this.flush();
    for (const budget of this.budgets.values()) if (budget.timer !== null) clearTimeout(budget.timer);
    this.budgets.clear();
  }

  private endInterval(name: string, budget: Budget, nowMs: number): void {
    if (this.budgets.get(name) !== budget) return;
    if (budget.timer !== null) clearTimeout(budget.timer);
    this.budgets.delete(name);
    this.summarise(name, budget, nowMs);
    if (![...this.budgets.values()].some((b) => b.suppressed > 0)) pendingAtExit.delete(this);
  }

  private summarise(name: string, budget: Budget, nowMs: number): void {
    if (budget.suppressed === 0) return;
    const summary: SuppressedLines = { name, level: budget.level, suppressed: budget.suppressed, occurrences: budget.occurrences, maxLines: budget.maxLines, sinceMs: budget.sinceMs, untilMs: nowMs };
    budget.suppressed = 0;
    budget.occurrences = 0;
    this.onSuppressed(summary);
  }
}
