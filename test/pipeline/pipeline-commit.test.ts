import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointRepository, type Checkpoint } from '../../src/db/checkpoint-repository.js';
import { DetectorStateRepository, ENGINE_STATE_COMPONENT } from '../../src/db/detector-state-repository.js';
import type { Store } from '../../src/db/store.js';
import { StoreError } from '../../src/domain/errors.js';
import type { IncidentChange } from '../../src/domain/incident-change.js';
import type { SqlQueryable } from '../../src/domain/sql-queryable.js';
import { resolveIncidentsConfig } from '../../src/config/incidents-config.js';
import { IncidentRepository } from '../../src/incidents/incident-repository.js';
import { IncidentService } from '../../src/incidents/incident-service.js';
import { PipelineCommit } from '../../src/pipeline/pipeline-commit.js';
import type { CommitParticipant, NotificationEnqueuer } from '../../src/pipeline/pipeline-ports.js';
import { DRIVERS, useStoreHarness } from '../db/store-harness.js';
import { detection } from '../incidents/detection-factory.js';

const harness = useStoreHarness();
const NOW = new Date('2026-01-01T00:02:00.000Z');

const checkpoint = (byteOffset: number): Checkpoint => ({ sourceId: 'agent-a/db1', fileFingerprint: 'aaaaaaaaaaaaaaaa', filePath: '/log/postgresql.log', byteOffset, cursor: null });

/** A planner that records each change in a real table, so rollbacks of its rows are visible. */
class TableEnqueuer implements NotificationEnqueuer {
  async enqueue(tx: SqlQueryable, changes: readonly IncidentChange[]): Promise<number> {
    for (const change of changes) await tx.query('INSERT INTO test_outbox (change_id, kind) VALUES ($1, $2)', [change.id, change.kind]);
    return changes.length;
  }
}

describe.each(DRIVERS)('PipelineCommit on %s', (driver) => {
  let store: Store;
  let incidents: IncidentRepository;
  let checkpoints: CheckpointRepository;
  let states: DetectorStateRepository;
  beforeAll(async () => {
    store = await harness.open(driver);
    incidents = new IncidentRepository(store);
    checkpoints = new CheckpointRepository(store);
    states = new DetectorStateRepository(store);
    await store.query('CREATE TABLE test_outbox (change_id text PRIMARY KEY, kind text NOT NULL)');
  });
  beforeEach(async () => {
    for (const table of ['jaga_incident_timeline', 'jaga_incident_detection', 'jaga_incident', 'jaga_checkpoint', 'jaga_pipeline_state', 'test_outbox']) await store.query(`DELETE FROM ${table}`);
  });

  const commitWith = (participants: CommitParticipant[] = []): PipelineCommit =>
    new PipelineCommit({ store, agent: 'agent-a', incidents: new IncidentService(store, { config: resolveIncidentsConfig({}) }), notifications: new TableEnqueuer(), participants, now: () => NOW, retryDelayMs: 1 });

  it('writes incidents, outbox rows, the engine snapshot and the checkpoints together, then calls onCommitted', async () => {
    let acked = 0;
    const result = await commitWith().commit({
      detections: [detection({ id: 'd1' }), detection({ id: 'd2', count: 3, lastSeen: '2026-01-01T00:01:30.000Z' })],
      engineState: { version: 1, watermarkMs: 1_767_225_690_000, detectors: {}, suppression: null },
      checkpoints: [checkpoint(4096)],
      onCommitted: () => acked++,
    });
    expect(result.changes.map((c) => c.kind)).toEqual(['opened', 'updated']);
    expect((await store.query<{ n: number }>('SELECT count(*)::int AS n FROM jaga_incident_timeline'))[0]!.n).toBe(2);
    expect(result.changes.map((c) => c.actor)).toEqual(['rule:jaga.auth.brute_force', 'rule:jaga.auth.brute_force']);
    expect(result).toMatchObject({ notifications: 2, checkpoints: 1, attempts: 1 });
    expect(acked).toBe(1);
    const [incident] = await incidents.list();
    expect(incident).toMatchObject({ count: 13, status: 'open', version: 2 });
    expect((await store.query<{ n: number }>('SELECT count(*)::int AS n FROM test_outbox'))[0]!.n).toBe(2);
    expect((await checkpoints.load('agent-a/db1')).map((c) => c.byteOffset)).toEqual([4096]);
    expect((await states.load('agent-a', ENGINE_STATE_COMPONENT))?.state).toEqual({ version: 1, watermarkMs: 1_767_225_690_000, detectors: {}, suppression: null });
  });

  it('replaying the same detections after a crash changes nothing and writes no outbox row', async () => {
    const unit = { detections: [detection({ id: 'd1' })], engineState: { n: 1 }, checkpoints: [checkpoint(100)] };
    const first = await commitWith().commit(unit);
    const replay = await commitWith().commit(unit);
    expect(first.changes).toHaveLength(1);
    expect(replay.changes).toEqual([]);
    expect(replay.notifications).toBe(0);
    expect((await incidents.list()).map((i) => i.count)).toEqual([10]);
    expect((await store.query<{ n: number }>('SELECT count(*)::int AS n FROM test_outbox'))[0]!.n).toBe(1);
    expect((await states.load('agent-a', ENGINE_STATE_COMPONENT))?.revision).toBe(2);
  });

  it('a failure inside the transaction rolls back incidents, outbox rows, the snapshot AND the checkpoints', async () => {
    await commitWith().commit({ detections: [], engineState: { before: true }, checkpoints: [checkpoint(100)] });
    let acked = false;
    const failing: CommitParticipant = {
      name: 'ledger',
      write: () => Promise.reject(new StoreError('disk full', false, '53100')),
    };
    await expect(
      commitWith([failing]).commit({ detections: [detection({ id: 'd9' })], engineState: { after: true }, checkpoints: [checkpoint(9000)], onCommitted: () => (acked = true) }),
    ).rejects.toThrow('disk full');
    expect(acked).toBe(false);
    expect(await incidents.list()).toEqual([]);
    expect((await store.query<{ n: number }>('SELECT count(*)::int AS n FROM jaga_incident_timeline'))[0]!.n).toBe(0);
    expect((await store.query<{ n: number }>('SELECT count(*)::int AS n FROM test_outbox'))[0]!.n).toBe(0);
    expect((await checkpoints.load('agent-a/db1')).map((c) => c.byteOffset)).toEqual([100]);
    expect((await states.load('agent-a', ENGINE_STATE_COMPONENT))?.state).toEqual({ before: true });
  });

  it('a bad checkpoint (written last) still rolls back the incident applied before it', async () => {
    await expect(commitWith().commit({ detections: [detection({ id: 'd5' })], engineState: null, checkpoints: [checkpoint(-1)] })).rejects.toThrow(RangeError);
    expect(await incidents.list()).toEqual([]);
    expect(await checkpoints.load('agent-a/db1')).toEqual([]);
  });

  it('retries the whole unit after a transient error and counts the detection once', async () => {
    let calls = 0;
    const flaky: CommitParticipant = {
      name: 'flaky',
      write: async () => {
        calls++;
        if (calls === 1) throw new StoreError('deadlock detected', true, '40P01');
      },
    };
    const result = await commitWith([flaky]).commit({ detections: [detection({ id: 'd7' })], engineState: { s: 1 }, checkpoints: [checkpoint(50)] });
    expect(result.attempts).toBe(2);
    expect(result.changes.map((c) => c.kind)).toEqual(['opened']);
    expect((await incidents.list()).map((i) => i.count)).toEqual([10]);
    expect((await store.query<{ n: number }>('SELECT count(*)::int AS n FROM test_outbox'))[0]!.n).toBe(1);
  });
});
