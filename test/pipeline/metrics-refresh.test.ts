import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveIncidentsConfig } from '../../src/config/incidents-config.js';
import { DEFAULT_ROUTE_CHANGES } from '../../src/config/notify-config.js';
import type { Store } from '../../src/db/store.js';
import { IncidentService } from '../../src/incidents/incident-service.js';
import { NotificationPlanner } from '../../src/notify/notification-planner.js';
import { createJagaMetrics } from '../../src/observe/jaga-metrics.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { MetricsRefresh } from '../../src/pipeline/metrics-refresh.js';
import type { PipelineSource, SourceHealth } from '../../src/pipeline/pipeline-source.js';
import { useStoreHarness } from '../db/store-harness.js';
import { detection } from '../incidents/detection-factory.js';
import { receiverConfig, testLinks } from '../notify/notify-fixtures.js';

const harness = useStoreHarness({ pg: false });
const OPENED = new Date('2026-01-01T00:02:00.000Z');

/** A source that only reports health (the refresh reads nothing else). */
function healthSource(id: string, health: SourceHealth): PipelineSource {
  return {
    id,
    checkpointKey: `a/${id}`,
    batches: async function* () {},
    checkpointsWith: () => ({ save: [], forget: [] }),
    ack: () => undefined,
    stop: async () => undefined,
    health: () => health,
  };
}

describe('MetricsRefresh (PGlite)', () => {
  let store: Store;
  beforeAll(async () => {
    store = await harness.open('pglite');
  });

  it('sets open incidents by severity and status, outbox depth and oldest age per receiver, and source health', async () => {
    const incidents = new IncidentService(store, { config: resolveIncidentsConfig({}) });
    const planner = new NotificationPlanner(
      { receivers: { ops: receiverConfig('ops', 'console', {}), idle: receiverConfig('idle', 'console', {}) }, routes: [{ severityAtLeast: null, tagsAny: null, detectors: null, statuses: null, changes: DEFAULT_ROUTE_CHANGES, receivers: ['ops'] }], escalation: { steps: [] } },
      testLinks,
    );
    await store.transaction(async (tx) => {
      const changes = await incidents.applyDetections(
        tx,
        [detection({ id: 'h1', severity: 'high' }), detection({ id: 'c1', severity: 'critical', group: { user: 'x' }, groupKey: '{"user":"x"}' }), detection({ id: 'c2', severity: 'critical', group: { user: 'y' }, groupKey: '{"user":"y"}' })],
        OPENED,
      );
      await planner.enqueue(tx, changes, OPENED);
    });
    const [critical] = await store.query<{ id: number }>("SELECT id FROM jaga_incident WHERE severity = 'critical' ORDER BY id LIMIT 1");
    await store.transaction((tx) => incidents.acknowledge(tx, critical!.id, { actor: 'responder:a', note: null, expectedVersion: null }, OPENED));

    const registry = new Registry();
    const metrics = createJagaMetrics(registry, { processMetrics: false });
    const refresh = new MetricsRefresh({
      store,
      metrics,
      sources: [healthSource('pg', { up: false, lagBytes: 4096, listenerConnected: null }), healthSource('app', { up: true, lagBytes: 0, listenerConnected: true })],
      receivers: ['ops', 'idle'],
      baselineEntities: () => new Map([['baseline.volume', 17]]),
      telemetry: new Telemetry(createSilentLogger()),
      now: () => new Date(OPENED.getTime() + 42_500),
    });
    await refresh.refreshOnce();
    const text = await registry.metrics();
    const value = (series: string): number | null => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? null : Number(line.slice(series.length + 1));
    };
    expect([value('jaga_open_incidents{severity="high",status="open"}'), value('jaga_open_incidents{severity="critical",status="open"}'), value('jaga_open_incidents{severity="critical",status="acknowledged"}'), value('jaga_open_incidents{severity="low",status="open"}')]).toEqual([1, 1, 1, 0]);
    expect([value('jaga_outbox_depth{receiver="ops"}'), value('jaga_outbox_oldest_age_seconds{receiver="ops"}'), value('jaga_outbox_depth{receiver="idle"}'), value('jaga_outbox_oldest_age_seconds{receiver="idle"}')]).toEqual([3, 42.5, 0, 0]);
    expect([value('jaga_source_up{source="pg"}'), value('jaga_source_lag_bytes{source="pg"}'), value('jaga_source_up{source="app"}'), value('jaga_listener_connected{source="app"}'), value('jaga_listener_connected{source="pg"}')]).toEqual([0, 4096, 1, 1, null]);
    expect(value('jaga_baseline_entities{detector="baseline.volume"}')).toBe(17);
  });
});
