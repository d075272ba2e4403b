import { DetectorStateRepository } from '../db/detector-state-repository.js';
import type { Store } from '../db/store.js';
import type { InternalEventReporter, Telemetry } from '../observe/telemetry.js';
import type { DispatcherWake, DueJobs, NotificationEnqueuer } from './pipeline-ports.js';

/** Retention (issue 6): deletes what is no longer needed at `now`; idempotent. */
export interface RetentionPurge {
  /** @returns what was removed per kind (e.g. `{ evidence_cleared: 2, timeline_deleted: 40, outbox_deleted: 7 }`), for the log */
  purge(now: Date): Promise<Record<string, number>>;
}

/** The advisory lock (two-int form) that elects the agent running a retention round: 'jaga', 'retn'. */
export const RETENTION_LOCK_KEY = [0x6a616761, 0x7265746e] as const;
/** `jaga_pipeline_state` key of the fleet-wide "retention last ran at" marker (no agent name contains `#`). */
const RETENTION_MARKER = { agent: '#fleet', component: 'retention' } as const;

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
  /** after a round that made incident changes (metrics refresh) */
  onChanges?: ((changes: number) => void) | null;
  /** retention purge run at most once per `retentionIntervalMs` across all agents of the store; null: none */
  retention?: RetentionPurge | null;
  /** period of retention, ms (default 1 day) */
  retentionIntervalMs?: number;
  now?: () => Date;
}

/**
 * Runs the incidents stage's due jobs (auto-resolve, escalation steps, deadline reminders) every
 * `intervalMs` in ONE transaction with their outbox rows, under a transaction-level PostgreSQL
 * advisory try-lock: when several agents share a store, one runs the jobs and the others skip that
 * round (`pg_try_advisory_xact_lock`, released at COMMIT/ROLLBACK, so a crashed holder frees it at
 * once). Each job fires once because the incidents stage keys it uniquely in the store.
 *
 * Retention (when given): after a jobs round, at most once per `retentionIntervalMs` (default daily)
 * across every agent of the store: under RETENTION_LOCK_KEY (transaction try-lock) the agent that
 * gets it reads the fleet's "last ran at" marker (`jaga_pipeline_state`, agent `#fleet`, component
 * `retention`), and when due moves it to now and commits; then it runs the purge (which takes no
 * transaction: purging is idempotent, so a crash in between only delays the next run by a period).
 *
 * Internal events: `jobs_run` (debug; fields changes, notifications, locked), `jobs_failed`
 * (warn; the next round retries), `retention_run` (info; counts removed) and `retention_failed` (warn).
 */
export class SingletonJobs {
  private readonly ran: InternalEventReporter<never>;
  private readonly failed: InternalEventReporter<never>;
  private readonly retentionRan: InternalEventReporter<never>;
  private readonly retentionFailed: InternalEventReporter<never>;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: SingletonJobsOptions) {
    this.now = options.now ?? (() => new Date());
    this.ran = options.telemetry.declare({ name: 'jobs_run', help: 'Rounds of the singleton incident jobs.', level: 'debug', labels: [] });
    this.failed = options.telemetry.declare({ name: 'jobs_failed', help: 'Rounds of the singleton incident jobs that failed (retried next round).', level: 'warn', labels: [] });
    this.retentionRan = options.telemetry.declare({ name: 'retention_run', help: 'Retention purges run (resolved evidence, old timeline detail, delivered outbox rows).', level: 'info', labels: [] });
    this.retentionFailed = options.telemetry.declare({ name: 'retention_failed', help: 'Retention purges that failed (tried again next jobs round).', level: 'warn', labels: [] });
  }

  /**
   * Runs the retention purge when it is due for the fleet and this agent gets the lock (see the class comment).
   * @returns the purge's counts, or null when not due, locked by another agent, or no retention is configured
   * @throws StoreError and whatever the purge throws
   */
  async runRetentionIfDue(): Promise<Record<string, number> | null> {
    const retention = this.options.retention ?? null;
    if (retention === null) return null;
    const now = this.now();
    const periodMs = this.options.retentionIntervalMs ?? 86_400_000;
    const markers = new DetectorStateRepository(this.options.store);
    const due = await this.options.store.transaction(async (tx) => {
      const [row] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS locked', [RETENTION_LOCK_KEY[0], RETENTION_LOCK_KEY[1]]);
      if (row?.locked !== true) return false;
      const marker = await markers.load(RETENTION_MARKER.agent, RETENTION_MARKER.component, tx);
      const lastMs = Date.parse(String((marker?.state as { lastRunAt?: unknown } | undefined)?.lastRunAt ?? ''));
      if (Number.isFinite(lastMs) && now.getTime() - lastMs < periodMs) return false;
      await markers.save(tx, RETENTION_MARKER.agent, RETENTION_MARKER.component, { lastRunAt: now.toISOString() });
      return true;
    });
    if (!due) return null;
    const counts = await retention.purge(now);
    this.retentionRan({}, counts);
    return counts;
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
    if (outcome !== null && outcome.changes > 0) this.options.onChanges?.(outcome.changes);
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
          .then(() => (signal.aborted || this.stopped ? null : this.runRetentionIfDue()))
          .catch((error: unknown) => this.retentionFailed({}, { error: error instanceof Error ? error.message : String(error) }))
          .then(() => undefined)
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
