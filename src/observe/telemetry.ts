import { Counter, Registry } from 'prom-client';
import { LogRateLimiter, type SuppressedLines } from './log-rate-limiter.js';
import type { Logger } from './logger.js';

/** Log level of an internal event's line. */
export type EventLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Declaration of one internal event: a log line named `name` and a counter `jaga_<name>_total`
 * with the same labels. Labels must be bounded (never a user, address, table or statement).
 */
export interface InternalEventSpec<L extends string> {
  /** snake_case event name, e.g. `parse_failure`; `log_suppressed` is reserved */
  name: string;
  help: string;
  level: EventLevel;
  labels: readonly L[];
  /**
   * log lines of this declaration per interval, overriding the default (`TelemetryOptions.maxLinesPerInterval`
   * for `warn` and `error`, no limit for `info` and `debug`), e.g. `Infinity` for a bounded list of
   * problems every line of which matters; the budget is per event name
   */
  maxLinesPerInterval?: number;
}

/** Reports one occurrence (or `count` occurrences) of a declared internal event. */
export type InternalEventReporter<L extends string> = (
  labels: Record<L, string>,
  fields?: Record<string, string | number | boolean | null>,
  count?: number,
) => void;

/** Options of `Telemetry`: the log-line rate limit (see `LogRateLimiter`). */
export interface TelemetryOptions {
  /** warn and error log lines per event name per interval, default 10 (`Infinity`: no limit); info and debug lines are not limited unless their declaration says so */
  maxLinesPerInterval?: number;
  /** rate-limit interval, ms, default 60,000 */
  intervalMs?: number;
  /** the clock, ms since the epoch (default `Date.now`) */
  now?: () => number;
  /** write pending `log_suppressed` lines when the process is about to exit (Node `beforeExit`), default true */
  flushBeforeExit?: boolean;
}

/** Name of the line (and `jaga_log_suppressed_total{event}`) saying how many lines of an event were not logged. */
export const LOG_SUPPRESSED_EVENT = 'log_suppressed';

/**
 * The one helper every stage uses to report an internal event: each report increments the counter
 * `jaga_<name>_total` and writes one structured log line (`{"event": name, ...labels, ...fields}`).
 * Warnings and errors (the lines bad input or a failing dependency can flood) are limited to
 * at most `maxLinesPerInterval` (10) lines per event name per `intervalMs` (60 s): past that, reports
 * are only counted, and when the interval ends (or at `flush()` / `close()`, or when the process is
 * about to exit) one line at the same level says how many were not logged:
 * `{"level":"warn","message":"log_suppressed","event":"log_suppressed","name":"parse_failure",
 * "suppressed":1572,"since":"2026-11-30T00:31:02.120Z","max_lines":10,"interval_ms":60000}`
 * (plus `"occurrences"` when reports with a `count` made that differ), and
 * `jaga_log_suppressed_total{event="parse_failure"}` grows by 1,572. Metrics are never limited.
 * The Prometheus registry is owned here so `/metrics` exposes everything reported.
 *
 * Example: `const failed = telemetry.declare({name: 'parse_failure', help: '...', level: 'warn',
 * labels: ['format', 'reason']}); failed({format: 'csvlog', reason: 'bad_csv'}, {offset: 120})`
 * logs `{"level":"warn","message":"parse_failure","event":"parse_failure","format":"csvlog",
 * "reason":"bad_csv","offset":120}` and adds 1 to `jaga_parse_failure_total{format="csvlog",reason="bad_csv"}`.
 * @throws RangeError from the constructor on a negative line limit or an interval that is not positive
 */
export class Telemetry {
  readonly registry: Registry;
  private readonly declared = new Map<string, Counter<string>>();
  private readonly limiter: LogRateLimiter;
  private readonly suppressedTotal: Counter<'event'>;

  constructor(
    readonly logger: Logger,
    registry?: Registry,
    options: TelemetryOptions = {},
  ) {
    this.registry = registry ?? new Registry();
    this.limiter = new LogRateLimiter({ ...options, onSuppressed: (summary) => this.logSuppressed(summary) });
    const name = `jaga_${LOG_SUPPRESSED_EVENT}_total`;
    this.suppressedTotal =
      (this.registry.getSingleMetric(name) as Counter<'event'> | undefined) ??
      new Counter({ name, help: 'Log lines of internal events not written by the per-event rate limit (the events are still counted).', labelNames: ['event'], registers: [this.registry] });
  }

  /**
   * Declares an internal event (idempotent for the same name) and returns its reporter.
   * @throws Error when the name is not snake_case or is `log_suppressed`.
   */
  declare<L extends string>(spec: InternalEventSpec<L>): InternalEventReporter<L> {
    if (!/^[a-z][a-z0-9_]*$/.test(spec.name)) throw new Error(`internal event name must be snake_case: ${spec.name}`);
    if (spec.name === LOG_SUPPRESSED_EVENT) throw new Error(`internal event name ${LOG_SUPPRESSED_EVENT} is reserved`);
    let counter = this.declared.get(spec.name);
    if (!counter) {
      counter = new Counter({
        name: `jaga_${spec.name}_total`,
        help: spec.help,
        labelNames: [...spec.labels],
        registers: [this.registry],
      });
      this.declared.set(spec.name, counter);
    }
    const metric = counter;
    // info/debug lines (commits, deliveries, files found) are bounded by design; floods are of warnings and errors
    const maxLines = spec.maxLinesPerInterval ?? (spec.level === 'warn' || spec.level === 'error' ? this.limiter.maxLinesPerInterval : Number.POSITIVE_INFINITY);
    return (labels, fields, count = 1) => {
      metric.inc(labels, count);
      if (!this.logger.isLevelEnabled(spec.level)) return;
      if (!this.limiter.admit(spec.name, spec.level, count, maxLines)) {
        this.suppressedTotal.inc({ event: spec.name });
        return;
      }
      this.logger.log(spec.level, spec.name, { event: spec.name, ...labels, ...fields, ...(count !== 1 ? { count } : {}) });
    };
  }

  /** Writes a `log_suppressed` line for every event with lines not logged since its last one (intervals go on). */
  flush(): void {
    this.limiter.flush();
  }

  /** `flush()`, then stops the rate limiter's timers (call at shutdown). */
  close(): void {
    this.limiter.close();
  }

  private logSuppressed(summary: SuppressedLines): void {
    this.logger.log(summary.level, LOG_SUPPRESSED_EVENT, {
      event: LOG_SUPPRESSED_EVENT,
      name: summary.name,
      suppressed: summary.suppressed,
      ...(summary.occurrences !== summary.suppressed ? { occurrences: summary.occurrences } : {}),
      since: new Date(summary.sinceMs).toISOString(),
      max_lines: summary.maxLines,
      interval_ms: this.limiter.intervalMs,
    });
  }
}
