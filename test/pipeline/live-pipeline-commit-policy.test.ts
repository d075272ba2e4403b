import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveIncidentsConfig } from '../../src/config/incidents-config.js';
import { TABLE_CURSOR_KEY, CheckpointRepository } from '../../src/db/checkpoint-repository.js';
import { openStore } from '../../src/db/open-store.js';
import type { Store } from '../../src/db/store.js';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { loadRuleSet } from '../../src/detect/rule-loader.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { IncidentService } from '../../src/incidents/incident-service.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { LivePipeline } from '../../src/pipeline/live-pipeline.js';
import { PipelineCommit } from '../../src/pipeline/pipeline-commit.js';
import type { PipelineSource, SourceBatch, SourceCheckpoints, SourceHealth } from '../../src/pipeline/pipeline-source.js';
import { makeEvent, ruleHead, writeTree } from '../detect/rule-fixtures.js';

/** Yields scripted batches (position = batch number), reports `lagBytes` as its health, then waits for the stop. */
class LaggingSource implements PipelineSource {
  readonly id = 'scripted';
  readonly checkpointKey: string;
  acked: number[] = [];
  yielded = 0;

  constructor(
    name: string,
    private readonly script: AccessEvent[][],
    public lagBytes: number,
  ) {
    this.checkpointKey = `policy-agent/${name}`;
  }

  async *batches(signal: AbortSignal): AsyncGenerator<SourceBatch> {
    for (const [index, events] of this.script.entries()) {
      this.yielded = index + 1;
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

  health(): SourceHealth {
    return { up: true, lagBytes: this.lagBytes, listenerConnected: null };
  }

  async stop(): Promise<void> {}
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** A frozen wall clock: the commit interval never passes, so any commit before the stop is the detection rule's. */
const FROZEN_NOW_MS = T0 + 60_000;

const failure = (id: string, user: string): AccessEvent => makeEvent({ id, time: new Date(T0 + 1_000).toISOString(), server: 'db1', kind: 'auth_failure', user });
const quiet = (id: string): AccessEvent => makeEvent({ id, time: new Date(T0 + 1_000).toISOString(), server: 'db1', kind: 'connection', user: 'app' });

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 1_000) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LivePipeline commit policy', () => {
  let store: Store;
  let engine: () => DetectionEngine;
  beforeAll(async () => {
    store = await openStore({ memory: true });
    const dir = await writeTree({ 'fail.yaml': `${ruleHead('test.policy.failure', 'match')}match:\n  sel:\n    kind: auth_failure\n  condition: sel\ngroup_by: [user]\n` });
    const rules = await loadRuleSet({ ruleDirs: [dir], registry: DETECTOR_REGISTRY });
    engine = () => new DetectionEngine(rules.rules, rules.context);
  });
  afterAll(async () => {
    await store.close();
  });

  function pipelineFor(
    source: LaggingSource,
    commits: { changes: number; events: number }[],
    pacing: { commitIntervalMs: number; maxBatchEvents: number; nowMs: () => number } = { commitIntervalMs: 60_000, maxBatchEvents: 1_000_000, nowMs: () => FROZEN_NOW_MS },
  ): LivePipeline {
    return new LivePipeline({
      sources: [source],
      engine: engine(),
      commit: new PipelineCommit({ store, agent: 'policy-agent', incidents: new IncidentService(store, { config: resolveIncidentsConfig({}) }), notifications: null, now: () => new Date(FROZEN_NOW_MS) }),
      telemetry: new Telemetry(createSilentLogger()),
      ...pacing,
      onCommit: (result, events) => commits.push({ changes: result.changes.length, events }),
    });
  }

  /** `batches` batches of `size` quiet events each, ids prefixed with `prefix` */
  const quietBatches = (prefix: string, batches: number, size: number): AccessEvent[][] =>
    Array.from({ length: batches }, (_, b) => Array.from({ length: size }, (_, i) => quiet(`${prefix}${b}.${i}`)));

  it('commits a detection right after its batch once the source is caught up, long before the commit interval', async () => {
    const source = new LaggingSource('caught-up', [[quiet('q1'), failure('f1', 'mallory')]], 0);
    const commits: { changes: number; events: number }[] = [];
    const controller = new AbortController();
    const running = pipelineFor(source, commits).run(controller.signal);
    await until(() => commits.length === 1, 'the detection commit');
    expect(commits).toEqual([{ changes: 1, events: 2 }]);
    expect(source.acked).toEqual([1]);
    expect((await new CheckpointRepository(store).load('policy-agent/caught-up')).map((c) => c.byteOffset)).toEqual([1]);
    controller.abort();
    await running;
    expect(commits).toEqual([{ changes: 1, events: 2 }]);
  }, 60_000);

  it('does not commit for a batch without detection before the interval (the stop commits it)', async () => {
    const source = new LaggingSource('no-detection', [[quiet('q2'), quiet('q3')]], 0);
    const commits: { changes: number; events: number }[] = [];
    const controller = new AbortController();
    const running = pipelineFor(source, commits).run(controller.signal);
    await until(() => source.yielded === 1, 'the batch read');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(commits).toEqual([]);
    controller.abort();
    await running;
    expect(commits).toEqual([{ changes: 0, events: 2 }]);
    expect(source.acked).toEqual([1]);
  }, 60_000);

  it('while the source is behind (unread bytes), detections wait for the regular commit: two batches, one commit', async () => {
    const source = new LaggingSource('behind', [[failure('f2', 'trent')], [failure('f3', 'oscar')]], 4_096);
    const commits: { changes: number; events: number }[] = [];
    const controller = new AbortController();
    const running = pipelineFor(source, commits).run(controller.signal);
    await until(() => source.yielded === 2, 'both batches read');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(commits).toEqual([]);
    source.lagBytes = 0; // caught up: the pending detections commit together
    await until(() => commits.length === 1, 'the coalesced commit');
    expect(commits).toEqual([{ changes: 2, events: 2 }]);
    expect(source.acked).toEqual([1, 2]);
    controller.abort();
    await running;
  }, 60_000);

  it('while the source is behind, a commit waits for 20 x maxBatchEvents events (not maxBatchEvents): 5 batches of 10 with maxBatchEvents 2 commit 40, then 10 at the stop', async () => {
    const source = new LaggingSource('backlog-events', quietBatches('b', 5, 10), 1_000_000);
    const commits: { changes: number; events: number }[] = [];
    const controller = new AbortController();
    const running = pipelineFor(source, commits, { commitIntervalMs: 60_000, maxBatchEvents: 2, nowMs: () => FROZEN_NOW_MS }).run(controller.signal);
    await until(() => source.yielded === 5 && commits.length === 1, 'the backlog commit');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(commits).toEqual([{ changes: 0, events: 40 }]);
    expect(source.acked).toEqual([1, 2, 3, 4]);
    controller.abort();
    await running;
    expect(commits).toEqual([
      { changes: 0, events: 40 },
      { changes: 0, events: 10 },
    ]);
    expect(source.acked).toEqual([1, 2, 3, 4, 5]);
  }, 60_000);

  it('once caught up, maxBatchEvents alone makes a commit due: the same batches with maxBatchEvents 20 commit 20, 20, then 10 at the stop', async () => {
    const source = new LaggingSource('caught-up-events', quietBatches('c', 5, 10), 0);
    const commits: { changes: number; events: number }[] = [];
    const controller = new AbortController();
    const running = pipelineFor(source, commits, { commitIntervalMs: 60_000, maxBatchEvents: 20, nowMs: () => FROZEN_NOW_MS }).run(controller.signal);
    await until(() => source.yielded === 5 && commits.length === 2, 'two size commits');
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    await running;
    expect(commits).toEqual([
      { changes: 0, events: 20 },
      { changes: 0, events: 20 },
      { changes: 0, events: 10 },
    ]);
  }, 60_000);

  it('while the source is behind, a commit waits 5 x commitIntervalMs of wall clock, not 1 x, when too few events arrive', async () => {
    let nowMs = FROZEN_NOW_MS;
    const source = new LaggingSource('backlog-time', quietBatches('t', 1, 3), 1_000_000);
    const commits: { changes: number; events: number }[] = [];
    const controller = new AbortController();
    const running = pipelineFor(source, commits, { commitIntervalMs: 1_000, maxBatchEvents: 5_000, nowMs: () => nowMs }).run(controller.signal);
    await until(() => source.yielded === 1, 'the batch read');
    nowMs = FROZEN_NOW_MS + 4_999; // past one interval (a caught-up source would have committed), short of five
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(commits).toEqual([]);
    nowMs = FROZEN_NOW_MS + 5_000;
    await until(() => commits.length === 1, 'the commit after five intervals');
    expect(commits).toEqual([{ changes: 0, events: 3 }]);
    expect(source.acked).toEqual([1]);
    controller.abort();
    await running;
    expect(commits).toEqual([{ changes: 0, events: 3 }]);
  }, 60_000);
});
