import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { EventKind } from '../domain/access-event.js';
import { SEVERITIES, type Severity } from '../domain/detection.js';

/**
 * The Prometheus metric catalogue of jaga (issue 7, "Metrics"): every gauge, histogram and counter
 * that is not an internal-event counter. Internal events (`telemetry.declare`, see telemetry.ts)
 * already create `jaga_<event>_total` counters, e.g. `jaga_parse_failure_total{source,format,reason}`,
 * `jaga_rules_reload_total{outcome}` and the notification outcomes of src/notify
 * (`jaga_notification_delivered_total{receiver}`, `jaga_notification_retry_total{receiver}`,
 * `jaga_notification_dead_lettered_total{receiver}`); this catalogue does not duplicate them.
 *
 * Label values are bounded: `source` is a configured source name, `detector` a rule or baseline id,
 * `receiver` a configured receiver name, the rest are fixed enumerations. Never a user, client address,
 * table name or statement.
 *
 * Truth for the exposition format and naming: Prometheus docs, "Metric and label naming" and
 * "Exposition formats"; `promtool check metrics` accepts the output (test/observe/jaga-metrics.test.ts).
 */

/** Pipeline latency buckets, seconds: 1 ms .. 10 s. */
export const PIPELINE_LATENCY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Time-to-acknowledge buckets, seconds: 30 s .. 1 day. */
export const TIME_TO_ACKNOWLEDGE_BUCKETS_SECONDS: readonly number[] = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400];

/** Unresolved incident states counted by `jaga_open_incidents{status}`. */
export const OPEN_INCIDENT_STATUSES = ['open', 'acknowledged'] as const;
export type OpenIncidentStatus = (typeof OPEN_INCIDENT_STATUSES)[number];

/** One row of unresolved incident counts, e.g. `{ severity: 'high', status: 'open', count: 2 }`. */
export interface OpenIncidentCount {
  severity: Severity;
  status: OpenIncidentStatus;
  count: number;
}

/** One receiver's outbox state, e.g. `{ receiver: 'security-slack', depth: 3, oldestAgeSeconds: 42.5 }`. */
export interface OutboxState {
  receiver: string;
  /** rows waiting (pending or retrying) */
  depth: number;
  /** age of the oldest waiting row, seconds (0 when empty) */
  oldestAgeSeconds: number;
}

/**
 * Typed handles of the catalogue. Each names the metric, its unit, labels and who updates it
 * (the composition root in src/pipeline + src/cli unless said otherwise).
 */
export interface JagaMetrics {
  /** the registry everything is registered on (the Telemetry registry, so `/metrics` serves both) */
  readonly registry: Registry;
  /** `jaga_events_total{source,kind}` counter: access events read, by source name and event kind. Updated per event the pipeline takes from a source. */
  readonly eventsTotal: Counter<'source' | 'kind'>;
  /** `jaga_source_read_bytes_total{source}` counter, bytes: log bytes (or app-access rows' payload bytes) read. Updated when a source delivers a chunk. */
  readonly sourceReadBytesTotal: Counter<'source'>;
  /** `jaga_source_lag_bytes{source}` gauge, bytes: bytes in the folder's files not yet read (sum over tracked files). Set after each source scan. */
  readonly sourceLagBytes: Gauge<'source'>;
  /** `jaga_source_last_record_timestamp_seconds{source}` gauge, Unix seconds: when the source last delivered a record (wall clock of reading, not the record's log time). Set per delivered batch. */
  readonly sourceLastRecordTimestampSeconds: Gauge<'source'>;
  /** `jaga_source_up{source}` gauge 0/1: 1 while the source is usable (folder readable, or app-access connection healthy) and not stalled. Set from the source's health (the same check `/readyz` uses). */
  readonly sourceUp: Gauge<'source'>;
  /** `jaga_listener_connected{source}` gauge 0/1: 1 while the app-access source's LISTEN connection is up. Set on the source's listener connected / lost events. */
  readonly listenerConnected: Gauge<'source'>;
  /** `jaga_pipeline_latency_seconds{source}` histogram, seconds (buckets 1 ms..10 s): from a record's bytes being read to the commit of the incident transaction covering it. Observed at each commit, once per record (or once per batch with the read time of its oldest record). */
  readonly pipelineLatencySeconds: Histogram<'source'>;
  /** `jaga_detections_total{detector,severity}` counter: detections produced, by rule or baseline id and severity. Updated when the detection engine emits. */
  readonly detectionsTotal: Counter<'detector' | 'severity'>;
  /** `jaga_open_incidents{severity,status}` gauge: unresolved incidents (status open or acknowledged). Set with `setOpenIncidents` after each incident transaction and periodically. */
  readonly openIncidents: Gauge<'severity' | 'status'>;
  /** `jaga_time_to_acknowledge_seconds{severity}` histogram, seconds (buckets 30 s..1 d): opened_at to the acknowledgement. Observed on each `acknowledged` incident change. */
  readonly timeToAcknowledgeSeconds: Histogram<'severity'>;
  /** `jaga_outbox_depth{receiver}` gauge: outbox rows waiting. Set with `setOutbox` from a periodic outbox query. */
  readonly outboxDepth: Gauge<'receiver'>;
  /** `jaga_outbox_oldest_age_seconds{receiver}` gauge, seconds: age of the oldest waiting row (0 when empty). Set with `setOutbox`. */
  readonly outboxOldestAgeSeconds: Gauge<'receiver'>;
  /** `jaga_rules_loaded` gauge: rules in the running rule set. Set at start-up and after each successful reload. */
  readonly rulesLoaded: Gauge;
  /** `jaga_rules_last_reload_successful` gauge 0/1: whether the last rule reload attempt succeeded (0 = the last good set keeps running). Set per reload outcome ok/error. */
  readonly rulesLastReloadSuccessful: Gauge;
  /** `jaga_baseline_entities{detector}` gauge: entities (role x table x client ...) a baseline detector keeps state for. Set after each baseline update or snapshot. */
  readonly baselineEntities: Gauge<'detector'>;
  /** `jaga_build_info{version}` gauge, always 1: the running jaga version (set by `createJagaMetrics`). */
  readonly buildInfo: Gauge<'version'>;
  /**
   * Zero-initialises one configured source's series so alerts and `rate()` see them before the first
   * record: `jaga_events_total` for every kind in `kinds`, read bytes, lag, last record 0, up 0, and
   * (when `listener` is true) `jaga_listener_connected` 0.
   */
  initSource(source: string, kinds: readonly EventKind[], options?: { listener?: boolean }): void;
  /** Replaces all `jaga_open_incidents` values: every severity x status absent from `counts` is set to 0. */
  setOpenIncidents(counts: readonly OpenIncidentCount[]): void;
  /**
   * Replaces the outbox gauges for the configured `receivers`: receivers absent from `states` get depth 0
   * and age 0; states of receivers not configured are still set (a receiver removed from config while its rows wait).
   */
  setOutbox(receivers: readonly string[], states: readonly OutboxState[]): void;
}

/** Options of `createJagaMetrics`. */
export interface JagaMetricsOptions {
  /** the running version for `jaga_build_info` (package.json version), default `unknown` */
  version?: string;
  /** also register prom-client's process / Node.js metrics with prefix `jaga_`, default true */
  processMetrics?: boolean;
}

/**
 * prom-client default gauges whose names end in `_total` (a counter suffix): promtool's linter rejects
 * them, and their per-type siblings (`jaga_nodejs_active_handles{type}`, ...) carry the same numbers.
 */
const DROPPED_DEFAULT_METRICS = ['jaga_nodejs_active_handles_total', 'jaga_nodejs_active_requests_total', 'jaga_nodejs_active_resources_total'];

/** One catalogue per registry: a second `createJagaMetrics` on the same registry returns the first. */
const byRegistry = new WeakMap<Registry, JagaMetrics>();

/**
 * Registers the whole catalogue (plus prom-client default process metrics prefixed `jaga_`, e.g.
 * `jaga_process_resident_memory_bytes`, `jaga_process_cpu_seconds_total`) on `registry` and returns
 * typed handles. Idempotent per registry: calling it again with the same registry returns the same
 * handles (tests and the composition root may both call it). Nothing starts running (prom-client 15
 * collects process metrics on scrape, no timers).
 * @throws Error (from prom-client) when the registry already holds one of these names from elsewhere,
 *   e.g. an internal event named `events` or `detections` (reserved names: see `JAGA_METRIC_NAMES`)
 */
export function createJagaMetrics(registry: Registry, options: JagaMetricsOptions = {}): JagaMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const eventsTotal = new Counter({ name: 'jaga_events_total', help: 'Access events read, by source name and event kind.', labelNames: ['source', 'kind'] as const, registers });
  const sourceReadBytesTotal = new Counter({ name: 'jaga_source_read_bytes_total', help: 'Bytes read by each source.', labelNames: ['source'] as const, registers });
  const sourceLagBytes = new Gauge({ name: 'jaga_source_lag_bytes', help: 'Bytes in a source\'s files not yet read.', labelNames: ['source'] as const, registers });
  const sourceLastRecordTimestampSeconds = new Gauge({ name: 'jaga_source_last_record_timestamp_seconds', help: 'Unix time a source last delivered a record (0 = never since start).', labelNames: ['source'] as const, registers });
  const sourceUp = new Gauge({ name: 'jaga_source_up', help: 'Whether a source is usable and not stalled (1) or not (0).', labelNames: ['source'] as const, registers });
  const listenerConnected = new Gauge({ name: 'jaga_listener_connected', help: 'Whether the app access source\'s LISTEN connection is up (1) or not (0).', labelNames: ['source'] as const, registers });
  const pipelineLatencySeconds = new Histogram({
    name: 'jaga_pipeline_latency_seconds',
    help: 'Seconds from reading a record to committing the incident transaction covering it.',
    labelNames: ['source'] as const,
    buckets: [...PIPELINE_LATENCY_BUCKETS_SECONDS],
    registers,
  });
  const detectionsTotal = new Counter({ name: 'jaga_detections_total', help: 'Detections produced, by detector (rule or baseline id) and severity.', labelNames: ['detector', 'severity'] as const, registers });
  const openIncidents = new Gauge({ name: 'jaga_open_incidents', help: 'Unresolved incidents by severity and status (open or acknowledged).', labelNames: ['severity', 'status'] as const, registers });
  const timeToAcknowledgeSeconds = new Histogram({
    name: 'jaga_time_to_acknowledge_seconds',
    help: 'Seconds from an incident opening to its acknowledgement, by severity.',
    labelNames: ['severity'] as const,
    buckets: [...TIME_TO_ACKNOWLEDGE_BUCKETS_SECONDS],
    registers,
  });
  const outboxDepth = new Gauge({ name: 'jaga_outbox_depth', help: 'Notifications waiting in the outbox, by receiver.', labelNames: ['receiver'] as const, registers });
  const outboxOldestAgeSeconds = new Gauge({ name: 'jaga_outbox_oldest_age_seconds', help: 'Age of the oldest waiting notification, by receiver (0 when empty).', labelNames: ['receiver'] as const, registers });
  const rulesLoaded = new Gauge({ name: 'jaga_rules_loaded', help: 'Rules in the running rule set.', registers });
  const rulesLastReloadSuccessful = new Gauge({ name: 'jaga_rules_last_reload_successful', help: 'Whether the last rule set reload succeeded (1) or failed (0).', registers });
  const baselineEntities = new Gauge({ name: 'jaga_baseline_entities', help: 'Entities a baseline detector keeps state for, by detector.', labelNames: ['detector'] as const, registers });
  const buildInfo = new Gauge({ name: 'jaga_build_info', help: 'The running jaga version (always 1).', labelNames: ['version'] as const, registers });
  buildInfo.set({ version: options.version ?? 'unknown' }, 1);
  rulesLastReloadSuccessful.set(1);
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'jaga_' });
    // gauges named `_total` fail `promtool check metrics`; the per-type `jaga_nodejs_active_*{type}` stay
    for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }

  const metrics: JagaMetrics = {
    registry,
    eventsTotal,
    sourceReadBytesTotal,
    sourceLagBytes,
    sourceLastRecordTimestampSeconds,
    sourceUp,
    listenerConnected,
    pipelineLatencySeconds,
    detectionsTotal,
    openIncidents,
    timeToAcknowledgeSeconds,
    outboxDepth,
    outboxOldestAgeSeconds,
    rulesLoaded,
    rulesLastReloadSuccessful,
    baselineEntities,
    buildInfo,
    initSource(source, kinds, sourceOptions = {}) {
      for (const kind of kinds) eventsTotal.inc({ source, kind }, 0);
      sourceReadBytesTotal.inc({ source }, 0);
      sourceLagBytes.set({ source }, 0);
      sourceLastRecordTimestampSeconds.set({ source }, 0);
      sourceUp.set({ source }, 0);
      if (sourceOptions.listener === true) listenerConnected.set({ source }, 0);
    },
    setOpenIncidents(counts) {
      for (const severity of SEVERITIES) {
        for (const status of OPEN_INCIDENT_STATUSES) openIncidents.set({ severity, status }, 0);
      }
      for (const row of counts) openIncidents.inc({ severity: row.severity, status: row.status }, row.count);
    },
    setOutbox(receivers, states) {
      for (const receiver of receivers) {
        outboxDepth.set({ receiver }, 0);
        outboxOldestAgeSeconds.set({ receiver }, 0);
      }
      for (const state of states) {
        outboxDepth.set({ receiver: state.receiver }, state.depth);
        outboxOldestAgeSeconds.set({ receiver: state.receiver }, state.oldestAgeSeconds);
      }
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

/**
 * Names of every metric family `createJagaMetrics` registers itself (without the process metrics),
 * as they appear in the exposition (histograms add `_bucket`, `_sum`, `_count`). Internal events must
 * not be named so that `jaga_<event>_total` collides with these (e.g. no event `events`, `detections`
 * or `source_read_bytes`).
 */
export const JAGA_METRIC_NAMES: readonly string[] = [
  'jaga_events_total',
  'jaga_source_read_bytes_total',
  'jaga_source_lag_bytes',
  'jaga_source_last_record_timestamp_seconds',
  'jaga_source_up',
  'jaga_listener_connected',
  'jaga_pipeline_latency_seconds',
  'jaga_detections_total',
  'jaga_open_incidents',
  'jaga_time_to_acknowledge_seconds',
  'jaga_outbox_depth',
  'jaga_outbox_oldest_age_seconds',
  'jaga_rules_loaded',
  'jaga_rules_last_reload_successful',
  'jaga_baseline_entities',
  'jaga_build_info',
];
