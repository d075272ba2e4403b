import type { JagaConfig } from '../config/load-config-file.js';
import { DetectorStateRepository, ENGINE_STATE_COMPONENT } from '../db/detector-state-repository.js';
import { openStore } from '../db/open-store.js';
import type { Store } from '../db/store.js';
import { DetectionEngine, type EngineState } from '../detect/detection-engine.js';
import { DETECTOR_REGISTRY } from '../detect/detector-registry.js';
import type { LoadedRuleSet } from '../detect/rule-loader.js';
import { RuleWatcher } from '../detect/rule-watcher.js';
import { QueryEnricher } from '../enrich/query-enricher.js';
import { createHttpServer, type HttpServer } from '../http/http-server.js';
import { INCIDENT_JOBS_LOCK_KEY, IncidentService } from '../incidents/incident-service.js';
import { NotificationDispatcher } from '../notify/notification-dispatcher.js';
import { OutboxRepository } from '../notify/outbox-repository.js';
import { NotificationPlanner } from '../notify/notification-planner.js';
import { createReceiver } from '../notify/receiver-registry.js';
import { SilenceRepository } from '../notify/silence-repository.js';
import { createJagaMetrics, type JagaMetrics } from '../observe/jaga-metrics.js';
import type { EventKind } from '../domain/access-event.js';
import type { IncidentChange } from '../domain/incident-change.js';
import type { Logger } from '../observe/logger.js';
import { Telemetry } from '../observe/telemetry.js';
import { AccessLedgerParticipant } from './access-ledger-participant.js';
import { AppAccessPipelineSource } from './app-access-pipeline-source.js';
import { LivePipeline } from './live-pipeline.js';
import { LogFolderPipelineSource } from './log-folder-pipeline-source.js';
import { MetricsRefresh } from './metrics-refresh.js';
import { PipelineCommit } from './pipeline-commit.js';
import type { NotificationEnqueuer } from './pipeline-ports.js';
import type { PipelineSource } from './pipeline-source.js';
import { issueLocalCliToken, removeDaemonHandle, revokeLocalCliToken, writeDaemonHandle } from './daemon-handle.js';
import { createResponderPorts } from './responder-ports.js';
import { SingletonJobs } from './singleton-jobs.js';

/** What an agent runs with besides its config. */
export interface AgentOptions {
  logger: Logger;
  /** default: a Telemetry on `logger` with its own registry */
  telemetry?: Telemetry;
  /** wall clock (tests); default `() => new Date()` */
  now?: () => Date;
  /** period of the rule files' content check, ms (default 5,000) */
  rulePollIntervalMs?: number;
  /** the running version for `jaga_build_info` */
  version?: string;
  /** period of the metrics refresh (open incidents, outbox, source health), ms (default 15,000) */
  metricsIntervalMs?: number;
}

/** Event kinds of a log folder source, zero-initialised in `jaga_events_total` (JagaAuditLogSilent needs `audit`). */
const LOG_FOLDER_KINDS: readonly EventKind[] = ['audit', 'connection', 'authentication', 'authorization', 'auth_failure', 'disconnection', 'error', 'other'];

/** How `stop` ended: everything closed in time, or the deadline passed first. */
export type AgentStopOutcome = 'stopped' | 'deadline';

/**
 * The composition root of `jaga run` (the only module that knows every stage). `start`:
 * 1. opens the store (PostgreSQL URL, or the embedded PGlite data folder, whose `store.lock` keeps a
 *    second process out) and applies pending migrations;
 * 2. loads the rule set (a bad set is fatal at start) into a DetectionEngine and restores the
 *    engine's last committed snapshot (`jaga_pipeline_state`, this agent's name); a snapshot that
 *    does not fit is logged and the engine starts fresh;
 * 3. builds the configured sources, each resuming from its checkpoints (`<agent>/<source>`);
 * 4. wires incidents (IncidentService) into PipelineCommit and runs the LivePipeline; rule hot reload (RuleWatcher → engine.swap, last good set kept) and the
 *    singleton jobs (when a DueJobs port is given) run beside it.
 * It resolves once the pipeline has ended (after `stop`) and everything is closed; it rejects on a
 * fatal error (store unreachable at start, a permanent commit failure) after closing what it opened.
 *
 * 5. notifications: NotificationPlanner (outbox rows in the commit transaction, links signed by the
 *    HTTP server) and NotificationDispatcher (one loop per configured receiver, woken after commits);
 * 6. the responder HTTP endpoint (createHttpServer with the ports of responder-ports.ts, /metrics on
 *    the Telemetry registry with the jaga-metrics catalogue, /readyz from the store and pipeline);
 * 7. the access ledger (`jaga report access`) as a participant of the pipeline commit: its counts
 *    commit in the same transaction as the checkpoints of the events counted;
 * 8. metrics: the catalogue (src/observe/jaga-metrics.ts) on the Telemetry registry; a MetricsRefresh
 *    job (open incidents, outbox depth/age, source up/lag, listener) every `metricsIntervalMs`, also
 *    run after commits and jobs rounds with incident changes and after responder actions; time to
 *    acknowledge observed when an `acknowledged` change commits; rule reload gauges;
 * 9. the singleton jobs (escalation, auto-resolve, reminders every `pipeline.jobs_interval`) and the
 *    daily retention purge (resolved incidents' evidence, old timeline detail, delivered outbox rows;
 *    periods from `retention`), both under advisory locks so one agent of a fleet runs them.
 *
 * 10. with the embedded store (locked while the daemon runs), the local CLI's way in: an admin
 *    token `local-cli` (issued again at each start) and the HTTP URL in `<data_dir>/daemon.json`
 *    (mode 0600), removed and revoked at a clean stop (src/pipeline/daemon-handle.ts).
 *
 * Escalation is configured once, in the notify section's `escalation.steps` (timing + receivers):
 * the IncidentService's per-severity bounds (`config.incidents.escalationMs`) are derived from it by
 * loadConfigFile, so a step fires (timeline, once per incident and step in the store) exactly when
 * the planner has receivers for it.
 *
 * `stop(deadlineMs)`: stops intake, lets the pipeline drain what it read and commit it, then stops
 * the singleton jobs, the rule watcher, the dispatcher and the HTTP server (in that order) and
 * closes the store.
 */
export class Agent {
  readonly telemetry: Telemetry;
  private readonly intake = new AbortController();
  private running: Promise<void> | null = null;
  private pipeline: LivePipeline | null = null;
  private httpUrl: string | null = null;

  constructor(
    private readonly config: JagaConfig,
    private readonly options: AgentOptions,
  ) {
    this.telemetry = options.telemetry ?? new Telemetry(options.logger);
  }

  /** the HTTP endpoint's base URL once listening (e.g. `http://127.0.0.1:7887`), else null */
  get url(): string | null {
    return this.httpUrl;
  }

  /** events waiting between the sources and detection (0 before start) */
  get queuedEvents(): number {
    return this.pipeline?.queuedEvents ?? 0;
  }

  /**
   * Builds everything and runs until `stop` (or `signal` aborts).
   * @throws ConfigError (bad prefix, glob), RuleLoadError, StoreError: the agent is closed again
   */
  start(signal?: AbortSignal): Promise<void> {
    if (this.running !== null) throw new Error('agent already started');
    signal?.addEventListener('abort', () => this.intake.abort(), { once: true });
    this.running = this.run();
    return this.running;
  }

  /**
   * Graceful stop: intake stops, the pipeline drains and commits, then everything closes.
   * @returns `deadline` when that took longer than `deadlineMs` (the caller may then force an exit)
   */
  async stop(deadlineMs: number): Promise<AgentStopOutcome> {
    this.intake.abort();
    if (this.running === null) return 'stopped';
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<AgentStopOutcome>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)));
    try {
      return await Promise.race([this.running.then(() => 'stopped' as const, () => 'stopped' as const), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(): Promise<void> {
    const { daemon, detection } = this.config;
    const logger = this.options.logger;
    const now = this.options.now ?? (() => new Date());
    const signal = this.intake.signal;
    let engine: DetectionEngine | null = null;
    let metricsRef: JagaMetrics | null = null;
    const watcher = new RuleWatcher({
      target: { swap: (rules, context) => (engine === null ? (engine = new DetectionEngine(rules, context)) : engine.swap(rules, context)) },
      loadOptions: { ruleDirs: detection.ruleDirs, overlayDirs: detection.overlayDirs, lists: detection.lists, catalog: detection.catalog, registry: DETECTOR_REGISTRY },
      telemetry: this.telemetry,
      pollIntervalMs: this.options.rulePollIntervalMs,
      now,
      onReload: (outcome) => {
        if (metricsRef === null || outcome.outcome === 'unchanged') return;
        metricsRef.rulesLastReloadSuccessful.set(outcome.outcome === 'ok' ? 1 : 0);
        if (outcome.outcome === 'ok') metricsRef.rulesLoaded.set(outcome.ruleSet.rules.filter((rule) => rule.enabled).length);
      },
    });
    // the rule set first: a bad one stops start-up before the store is opened (or, embedded, created)
    const ruleSet = await watcher.load();
    const store = daemon.store.kind === 'postgres' ? await openStore({ url: daemon.store.url, logger }) : await openStore({ dataDir: daemon.store.dataDir, logger });
    const closers: (() => Promise<void>)[] = [];
    try {
      const running = engine as unknown as DetectionEngine;
      await this.restoreEngine(store, running);
      const enricher = await QueryEnricher.create();
      const sources: PipelineSource[] = [];
      for (const source of daemon.sources) {
        if (source.type === 'log_folder') sources.push(await LogFolderPipelineSource.open(source, { store, agent: daemon.agentName, enricher, telemetry: this.telemetry }));
        else sources.push(await AppAccessPipelineSource.open(source, { store, agent: daemon.agentName, telemetry: this.telemetry }));
      }
      const metrics = createJagaMetrics(this.telemetry.registry, { version: this.options.version });
      metricsRef = metrics;
      metrics.rulesLoaded.set(ruleSet.rules.filter((rule) => rule.enabled).length);
      for (const source of sources) {
        const listener = source instanceof AppAccessPipelineSource;
        metrics.initSource(source.id, listener ? ['app_access'] : LOG_FOLDER_KINDS, { listener });
      }
      const refresh = new MetricsRefresh({
        store,
        metrics,
        sources,
        receivers: Object.keys(this.config.notify.receivers),
        baselineEntities: baselineEntitiesOf(running),
        telemetry: this.telemetry,
        intervalMs: this.options.metricsIntervalMs,
        now,
      });
      // escalationMs was derived from the notify section's escalation steps (loadConfigFile): one source of truth
      const incidents = new IncidentService(store, { config: this.config.incidents, resolveAfterMs: ruleResolveAfter(watcher, this.config.incidents.resolveAfterMs) });
      // planner <-> HTTP: the planner needs the server's link signer, the server's actions need the planner
      let planner: NotificationPlanner | null = null;
      const plannerPort: NotificationEnqueuer = { enqueue: (tx, changes, at) => (planner === null ? Promise.resolve(0) : planner.enqueue(tx, changes, at)) };
      const responder = createResponderPorts({ store, incidents, planner: plannerPort, silences: new SilenceRepository(), now, onCommitted: (change) => this.afterAction(change, metrics, refresh) });
      const health = { ready: () => this.readiness(store, sources, watcher.current !== null) };
      const http: HttpServer = await createHttpServer({ store, ...responder, health, registry: this.telemetry.registry, logger, now }, this.config.http);
      closers.push(() => http.close());
      planner = new NotificationPlanner(this.config.notify, http.links, this.telemetry);
      const notify = this.config.notify;
      const dispatcher = new NotificationDispatcher({
        store,
        receivers: Object.values(notify.receivers).map((receiver) => ({ settings: receiver, receiver: createReceiver(receiver, { logger, now }) })),
        pollIntervalMs: notify.pollIntervalMs,
        leaseMs: notify.leaseMs,
        claimBatch: notify.claimBatch,
        telemetry: this.telemetry,
        now,
      });
      // the dispatcher outlives intake: it stops after the pipeline's final commit (closers run in reverse)
      await dispatcher.start(new AbortController().signal);
      closers.push(() => dispatcher.stop());
      const ledger = new AccessLedgerParticipant(store, () => watcher.current?.catalog ?? null);
      const commit = new PipelineCommit({ store, agent: daemon.agentName, incidents, notifications: plannerPort, dispatcher, participants: [ledger], now });
      this.pipeline = new LivePipeline({
        sources,
        engine: running,
        commit,
        telemetry: this.telemetry,
        metrics,
        observers: [ledger],
        onCommit: (result) => {
          if (result.changes.length > 0) refresh.refreshIncidentsSoon();
        },
        ignoreRoles: daemon.ignore.roles,
        ignoreApplicationNames: daemon.ignore.applicationNames,
        commitIntervalMs: daemon.pipeline.commitIntervalMs,
        maxBatchEvents: daemon.pipeline.maxBatchEvents,
        queueEvents: daemon.pipeline.queueEvents,
        nowMs: () => now().getTime(),
      });
      watcher.start(signal);
      closers.push(() => watcher.stop());
      const retentionMs = this.config.incidents.retention;
      const outbox = new OutboxRepository();
      const jobs = new SingletonJobs({
        store,
        jobs: incidents,
        lockKey: INCIDENT_JOBS_LOCK_KEY,
        notifications: plannerPort,
        dispatcher,
        telemetry: this.telemetry,
        intervalMs: daemon.pipeline.jobsIntervalMs,
        now,
        onChanges: () => refresh.refreshIncidentsSoon(),
        retention: {
          purge: async (at) => {
            const { evidenceCleared, timelineDeleted } = await incidents.purge(at);
            const outboxDeleted = await outbox.purgeDelivered(store, new Date(at.getTime() - retentionMs.outboxMs));
            return { evidence_cleared: evidenceCleared, timeline_deleted: timelineDeleted, outbox_deleted: outboxDeleted };
          },
        },
      });
      jobs.start(signal);
      closers.push(() => jobs.stop());
      refresh.start(signal);
      closers.push(() => refresh.stop());
      const url = await http.listen();
      if (daemon.store.kind === 'embedded') {
        // the embedded store is locked while we run: local admin commands reach us over HTTP instead
        const dataDir = daemon.store.dataDir;
        const token = await issueLocalCliToken(store, now());
        await writeDaemonHandle(dataDir, { url, token, pid: process.pid, agent: daemon.agentName, started_at: now().toISOString() });
        closers.push(async () => {
          await removeDaemonHandle(dataDir);
          await revokeLocalCliToken(store, now()).catch(() => undefined);
        });
      }
      this.httpUrl = url;
      logger.info('agent_started', {
        event: 'agent_started',
        agent: daemon.agentName,
        store: store.driver,
        sources: sources.map((s) => s.id).join(','),
        rules: ruleSet.rules.filter((rule) => rule.enabled).length,
        http: this.httpUrl,
        receivers: Object.keys(this.config.notify.receivers).length,
      });
      await this.pipeline.run(signal);
    } finally {
      this.intake.abort();
      for (const close of closers.reverse()) await close();
      await store.close();
      logger.info('agent_stopped', { event: 'agent_stopped', agent: daemon.agentName });
    }
  }

  /** After a responder action committed: time to acknowledge, and the open incident gauges. */
  private afterAction(change: IncidentChange, metrics: JagaMetrics, refresh: MetricsRefresh): void {
    if (change.kind === 'acknowledged') {
      metrics.timeToAcknowledgeSeconds.observe({ severity: change.incident.severity }, Math.max(0, change.at.getTime() - change.incident.createdAt.getTime()) / 1000);
    }
    refresh.refreshIncidentsSoon();
  }

  /**
   * `/readyz`: the store answers, rules are loaded, the pipeline runs, and every source is healthy
   * (a log folder that cannot be read, or an app-access listener that lost its connection, is not).
   * Never throws.
   */
  private async readiness(
    store: Store,
    sources: readonly PipelineSource[],
    rulesLoaded: boolean,
  ): Promise<{ ok: boolean; checks: { name: string; ok: boolean; detail: string }[] }> {
    const sourceCount = sources.length;
    let storeCheck = { name: 'store', ok: true, detail: 'reachable' };
    try {
      await store.query('SELECT 1');
    } catch (error) {
      storeCheck = { name: 'store', ok: false, detail: error instanceof Error ? error.message.slice(0, 200) : 'unreachable' };
    }
    const pipelineCheck = { name: 'pipeline', ok: this.pipeline !== null && !this.intake.signal.aborted, detail: `${sourceCount} sources, ${this.queuedEvents} events queued` };
    const checks = [storeCheck, { name: 'rules', ok: rulesLoaded, detail: rulesLoaded ? 'loaded' : 'not loaded' }, pipelineCheck];
    for (const source of sources) {
      const health = source.health?.();
      if (health === undefined) continue;
      const ok = health.up && health.listenerConnected !== false;
      const detail = !health.up ? 'not readable' : health.listenerConnected === false ? 'listener disconnected' : `${health.lagBytes} bytes behind`;
      checks.push({ name: `source:${source.id}`, ok, detail });
    }
    return { ok: checks.every((check) => check.ok), checks };
  }

  /** Restores the engine from this agent's last committed snapshot; a snapshot that does not fit is logged and dropped. */
  private async restoreEngine(store: Store, engine: DetectionEngine): Promise<void> {
    const stored = await new DetectorStateRepository(store).load(this.config.daemon.agentName, ENGINE_STATE_COMPONENT);
    if (stored === null) return;
    try {
      engine.restore(stored.state as EngineState);
      this.options.logger.info('engine_state_restored', { event: 'engine_state_restored', revision: stored.revision, saved_at: stored.updatedAt.toISOString(), state_resets: engine.stats().stateResets });
    } catch (error) {
      this.options.logger.warn('engine_state_unusable', { event: 'engine_state_unusable', revision: stored.revision, error: error instanceof Error ? error.message : String(error) });
    }
  }
}

/** A rule's `resolve_after` (ms) from the running rule set, else the config's default. */
function ruleResolveAfter(watcher: RuleWatcher, fallbackMs: number): (detectorId: string) => number {
  let rules: LoadedRuleSet | null = null;
  let byId = new Map<string, number>();
  return (detectorId) => {
    const current = watcher.current;
    if (current !== rules) {
      rules = current;
      byId = new Map((current?.rules ?? []).flatMap((rule) => (rule.resolveAfterMs === null ? [] : [[rule.id, rule.resolveAfterMs] as const])));
    }
    return byId.get(detectorId) ?? fallbackMs;
  };
}

/**
 * Entity counts per baseline detector when the engine reports them (`stateSizes(): Map<detectorId,
 * number>`, the baselines stage's accessor); null while it does not, and `jaga_baseline_entities` stays unset.
 */
function baselineEntitiesOf(engine: DetectionEngine): (() => ReadonlyMap<string, number>) | null {
  const sizes = (engine as unknown as { stateSizes?: () => ReadonlyMap<string, number> }).stateSizes;
  return typeof sizes === 'function' ? () => sizes.call(engine) : null;
}
