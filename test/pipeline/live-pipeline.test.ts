import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveIncidentsConfig } from '../../src/config/incidents-config.js';
import { shippedRulesDir } from '../../src/config/detection-config.js';
import { TABLE_CURSOR_KEY, CheckpointRepository } from '../../src/db/checkpoint-repository.js';
import { DetectorStateRepository, ENGINE_STATE_COMPONENT } from '../../src/db/detector-state-repository.js';
import { openStore } from '../../src/db/open-store.js';
import type { Store } from '../../src/db/store.js';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { loadRuleSet } from '../../src/detect/rule-loader.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { IncidentRepository } from '../../src/incidents/incident-repository.js';
import { IncidentService } from '../../src/incidents/incident-service.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { LivePipeline } from '../../src/pipeline/live-pipeline.js';
import { PipelineCommit } from '../../src/pipeline/pipeline-commit.js';
import type { PipelineSource, SourceBatch, SourceCheckpoints, SourceHealth } from '../../src/pipeline/pipeline-source.js';
import { audit, makeEvent, ruleHead, writeTree } from '../detect/rule-fixtures.js';

/** A source that yields scripted batches (position = batch number), then waits for the stop. */
class ScriptedSource implements PipelineSource {
  readonly id = 'scripted';
  readonly checkpointKey = 'test-agent/scripted';
  acked: number[] = [];
  readonly yielded: number[] = [];

  constructor(private readonly script: AccessEvent[][]) {}

  async *batches(signal: AbortSignal): AsyncGenerator<SourceBatch> {
    for (const [index, events] of this.script.entries()) {
      this.yielded.push(index + 1);
      yield { source: this, events, failures: 0, position: index + 1 };
    }
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
  }

  checkpointsWith(positions: readonly unknown[]): SourceCheckpoints {
    const last = (positions.at(-1) as number | undefined) ?? this.acked.at(-1);
    return { save: last === undefined ? [] : [{ sourceId: this.checkpointKey, fileFingerprint: TABLE_CURSOR_KEY, filePath: 'script', byteOffset: last, cursor: null }], forget: [] };
  }

  ack(positions: readonly unknown[]): void {
    this.acked.push(...(positions as number[]));
  }

  async stop(): Promise<void> {}
}

/** A source that yields one batch, then reports unread bytes and yields nothing until `release()`, then a second batch. */
class StallingSource extends ScriptedSource {
  lagBytes = 0;
  private released: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.released = resolve));

  constructor(private readonly first: AccessEvent[], private readonly second: AccessEvent[]) {
    super([]);
  }

  release(): void {
    this.released();
  }

  override async *batches(signal: AbortSignal): AsyncGenerator<SourceBatch> {
    yield { source: this, events: this.first, failures: 0, position: 1 };
    this.lagBytes = 4096;
    await this.gate;
    this.lagBytes = 0;
    yield { source: this, events: this.second, failures: 0, position: 2 };
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
  }

  health(): SourceHealth {
    return { up: true, lagBytes: this.lagBytes, listenerConnected: null };
  }
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

describe('LivePipeline', () => {
  let store: Store;
  let engine: DetectionEngine;
  beforeAll(async () => {
    store = await openStore({ memory: true });
    // the shipped pack plus an absence rule: audit entries of a server stop for 10 minutes
    const extra = await writeTree({
      'silence.yaml': `${ruleHead('test.audit.stopped', 'absence')}match:\n  sel:\n    kind: audit\nafter: 10m\ngroup_by: [server]\n`,
    });
    const rules = await loadRuleSet({ ruleDirs: [shippedRulesDir(), extra], registry: DETECTOR_REGISTRY });
    engine = new DetectionEngine(rules.rules, rules.context);
  });
  afterAll(async () => {
    await store.close();
  });

  it('moves the watermark from the wall clock when no events arrive, so an absence rule fires; drops jaga traffic; commits and acks', async () => {
    let nowMs = T0 + 5 * 60_000;
    const source = new ScriptedSource([
      [
        makeEvent({ id: 'e1', time: at(0), server: 'db1', kind: 'audit', user: 'app_web', audit: audit() }),
        makeEvent({ id: 'e2', time: at(5 * 60_000), server: 'db1', kind: 'authorization', user: 'app_web' }),
      ],
      // jaga's own traffic (its role AND application name): never reaches detection
      Array.from({ length: 12 }, (_, i) => makeEvent({ id: `own${i}`, time: at(5 * 60_000 + i), server: 'db1', kind: 'auth_failure', user: 'jaga_store', application_name: 'jaga' })),
    ]);
    const telemetry = new Telemetry(createSilentLogger());
    const commits: number[] = [];
    const pipeline = new LivePipeline({
      sources: [source],
      engine,
      commit: new PipelineCommit({ store, agent: 'test-agent', incidents: new IncidentService(store, { config: resolveIncidentsConfig({}) }), notifications: null, now: () => new Date(nowMs) }),
      telemetry,
      ignoreRoles: ['jaga_store'],
      ignoreApplicationNames: ['jaga', 'jaga:*'],
      commitIntervalMs: 100,
      nowMs: () => nowMs,
      onCommit: (result) => commits.push(result.changes.length),
    });
    const controller = new AbortController();
    const running = pipeline.run(controller.signal);
    const until = async (check: () => boolean | Promise<boolean>, what: string): Promise<void> => {
      for (let i = 0; !(await check()); i++) {
        if (i > 500) throw new Error(`never: ${what}`);
        nowMs += 50;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await until(() => source.acked.includes(2), 'both batches committed');
    const incidents = new IncidentRepository(store);
    expect(await incidents.list({ detector: 'test.audit.stopped' })).toEqual([]);
    expect(await incidents.list({ detector: 'jaga.auth.brute_force' })).toEqual([]);
    nowMs = T0 + 12 * 60_000; // no event arrives: only the wall clock moves past the 10 min silence
    await until(async () => (await incidents.list({ detector: 'test.audit.stopped' })).length === 1, 'the absence incident');
    controller.abort();
    await running;
    // app_web is not in the shipped known_roles list: its login opened one incident with the first batch;
    // the absence incident came with a later commit, from the wall clock alone
    expect(commits.filter((changes) => changes > 0)).toEqual([1, 1]);
    expect((await incidents.list()).map((i) => i.detectorId).sort()).toEqual(['jaga.auth.unknown_role', 'test.audit.stopped']);
    expect((await new CheckpointRepository(store).load('test-agent/scripted')).map((c) => c.byteOffset)).toEqual([2]);
    const state = await new DetectorStateRepository(store).load('test-agent', ENGINE_STATE_COMPONENT);
    expect((state?.state as { watermarkMs: number }).watermarkMs).toBeGreaterThanOrEqual(T0 + 10 * 60_000);
    const metrics = await telemetry.registry.getSingleMetricAsString('jaga_pipeline_ignored_events_total');
    expect(metrics).toContain('jaga_pipeline_ignored_events_total 12');
  }, 60_000);

  it('does not move the watermark from the wall clock while a source still has unread bytes (a backlog read slowly)', async () => {
    const rules = await loadRuleSet({
      ruleDirs: [await writeTree({ 'silence.yaml': `${ruleHead('test.audit.stopped', 'absence')}match:\n  sel:\n    kind: audit\nafter: 10m\ngroup_by: [server]\n` })],
      registry: DETECTOR_REGISTRY,
    });
    const own = new DetectionEngine(rules.rules, rules.context);
    const ownStore = await openStore({ memory: true });
    let nowMs = T0 + 60_000;
    const source = new StallingSource(
      [makeEvent({ id: 's1', time: at(0), server: 'db2', kind: 'audit', user: 'app_web', audit: audit() })],
      [makeEvent({ id: 's2', time: at(9 * 60_000), server: 'db2', kind: 'audit', user: 'app_web', audit: audit() })],
    );
    const pipeline = new LivePipeline({
      sources: [source],
      engine: own,
      commit: new PipelineCommit({ store: ownStore, agent: 'test-agent', incidents: new IncidentService(ownStore, { config: resolveIncidentsConfig({}) }), notifications: null, now: () => new Date(nowMs) }),
      telemetry: new Telemetry(createSilentLogger()),
      commitIntervalMs: 100,
      nowMs: () => nowMs,
    });
    const controller = new AbortController();
    const running = pipeline.run(controller.signal);
    try {
      // the wall clock passes the 10 min silence while the source is behind: ticks must not advance the engine
      for (let i = 0; i < 11; i++) {
        nowMs += 60_000;
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      expect(own.watermarkMs).toBeLessThan(T0 + 60_000);
      source.release();
      for (let i = 0; i < 200 && !source.acked.includes(2); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(source.acked).toContain(2);
      // caught up: the wall clock moves it again; the audit stream was never silent for 10 min in event time
      nowMs = T0 + 18 * 60_000;
      for (let i = 0; i < 100 && own.watermarkMs < T0 + 17 * 60_000; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(own.watermarkMs).toBe(T0 + 18 * 60_000 - 5_000);
      expect(await new IncidentRepository(ownStore).list({ detector: 'test.audit.stopped' })).toEqual([]);
    } finally {
      controller.abort();
      await running;
      await ownStore.close();
    }
  }, 60_000);
});
