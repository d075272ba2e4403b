import type { SqlQueryable } from '../domain/sql-queryable.js';
import { IncidentRepository } from '../incidents/incident-repository.js';
import { OutboxRepository } from '../notify/outbox-repository.js';
import { OPEN_INCIDENT_STATUSES, type JagaMetrics, type OpenIncidentCount } from '../observe/jaga-metrics.js';
import type { InternalEventReporter, Telemetry } from '../observe/telemetry.js';
import type { PipelineSource } from './pipeline-source.js';

/** What MetricsRefresh reads from. */
export interface MetricsRefreshOptions {
  store: SqlQueryable;
  metrics: JagaMetrics;
  sources: readonly PipelineSource[];
  /** the configured receiver names (their outbox gauges are set to 0 when nothing waits) */
  receivers: readonly string[];
  /**
   * entities each baseline detector keeps state for, by detector id (`baseline.<name>`); absent: the
   * engine does not report them and `jaga_baseline_entities` stays unset
   */
  baselineEntities?: (() => ReadonlyMap<string, number>) | null;
  telemetry: Telemetry;
  /** period, ms (default 15,000) */
  intervalMs?: number;
  now?: () => Date;
}

/**
 * The periodic gauges of the metric catalogue (issue 7; src/observe/jaga-metrics.ts), one job on an
 * interval (default 15 s) in the agent:
 * - `jaga_open_incidents{severity,status}` from `IncidentRepository.countUnresolved` (the store is the
 *   truth: several agents may share it);
 * - `jaga_outbox_depth{receiver}` / `jaga_outbox_oldest_age_seconds{receiver}` from
 *   `OutboxRepository.waitingByReceiver`;
 * - per source `jaga_source_up`, `jaga_source_lag_bytes` and (app-access) `jaga_listener_connected`
 *   from `PipelineSource.health()` (no I/O);
 * - `jaga_baseline_entities{detector}` when the engine reports entity counts.
 * `refreshIncidents()` runs the incident query alone, for callers that just changed incidents (after
 * a commit with changes, a responder action, a jobs round). Failures are reported
 * (`metrics_refresh_failed`, warn) and the gauges keep their last values; never thrown by `start`.
 */
export class MetricsRefresh {
  private readonly incidents: IncidentRepository;
  private readonly outbox = new OutboxRepository();
  private readonly failed: InternalEventReporter<never>;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: MetricsRefreshOptions) {
    this.incidents = new IncidentRepository(options.store);
    this.now = options.now ?? (() => new Date());
    this.failed = options.telemetry.declare({ name: 'metrics_refresh_failed', help: 'Rounds of the periodic metric refresh that failed (gauges keep their last values).', level: 'warn', labels: [] });
  }

  /**
   * Sets every periodic gauge now.
   * @throws StoreError from the incident or outbox query (the source gauges are set before)
   */
  async refreshOnce(): Promise<void> {
    this.refreshSources();
    await this.refreshIncidents();
    const states = await this.outbox.waitingByReceiver(this.options.store, this.now());
    this.options.metrics.setOutbox(this.options.receivers, states);
  }

  /** Sets `jaga_open_incidents` from the store. @throws StoreError */
  async refreshIncidents(): Promise<void> {
    const rows = await this.incidents.countUnresolved();
    const counts: OpenIncidentCount[] = [];
    for (const row of rows) if ((OPEN_INCIDENT_STATUSES as readonly string[]).includes(row.status)) counts.push({ severity: row.severity, status: row.status as OpenIncidentCount['status'], count: row.count });
    this.options.metrics.setOpenIncidents(counts);
  }

  /** `refreshIncidents` whose failure is reported, never thrown (fire and forget after a change). */
  refreshIncidentsSoon(): void {
    this.refreshIncidents().catch((error: unknown) => this.failed({}, { error: error instanceof Error ? error.message : String(error) }));
  }

  /** Source health and baseline entity gauges (no I/O). */
  refreshSources(): void {
    const metrics = this.options.metrics;
    for (const source of this.options.sources) {
      const health = source.health?.();
      if (health === undefined) continue;
      metrics.sourceUp.set({ source: source.id }, health.up ? 1 : 0);
      metrics.sourceLagBytes.set({ source: source.id }, health.lagBytes);
      if (health.listenerConnected !== null) metrics.listenerConnected.set({ source: source.id }, health.listenerConnected ? 1 : 0);
    }
    const entities = this.options.baselineEntities?.();
    if (entities !== undefined) for (const [detector, count] of entities) metrics.baselineEntities.set({ detector }, count);
  }

  /** Refreshes now and then every interval until `stop()` or `signal` aborts. */
  start(signal: AbortSignal): void {
    const intervalMs = this.options.intervalMs ?? 15_000;
    const round = (): void => {
      if (signal.aborted || this.stopped) return;
      this.running = this.refreshOnce()
        .catch((error: unknown) => this.failed({}, { error: error instanceof Error ? error.message : String(error) }))
        .finally(() => {
          if (!signal.aborted && !this.stopped) this.timer = setTimeout(round, intervalMs);
        });
    };
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    round();
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
