import type { Store } from '../db/store.js';
import type { InternalEventReporter, Telemetry } from '../observe/telemetry.js';
import type { DispatcherWake, DueJobs, NotificationEnqueuer } from './pipeline-ports.js';

/** Options of SingletonJobs. */
export interface SingletonJobsOptions {
  store: Store;
  jobs: DueJobs;
  /** the advisory lock (two-int form) one agent at a time holds for a round, e.g. `INCIDENT_JOBS_LOCK_KEY` */
  lockKey: readonly [number, number];
  notifications: NotificationEnqueuer | null;
  dispatcher?: DispatcherWake | null;
  telemetry: Telemetry;
  /** period, ms (default 10,000) */
  intervalMs?: number;
  now?: () => Date;
}

/**
 * Runs the incidents stage's due jobs (auto-resolve, escalation steps, deadline reminders) every
 * `intervalMs` in ONE transaction with their outbox rows, under a transaction-level PostgreSQL
 * advisory try-lock: when several agents share a store, one runs the jobs and the others skip that
 * round (`pg_try_advisory_xact_lock`, released at COMMIT/ROLLBACK, so a crashed holder frees it at
 * once). Each job fires once because the incidents stage keys it uniquely in the store.
 *
 * Internal events: `jobs_run` (debug; fields changes, notifications, locked) and `jobs_failed`
 * (warn; the next round retries).
 */
export class SingletonJobs {
  private readonly ran: InternalEventReporter<never>;
  private readonly failed: InternalEventReporter<never>;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: SingletonJobsOptions) {
    this.now = options.now ?? (() => new Date());
    this.ran = options.telemetry.declare({ name: 'jobs_run', help: 'Rounds of the singleton incident jobs.', level: 'debug', labels: [] });
    this.failed = options.telemetry.declare({ name: 'jobs_failed', help: 'Rounds of the singleton incident jobs that failed (retried next round).', level: 'warn', labels: [] });
  }

  /**
   * One round now.
   * @returns changes made, or null when another agent holds the lock
   * @throws StoreError and whatever the jobs throw (the transaction is rolled back)
   */
  async runOnce(): Promise<number | null> {
    const now = this.now();
    const outcome = await this.options.store.transaction(async (tx) => {
      const [row] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS locked', [this.options.lockKey[0], this.options.lockKey[1]]);
      if (row?.locked !== true) return null;
      const changes = await this.options.jobs.runDueJobs(tx, now);
      const notifications = changes.length > 0 && this.options.notifications !== null ? await this.options.notifications.enqueue(tx, changes, now) : 0;
      return { changes: changes.length, notifications };
    });
    this.ran({}, { locked: outcome !== null, changes: outcome?.changes ?? 0, notifications: outcome?.notifications ?? 0 });
    if (outcome !== null && outcome.notifications > 0) this.options.dispatcher?.wake?.();
    return outcome === null ? null : outcome.changes;
  }

  /** Runs a round every interval until `stop()` or `signal` aborts; failures are reported, never thrown. */
  start(signal: AbortSignal): void {
    const intervalMs = this.options.intervalMs ?? 10_000;
    const schedule = (): void => {
      if (signal.aborted || this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.runOnce()
          .then(() => undefined)
          .catch((error: unknown) => this.failed({}, { error: error instanceof Error ? error.message : String(error) }))
          .finally(schedule);
      }, intervalMs);
    };
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    schedule();
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
