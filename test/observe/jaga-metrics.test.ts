import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  JAGA_METRIC_NAMES,
  PIPELINE_LATENCY_BUCKETS_SECONDS,
  TIME_TO_ACKNOWLEDGE_BUCKETS_SECONDS,
  createJagaMetrics,
} from '../../src/observe/jaga-metrics.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { exportedRegistry } from '../dashboards/exported-metrics.js';
import { runPromtool } from '../dashboards/promtool.js';

/** name -> [type, label names] of the catalogue (issue 7 "Metrics"). */
const CATALOGUE: Record<string, [string, string[]]> = {
  jaga_events_total: ['counter', ['source', 'kind']],
  jaga_source_read_bytes_total: ['counter', ['source']],
  jaga_source_lag_bytes: ['gauge', ['source']],
  jaga_source_last_record_timestamp_seconds: ['gauge', ['source']],
  jaga_source_up: ['gauge', ['source']],
  jaga_listener_connected: ['gauge', ['source']],
  jaga_pipeline_latency_seconds: ['histogram', ['source']],
  jaga_detections_total: ['counter', ['detector', 'severity']],
  jaga_open_incidents: ['gauge', ['severity', 'status']],
  jaga_time_to_acknowledge_seconds: ['histogram', ['severity']],
  jaga_outbox_depth: ['gauge', ['receiver']],
  jaga_outbox_oldest_age_seconds: ['gauge', ['receiver']],
  jaga_rules_loaded: ['gauge', []],
  jaga_rules_last_reload_successful: ['gauge', []],
  jaga_baseline_entities: ['gauge', ['detector']],
  jaga_build_info: ['gauge', ['version']],
};

/** Labels that would carry unbounded or customer values (CONVENTIONS.md rule 9). */
const FORBIDDEN_LABELS = ['user', 'user_name', 'role', 'address', 'client', 'client_addr', 'host', 'table', 'relation', 'object', 'statement', 'query', 'database', 'application'];

function labelNamesOf(registry: Registry, name: string): readonly string[] {
  const metric = registry.getSingleMetric(name) as unknown as { labelNames: readonly string[] } | undefined;
  if (!metric) throw new Error(`metric ${name} is not registered`);
  return metric.labelNames;
}

function sampleLines(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('createJagaMetrics', () => {
  it('registers exactly the catalogue with its types and label names', async () => {
    const registry = new Registry();
    createJagaMetrics(registry, { version: '1.2.3' });
    const families = (await registry.getMetricsAsJSON()).filter((f) => !f.name.startsWith('jaga_process_') && !f.name.startsWith('jaga_nodejs_'));
    expect(Object.fromEntries(families.map((f) => [f.name, [String(f.type), [...labelNamesOf(registry, f.name)]]]))).toEqual(CATALOGUE);
    expect([...JAGA_METRIC_NAMES].sort()).toEqual(Object.keys(CATALOGUE).sort());
  });

  it('uses the documented histogram buckets: 1 ms..10 s for latency, 30 s..1 day for acknowledgement', async () => {
    const registry = new Registry();
    const metrics = createJagaMetrics(registry, { processMetrics: false });
    metrics.pipelineLatencySeconds.observe({ source: 'main' }, 0.003);
    metrics.timeToAcknowledgeSeconds.observe({ severity: 'critical' }, 400);
    const text = await registry.metrics();
    const les = (name: string): string[] => sampleLines(text, `${name}_bucket`).map((line) => /le="([^"]+)"/.exec(line)![1]!);
    expect(les('jaga_pipeline_latency_seconds')).toEqual([...PIPELINE_LATENCY_BUCKETS_SECONDS.map(String), '+Inf']);
    expect(PIPELINE_LATENCY_BUCKETS_SECONDS[0]).toBe(0.001);
    expect(PIPELINE_LATENCY_BUCKETS_SECONDS.at(-1)).toBe(10);
    expect(les('jaga_time_to_acknowledge_seconds')).toEqual([...TIME_TO_ACKNOWLEDGE_BUCKETS_SECONDS.map(String), '+Inf']);
    expect(sampleLines(text, 'jaga_pipeline_latency_seconds_bucket')).toContain('jaga_pipeline_latency_seconds_bucket{le="0.0025",source="main"} 0');
    expect(sampleLines(text, 'jaga_pipeline_latency_seconds_bucket')).toContain('jaga_pipeline_latency_seconds_bucket{le="0.005",source="main"} 1');
  });

  it('exports jaga_build_info{version} = 1 and the last-reload gauge starting at 1', async () => {
    const registry = new Registry();
    createJagaMetrics(registry, { version: '0.1.0', processMetrics: false });
    const text = await registry.metrics();
    expect(sampleLines(text, 'jaga_build_info')).toEqual(['jaga_build_info{version="0.1.0"} 1']);
    expect(sampleLines(text, 'jaga_rules_last_reload_successful')).toEqual(['jaga_rules_last_reload_successful 1']);
  });

  it('returns the same handles when created twice on one registry, separate ones on another', () => {
    const registry = new Registry();
    const first = createJagaMetrics(registry);
    const second = createJagaMetrics(registry);
    expect(second).toBe(first);
    const other = createJagaMetrics(new Registry());
    expect(other).not.toBe(first);
    expect(other.eventsTotal).not.toBe(first.eventsTotal);
  });

  it('throws when an internal event already took a catalogue name on the registry', () => {
    const registry = new Registry();
    new Telemetry(createSilentLogger(), registry).declare({ name: 'events', help: 'clash', level: 'info', labels: [] });
    expect(() => createJagaMetrics(registry)).toThrow(/jaga_events_total/);
  });

  it('adds prom-client process metrics prefixed jaga_, minus the gauges named _total that promtool rejects', async () => {
    const registry = new Registry();
    createJagaMetrics(registry);
    const families = await registry.getMetricsAsJSON();
    const names = families.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['jaga_process_resident_memory_bytes', 'jaga_process_cpu_seconds_total', 'jaga_nodejs_heap_size_used_bytes', 'jaga_nodejs_eventloop_lag_p99_seconds', 'jaga_nodejs_active_handles']));
    expect(names).not.toContain('jaga_nodejs_active_handles_total');
    expect(families.filter((f) => f.name.endsWith('_total') && String(f.type) !== 'counter').map((f) => f.name)).toEqual([]);
    expect(names.filter((n) => !n.startsWith('jaga_'))).toEqual([]);
  });

  it('initSource zero-initialises the source\'s series so alerts see them before the first record', async () => {
    const registry = new Registry();
    const metrics = createJagaMetrics(registry, { processMetrics: false });
    metrics.initSource('main', ['audit', 'auth_failure']);
    metrics.initSource('app', ['app_access'], { listener: true });
    const text = await registry.metrics();
    expect(sampleLines(text, 'jaga_events_total')).toEqual([
      'jaga_events_total{source="main",kind="audit"} 0',
      'jaga_events_total{source="main",kind="auth_failure"} 0',
      'jaga_events_total{source="app",kind="app_access"} 0',
    ]);
    expect(sampleLines(text, 'jaga_source_up')).toEqual(['jaga_source_up{source="main"} 0', 'jaga_source_up{source="app"} 0']);
    expect(sampleLines(text, 'jaga_source_lag_bytes')).toEqual(['jaga_source_lag_bytes{source="main"} 0', 'jaga_source_lag_bytes{source="app"} 0']);
    expect(sampleLines(text, 'jaga_listener_connected')).toEqual(['jaga_listener_connected{source="app"} 0']);
  });

  it('setOpenIncidents replaces every severity x status, so a drained severity reads 0 (not a stale count)', async () => {
    const registry = new Registry();
    const metrics = createJagaMetrics(registry, { processMetrics: false });
    metrics.setOpenIncidents([
      { severity: 'high', status: 'open', count: 2 },
      { severity: 'critical', status: 'acknowledged', count: 1 },
    ]);
    metrics.setOpenIncidents([{ severity: 'low', status: 'open', count: 3 }]);
    const lines = sampleLines(await registry.metrics(), 'jaga_open_incidents');
    expect(lines).toHaveLength(10);
    expect(lines.filter((line) => !line.endsWith(' 0'))).toEqual(['jaga_open_incidents{severity="low",status="open"} 3']);
    expect(lines).toContain('jaga_open_incidents{severity="high",status="open"} 0');
    expect(lines).toContain('jaga_open_incidents{severity="critical",status="acknowledged"} 0');
  });

  it('setOutbox sets depth and age per receiver; configured receivers without rows read 0', async () => {
    const registry = new Registry();
    const metrics = createJagaMetrics(registry, { processMetrics: false });
    metrics.setOutbox(['security-slack', 'dpo-mail'], [{ receiver: 'security-slack', depth: 4, oldestAgeSeconds: 95.5 }]);
    metrics.setOutbox(['security-slack', 'dpo-mail'], [{ receiver: 'dpo-mail', depth: 1, oldestAgeSeconds: 3 }]);
    const text = await registry.metrics();
    expect(sampleLines(text, 'jaga_outbox_depth')).toEqual(['jaga_outbox_depth{receiver="security-slack"} 0', 'jaga_outbox_depth{receiver="dpo-mail"} 1']);
    expect(sampleLines(text, 'jaga_outbox_oldest_age_seconds')).toEqual(['jaga_outbox_oldest_age_seconds{receiver="security-slack"} 0', 'jaga_outbox_oldest_age_seconds{receiver="dpo-mail"} 3']);
  });

  it('never labels a metric with a user, address, table, statement or similar unbounded value', async () => {
    const { registry, events } = exportedRegistry();
    for (const family of await registry.getMetricsAsJSON()) {
      const labels = labelNamesOf(registry, family.name);
      expect(labels.filter((label) => FORBIDDEN_LABELS.includes(label)), family.name).toEqual([]);
    }
    for (const event of events) expect(event.labels.filter((label) => FORBIDDEN_LABELS.includes(label)), `${event.file}: ${event.name}`).toEqual([]);
  });

  it('`promtool check metrics` accepts the exposition once every family (catalogue + internal events) has a sample', async () => {
    const { registry, events } = exportedRegistry();
    const text = await registry.metrics();
    expect(events.map((e) => e.name)).toEqual(expect.arrayContaining(['parse_failure', 'rules_reload', 'log_source_error']));
    const ours = new Set([...JAGA_METRIC_NAMES, ...events.map((e) => `jaga_${e.name}_total`)]);
    // process metrics depend on the runtime (e.g. no active requests = no sample); ours all have one
    for (const family of (await registry.getMetricsAsJSON()).filter((f) => ours.has(f.name))) {
      expect(family.values.length, `${family.name} has no sample`).toBeGreaterThan(0);
    }
    const result = runPromtool(['check', 'metrics'], text);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});
