import type { AccessEvent } from '../domain/access-event.js';
import type { Detection } from '../domain/detection.js';
import { StoreError } from '../domain/errors.js';
import { DEFAULT_ALLOWED_LATENESS_MS, type DetectionEngine } from '../detect/detection-engine.js';
import type { JagaMetrics } from '../observe/jaga-metrics.js';
import type { InternalEventReporter, Telemetry } from '../observe/telemetry.js';
import { BoundedBatchQueue, QUEUE_CLOSED } from './bounded-batch-queue.js';
import type { CommitResult, CommitUnit, PipelineCommit } from './pipeline-commit.js';
import type { PipelineSource, SourceBatch, SourceCheckpoints } from './pipeline-source.js';

/** What a live pipeline runs with. */
export interface LivePipelineOptions {
  sources: readonly PipelineSource[];
  engine: DetectionEngine;
  commit: PipelineCommit;
  telemetry: Telemetry;
  /** jaga's own traffic: events whose user is in this list AND (see next) are dropped; empty = any user */
  ignoreRoles?: readonly string[];
  /** ... whose application_name matches one of these (`*` = any characters); empty = any name. Both empty: nothing dropped */
  ignoreApplicationNames?: readonly string[];
  /**
   * longest time between commits while something is pending, ms (default 1,000); under load a commit
   * also waits until 9 x the previous commit's duration has passed (commits <= ~10% of the time), at
   * most 5 x this interval
   */
  commitIntervalMs?: number;
  /**
   * events processed that force a commit before the interval (default 5,000; same commit spacing).
   * While a source is behind (unread bytes: a backlog), a commit waits for BACKLOG_BATCH_FACTOR (20) x
   * this many events, or MAX_SPACING_INTERVALS (5) x `commitIntervalMs`, whichever comes first
   */
  maxBatchEvents?: number;
  /** events buffered between the sources and detection, the backpressure bound (default 20,000) */
  queueEvents?: number;
  /** the live watermark runs this far behind the wall clock, ms (default the engine's 5,000) */
  allowedLatenessMs?: number;
  /** wall clock, epoch ms (tests inject one); default Date.now */
  nowMs?: () => number;
  /** the metrics catalogue: events, detections, pipeline latency, last record time are updated */
  metrics?: JagaMetrics | null;
  /**
   * see every event that runs through detection (after jaga's own traffic was dropped), e.g. the
   * access ledger; their state must be a CommitParticipant of `commit` to be committed with the checkpoints
   */
  observers?: readonly { observe(event: AccessEvent): void }[];
  /** after every commit (metrics, tests) */
  onCommit?: (result: CommitResult, events: number) => void;
}

/** How long the consumer waits for a batch before it looks at the clock, ms. */
const TICK_MS = 250;
/**
 * While a detection is pending, a wait this long for the next batch that comes back empty means the
 * sources are caught up, and the detection is committed at once, ms. Under load the next batch is
 * queued already (or read within a few ms), so detections coalesce instead of forcing a commit (with
 * the engine snapshot) per batch.
 */
const DETECTION_IDLE_MS = 10;
/**
 * Under load, a commit forced by `maxBatchEvents` or `commitIntervalMs` waits until this many times
 * the previous commit's duration has passed since it ended (commits are then at most 1/(1+9) = 10%
 * of the time). A cheap commit (small state, idle store) is not held back in practice: 9 x 20 ms.
 */
const COMMIT_SPACING_FACTOR = 9;
/** ... but never longer than this many commit intervals (bounds the uncommitted tail a crash replays). */
const MAX_SPACING_INTERVALS = 5;
/**
 * While a source is behind (a backlog: unread bytes after the batch just processed), a commit is paced by
 * the events processed rather than by the wall clock: it waits for this many x `maxBatchEvents` events
 * (default 100,000: ~2 s of reading at 50k events/s) or MAX_SPACING_INTERVALS x `commitIntervalMs` since
 * the last commit, whichever comes first, and the spacing above still holds. Each commit writes the whole
 * engine snapshot (~0.5 MB of JSON for the shipped pack) and the ledger and incident rows of its span:
 * a per-commit cost paid ~25 times a million events when paced by a quiet machine's wall clock (cheap
 * commits, short spacing), ~10 times this way. A crash replays at most that many events (or seconds).
 */
const BACKLOG_BATCH_FACTOR = 20;
/** Longest wait before a commit that failed with a transient error is tried again, ms. */
const MAX_COMMIT_BACKOFF_MS = 30_000;

/**
 * The live pipeline (issue 6, minimal `jaga run`): every source is pumped into one bounded queue
 * (`queueEvents`: a slow store back-pressures reading, memory stays bounded) and one consumer runs
 * detection and commits.
 *
 * Consumer loop: take a batch → drop jaga's own traffic (its role AND application name) → run each
 * event through the engine → keep the detections and the batch position. When nothing arrived for
 * a tick (the sources are caught up), the watermark is moved from the wall clock
 * (`now - allowedLatenessMs`), so absence rules fire without events. A commit runs as soon as a
 * detection is pending and the sources are caught up (no unread bytes, no batch within 10 ms: an incident is
 * committed right after the batch that raised it, whatever `commitIntervalMs`; under load detections
 * coalesce into the regular commits), and otherwise when `maxBatchEvents` events were processed since the
 * last, or `commitIntervalMs` passed with something pending (the consumer waits for the next batch
 * only until then; while a source is behind, 20 x `maxBatchEvents` events or 5 x `commitIntervalMs`,
 * see BACKLOG_BATCH_FACTOR): `PipelineCommit.commit` with the detections, the engine snapshot taken right
 * now (after exactly the events of the positions passed) and the checkpoints, then the sources
 * are acknowledged. While a commit runs nothing is processed (the queue fills and the sources wait).
 *
 * A transient StoreError on commit keeps everything pending and retries with backoff (up to 30 s)
 * while intake waits; any other commit error ends `run` with that error (a restart replays the
 * uncommitted tail). Internal events: `pipeline_commit` (info when incident changes were written,
 * else debug; fields events, detections, changes, notifications, attempts, duration_ms),
 * `pipeline_commit_failed` (warn; label `transient`), `pipeline_ignored_events` (debug; count).
 */
export class LivePipeline {
  private readonly queue: BoundedBatchQueue<SourceBatch>;
  private readonly nowMs: () => number;
  private readonly commitIntervalMs: number;
  private readonly maxBatchEvents: number;
  /** events that make a commit due while a source is behind: BACKLOG_BATCH_FACTOR x maxBatchEvents */
  private readonly backlogBatchEvents: number;
  private readonly allowedLatenessMs: number;
  private readonly ignoreRoles: ReadonlySet<string>;
  private readonly ignoreApps: readonly RegExp[];
  private readonly committedInfo: InternalEventReporter<never>;
  private readonly committedDebug: InternalEventReporter<never>;
  private readonly commitFailed: InternalEventReporter<'transient'>;
  private readonly ignored: InternalEventReporter<never>;
  private detections: Detection[] = [];
  private positions = new Map<PipelineSource, unknown[]>();
  private pendingEvents = 0;
  private lastCommitMs: number;
  /** no commit forced by size or interval before this time (wall clock, ms): see COMMIT_SPACING_FACTOR */
  private spacedUntilMs = 0;
  private retryAtMs = 0;
  private commitBackoffMs = 0;
  private ignoredCount = 0;
  /** wall-clock time (ms) each source's oldest uncommitted batch was read */
  private oldestReadMs = new Map<PipelineSource, number>();
  private readonly readAtMs = new WeakMap<SourceBatch, number>();

  constructor(private readonly options: LivePipelineOptions) {
    this.queue = new BoundedBatchQueue(options.queueEvents ?? 20_000);
    this.nowMs = options.nowMs ?? Date.now;
    this.commitIntervalMs = options.commitIntervalMs ?? 1_000;
    this.maxBatchEvents = options.maxBatchEvents ?? 5_000;
    this.backlogBatchEvents = BACKLOG_BATCH_FACTOR * this.maxBatchEvents;
    this.allowedLatenessMs = options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
    this.ignoreRoles = new Set(options.ignoreRoles ?? []);
    this.ignoreApps = (options.ignoreApplicationNames ?? []).map(globToRegExp);
    this.lastCommitMs = this.nowMs();
    const help = 'Pipeline commits (incidents, outbox, detector state and checkpoints in one transaction).';
    this.committedInfo = options.telemetry.declare({ name: 'pipeline_commit', help, level: 'info', labels: [] });
    this.committedDebug = options.telemetry.declare({ name: 'pipeline_commit', help, level: 'debug', labels: [] });
    this.commitFailed = options.telemetry.declare({ name: 'pipeline_commit_failed', help: 'Pipeline commits that failed (transient ones are retried).', level: 'warn', labels: ['transient'] });
    this.ignored = options.telemetry.declare({ name: 'pipeline_ignored_events', help: "Events dropped before detection as jaga's own traffic.", level: 'debug', labels: [] });
  }

  /** events waiting between the sources and detection */
  get queuedEvents(): number {
    return this.queue.heldWeight;
  }

  /**
   * Runs until `signal` aborts, then stops intake, drains what was already read and commits it
   * (the graceful part of a shutdown). Call once.
   * @throws whatever a non-transient commit failure threw (sources are stopped first)
   */
  async run(signal: AbortSignal): Promise<void> {
    const pumps = Promise.all(this.options.sources.map((source) => this.pump(source, signal))).finally(() => this.queue.close());
    let failure: unknown = null;
    try {
      let lastBatchMs = this.nowMs();
      for (;;) {
        const batch = await this.queue.take(this.waitMs());
        if (batch === QUEUE_CLOSED) break;
        if (batch === null) {
          // nothing arrived for a tick and no source has unread bytes: the wall clock moves the watermark.
          // A source still behind (a backlog read slowly on a busy machine) holds it: its older events
          // would otherwise arrive behind a watermark moved to now, closing their windows early and
          // making absence rules see a silence that is only jaga reading slowly.
          if (!signal.aborted && this.nowMs() - lastBatchMs >= TICK_MS && this.sourcesCaughtUp()) this.collect(this.options.engine.advance(this.nowMs() - this.allowedLatenessMs));
        } else {
          this.process(batch);
          lastBatchMs = this.nowMs();
        }
        if (this.commitDue(batch === null)) await this.tryCommit(signal.aborted);
      }
      while (this.hasPending()) {
        if (await this.tryCommit(true)) break;
        await new Promise((resolve) => setTimeout(resolve, Math.min(this.commitBackoffMs, 1_000)));
      }
    } catch (error) {
      failure = error;
    } finally {
      this.queue.close();
      await Promise.all(this.options.sources.map((source) => source.stop()));
      await pumps.catch((error: unknown) => (failure ??= error));
    }
    if (failure !== null) throw failure;
  }

  private async pump(source: PipelineSource, signal: AbortSignal): Promise<void> {
    for await (const batch of source.batches(signal)) {
      this.readAtMs.set(batch, this.nowMs());
      if (!(await this.queue.put(batch, batch.events.length + 1, signal))) break;
    }
  }

  private process(batch: SourceBatch): void {
    const engine = this.options.engine;
    const metrics = this.options.metrics ?? null;
    const observers = this.options.observers ?? [];
    // jaga_events_total is counted per kind once per batch (a labelled inc per event costs a label hash each)
    const kinds = metrics === null ? null : new Map<string, number>();
    for (const event of batch.events) {
      if (kinds !== null) kinds.set(event.kind, (kinds.get(event.kind) ?? 0) + 1);
      if (this.isIgnored(event)) {
        this.ignoredCount++;
        continue;
      }
      this.collect(engine.process(event));
      for (const observer of observers) observer.observe(event);
    }
    if (metrics !== null && batch.bytesRead !== undefined && batch.bytesRead > 0) metrics.sourceReadBytesTotal.inc({ source: batch.source.id }, batch.bytesRead);
    if (metrics !== null && kinds !== null) for (const [kind, count] of kinds) metrics.eventsTotal.inc({ source: batch.source.id, kind }, count);
    if (batch.events.length > 0 && !this.oldestReadMs.has(batch.source)) this.oldestReadMs.set(batch.source, this.readAtMs.get(batch) ?? this.nowMs());
    if (metrics !== null && batch.events.length > 0) metrics.sourceLastRecordTimestampSeconds.set({ source: batch.source.id }, (this.readAtMs.get(batch) ?? this.nowMs()) / 1000);
    this.pendingEvents += batch.events.length;
    if (batch.position !== null) {
      let list = this.positions.get(batch.source);
      if (list === undefined) this.positions.set(batch.source, (list = []));
      list.push(batch.position);
    }
  }

  /** jaga's own traffic: matches every non-empty ignore list (role AND application name), see DaemonConfig.ignore */
  private isIgnored(event: AccessEvent): boolean {
    if (this.ignoreRoles.size === 0 && this.ignoreApps.length === 0) return false;
    if (this.ignoreRoles.size > 0 && (event.user === null || !this.ignoreRoles.has(event.user))) return false;
    const app = event.application_name;
    return this.ignoreApps.length === 0 || (app !== null && this.ignoreApps.some((pattern) => pattern.test(app)));
  }

  private collect(found: readonly Detection[]): void {
    if (found.length === 0) return;
    this.detections.push(...found);
    const metrics = this.options.metrics ?? null;
    if (metrics !== null) for (const detection of found) metrics.detectionsTotal.inc({ detector: detection.detectorId, severity: detection.severity });
  }

  private hasPending(): boolean {
    return this.detections.length > 0 || this.positions.size > 0;
  }

  /**
   * A commit is due when something is pending (and no failed commit is waiting for its retry time) and
   * - a detection is pending and the sources are caught up (`idle`: no batch came within
   *   DETECTION_IDLE_MS, and no source reports unread bytes): its incident is committed at once, not
   *   at the next interval; under load (a source behind) detections coalesce into the commits below, or
   * - no source is behind and `maxBatchEvents` events were processed since the last commit, or
   *   `commitIntervalMs` passed since the last commit, and the commit spacing allows it: at most one
   *   such commit per COMMIT_SPACING_FACTOR x the previous commit's duration (at most
   *   MAX_SPACING_INTERVALS x `commitIntervalMs`), so that commits (whose cost grows with
   *   the engine snapshot, e.g. 1 MB of windowed state) take at most ~10% of the time under load
   *   instead of one snapshot per `maxBatchEvents` events, or
   * - a source is behind (a backlog), BACKLOG_BATCH_FACTOR x `maxBatchEvents` events were processed
   *   since the last commit, or MAX_SPACING_INTERVALS x `commitIntervalMs` passed, and the spacing
   *   allows it: reading a backlog commits by events read, not by how busy the machine is.
   */
  private commitDue(idle: boolean): boolean {
    if (!this.hasPending()) return false;
    const now = this.nowMs();
    if (now < this.retryAtMs) return false;
    const caughtUp = this.sourcesCaughtUp();
    if (idle && this.detections.length > 0 && caughtUp) return true;
    if (now < this.spacedUntilMs) return false;
    if (!caughtUp) return this.pendingEvents >= this.backlogBatchEvents || now - this.lastCommitMs >= MAX_SPACING_INTERVALS * this.commitIntervalMs;
    return this.pendingEvents >= this.maxBatchEvents || now - this.lastCommitMs >= this.commitIntervalMs;
  }

  /** No source reports unread bytes (`health().lagBytes`; a source without health counts as caught up). */
  private sourcesCaughtUp(): boolean {
    return this.options.sources.every((source) => (source.health?.().lagBytes ?? 0) === 0);
  }

  /**
   * How long the consumer may wait for the next batch, ms: a tick when nothing is pending, else
   * until the next commit is due by the clock (so the commit interval is kept to the ms, not to the
   * tick; while a source is behind, MAX_SPACING_INTERVALS x the interval), and at most
   * DETECTION_IDLE_MS while a detection is pending.
   */
  private waitMs(): number {
    if (!this.hasPending()) return TICK_MS;
    const now = this.nowMs();
    if (now < this.retryAtMs) return Math.min(TICK_MS, this.retryAtMs - now);
    const intervalMs = this.sourcesCaughtUp() ? this.commitIntervalMs : MAX_SPACING_INTERVALS * this.commitIntervalMs;
    const untilIntervalMs = Math.max(0, Math.max(this.spacedUntilMs, this.lastCommitMs + intervalMs) - now);
    return Math.min(TICK_MS, untilIntervalMs, this.detections.length > 0 ? DETECTION_IDLE_MS : TICK_MS);
  }

  /** Commits what is pending; true when committed, false after a transient failure (kept pending). */
  private async tryCommit(final: boolean): Promise<boolean> {
    const startedMs = this.nowMs();
    const detections = this.detections;
    const positions = this.positions;
    const events = this.pendingEvents;
    const saved = new Map<PipelineSource, SourceCheckpoints>();
    for (const source of this.options.sources) saved.set(source, source.checkpointsWith(positions.get(source) ?? []));
    const unit: CommitUnit = {
      detections,
      engineState: this.options.engine.snapshot(),
      checkpoints: [...saved.values()].flatMap((s) => s.save),
      forget: [...saved.entries()].filter(([, s]) => s.forget.length > 0).map(([source, s]) => ({ sourceId: source.checkpointKey, fingerprints: s.forget })),
      onCommitted: () => {
        for (const [source, list] of positions) source.ack(list, saved.get(source) ?? { save: [], forget: [] });
      },
    };
    let result: CommitResult;
    try {
      result = await this.options.commit.commit(unit);
    } catch (error) {
      const transient = error instanceof StoreError && error.transient;
      this.commitFailed({ transient: String(transient) }, { error: error instanceof Error ? error.message : String(error), final });
      if (!transient) throw error;
      this.commitBackoffMs = Math.min(MAX_COMMIT_BACKOFF_MS, Math.max(500, this.commitBackoffMs * 2));
      this.retryAtMs = this.nowMs() + this.commitBackoffMs;
      return false;
    }
    // what arrived during the commit stays pending for the next one
    this.detections = this.detections === detections ? [] : this.detections.slice(detections.length);
    if (this.positions === positions) this.positions = new Map();
    this.pendingEvents -= events;
    this.lastCommitMs = this.nowMs();
    this.spacedUntilMs = this.lastCommitMs + Math.min(COMMIT_SPACING_FACTOR * Math.max(0, this.lastCommitMs - startedMs), MAX_SPACING_INTERVALS * this.commitIntervalMs);
    for (const [source, readMs] of this.oldestReadMs) this.options.metrics?.pipelineLatencySeconds.observe({ source: source.id }, Math.max(0, this.lastCommitMs - readMs) / 1000);
    this.oldestReadMs = new Map();
    this.commitBackoffMs = 0;
    this.retryAtMs = 0;
    const fields = { events, detections: detections.length, changes: result.changes.length, notifications: result.notifications, attempts: result.attempts, duration_ms: this.lastCommitMs - startedMs };
    (result.changes.length > 0 ? this.committedInfo : this.committedDebug)({}, fields);
    if (this.ignoredCount > 0) {
      this.ignored({}, {}, this.ignoredCount);
      this.ignoredCount = 0;
    }
    this.options.onCommit?.(result, events);
    return true;
  }
}

/** `jaga:*` → /^jaga:.*$/ (only `*` is special). */
function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
