import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Registry } from 'prom-client';
import { createJagaMetrics, type JagaMetrics } from '../../src/observe/jaga-metrics.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';

/** One `telemetry.declare({ name, labels, ... })` call found in src/. */
export interface DeclaredEvent {
  name: string;
  labels: string[];
  /** path relative to the repository root */
  file: string;
}

const ROOT = join(import.meta.dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Every internal event declared in src/ (static scan of `.declare({ name: '...', labels: [...] })`,
 * src/observe/telemetry.ts itself excluded).
 * @throws Error when a `.declare(` call does not spell its name and labels literally (the scan would miss it)
 */
export function telemetryDeclaredEvents(): DeclaredEvent[] {
  const events: DeclaredEvent[] = [];
  for (const path of tsFiles(join(ROOT, 'src'))) {
    const file = relative(ROOT, path);
    if (file === join('src', 'observe', 'telemetry.ts')) continue;
    const text = readFileSync(path, 'utf8');
    for (const match of text.matchAll(/\.declare(?:<[^>(]*>)?\(/g)) {
      const call = text.slice(match.index, text.indexOf('})', match.index) + 2);
      const name = /\bname:\s*'([a-z][a-z0-9_]*)'/.exec(call)?.[1];
      const labels = /\blabels:\s*\[([^\]]*)\]/.exec(call)?.[1];
      if (name === undefined || labels === undefined) throw new Error(`${file}: a telemetry.declare call without a literal name and labels: ${call.slice(0, 120)}`);
      events.push({ name, labels: [...labels.matchAll(/'([^']+)'/g)].map((m) => m[1]!), file });
    }
  }
  return events;
}

/** A registry holding what a jaga process exports, every family with at least one sample. */
export interface ExportedRegistry {
  registry: Registry;
  metrics: JagaMetrics;
  events: DeclaredEvent[];
}

/**
 * Builds the registry a daemon serves on /metrics: the catalogue (createJagaMetrics) plus every
 * declared internal event (through the real Telemetry on the same registry, first declaration of a
 * name wins as in Telemetry), then gives every family one sample.
 */
export function exportedRegistry(): ExportedRegistry {
  const registry = new Registry();
  const metrics = createJagaMetrics(registry, { version: '0.1.0' });
  const telemetry = new Telemetry(createSilentLogger(), registry);
  // the daemon's own declarations (src/pipeline) first: where a one-shot CLI command declares the same
  // event with fewer labels (parse_failure without `source`), the daemon's label set is the one served
  const events = telemetryDeclaredEvents().sort((a, b) => Number(!a.file.startsWith('src/pipeline/')) - Number(!b.file.startsWith('src/pipeline/')));
  const reported = new Set<string>();
  for (const event of events) {
    const report = telemetry.declare({ name: event.name, help: `internal event ${event.name}`, level: 'debug', labels: event.labels });
    if (reported.has(event.name)) continue;
    reported.add(event.name);
    report(Object.fromEntries(event.labels.map((label) => [label, 'sample'])));
  }
  metrics.initSource('main', ['audit', 'error']);
  metrics.eventsTotal.inc({ source: 'main', kind: 'audit' }, 3);
  metrics.sourceReadBytesTotal.inc({ source: 'main' }, 4096);
  metrics.sourceLagBytes.set({ source: 'main' }, 512);
  metrics.sourceLastRecordTimestampSeconds.set({ source: 'main' }, 1_767_225_600);
  metrics.sourceUp.set({ source: 'main' }, 1);
  metrics.listenerConnected.set({ source: 'app' }, 1);
  metrics.pipelineLatencySeconds.observe({ source: 'main' }, 0.012);
  metrics.detectionsTotal.inc({ detector: 'jaga.auth.brute_force', severity: 'high' });
  metrics.setOpenIncidents([{ severity: 'high', status: 'open', count: 1 }]);
  metrics.timeToAcknowledgeSeconds.observe({ severity: 'high' }, 240);
  metrics.setOutbox(['security-slack'], [{ receiver: 'security-slack', depth: 2, oldestAgeSeconds: 12.5 }]);
  metrics.rulesLoaded.set(42);
  metrics.baselineEntities.set({ detector: 'baseline.volume' }, 17);
  return { registry, metrics, events };
}

/**
 * Label names of every series name a PromQL expression may select from `registry` (see
 * `selectableSeriesNames`): the family's label names, plus `le` on histogram buckets, plus the target
 * labels `job` and `instance` Prometheus adds to every scraped series.
 */
export async function seriesLabelNames(registry: Registry): Promise<Map<string, Set<string>>> {
  const labels = new Map<string, Set<string>>([['up', new Set(['job', 'instance'])]]);
  for (const family of await registry.getMetricsAsJSON()) {
    const metric = registry.getSingleMetric(family.name) as unknown as { labelNames?: readonly string[] };
    const own = ['job', 'instance', ...(metric.labelNames ?? [])];
    labels.set(family.name, new Set(own));
    if (String(family.type) === 'histogram') {
      labels.set(`${family.name}_bucket`, new Set([...own, 'le']));
      for (const suffix of ['_sum', '_count']) labels.set(family.name + suffix, new Set(own));
    }
    if (String(family.type) === 'summary') for (const suffix of ['_sum', '_count']) labels.set(family.name + suffix, new Set(own));
  }
  return labels;
}

/**
 * Names a PromQL expression may select from `registry`: each family's name, histograms' `_bucket`,
 * `_sum` and `_count` series, summaries' `_sum` and `_count`, plus Prometheus's own `up`.
 */
export async function selectableSeriesNames(registry: Registry): Promise<Set<string>> {
  const names = new Set<string>(['up']);
  for (const family of await registry.getMetricsAsJSON()) {
    names.add(family.name);
    if (String(family.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family.name + suffix);
    if (String(family.type) === 'summary') for (const suffix of ['_sum', '_count']) names.add(family.name + suffix);
  }
  return names;
}
