import { Counter, Registry } from 'prom-client';
import type { Logger } from './logger.js';

/** Log level of an internal event's line. */
export type EventLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Declaration of one internal event: a log line named `name` and a counter `jaga_<name>_total`
 * with the same labels. Labels must be bounded (never a user, address, table or statement).
 */
export interface InternalEventSpec<L extends string> {
  /** snake_case event name, e.g. `parse_failure` */
  name: string;
  help: string;
  level: EventLevel;
  labels: readonly L[];
}

/** Reports one occurrence (or `count` occurrences) of a declared internal event. */
export type InternalEventReporter<L extends string> = (
  labels: Record<L, string>,
  fields?: Record<string, string | number | boolean | null>,
  count?: number,
) => void;

/**
 * The one helper every stage uses to report an internal event: each report writes one structured
 * log line (`{"event": name, ...labels, ...fields}`) and increments the counter of the same name.
 * The Prometheus registry is owned here so `/metrics` exposes everything reported.
 *
 * Example: `const failed = telemetry.declare({name: 'parse_failure', help: '...', level: 'warn',
 * labels: ['format', 'reason']}); failed({format: 'csvlog', reason: 'bad_csv'}, {offset: 120})`
 * logs `{"level":"warn","message":"parse_failure","event":"parse_failure","format":"csvlog",
 * "reason":"bad_csv","offset":120}` and adds 1 to `jaga_parse_failure_total{format="csvlog",reason="bad_csv"}`.
 */
export class Telemetry {
  readonly registry: Registry;
  private readonly declared = new Map<string, Counter<string>>();

  constructor(
    readonly logger: Logger,
    registry?: Registry,
  ) {
    this.registry = registry ?? new Registry();
  }

  /**
   * Declares an internal event (idempotent for the same name) and returns its reporter.
   * @throws Error when the name is not snake_case.
   */
  declare<L extends string>(spec: InternalEventSpec<L>): InternalEventReporter<L> {
    if (!/^[a-z][a-z0-9_]*$/.test(spec.name)) throw new Error(`internal event name must be snake_case: ${spec.name}`);
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
    return (labels, fields, count = 1) => {
      metric.inc(labels, count);
      if (this.logger.isLevelEnabled(spec.level)) {
        this.logger.log(spec.level, spec.name, { event: spec.name, ...labels, ...fields, ...(count !== 1 ? { count } : {}) });
      }
    };
  }
}
