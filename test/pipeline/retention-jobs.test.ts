import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { INCIDENT_JOBS_LOCK_KEY } from '../../src/incidents/incident-service.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { SingletonJobs } from '../../src/pipeline/singleton-jobs.js';
import { useStoreHarness } from '../db/store-harness.js';

const harness = useStoreHarness({ pg: false });
const DAY_MS = 86_400_000;

describe('SingletonJobs retention (PGlite)', () => {
  let store: Store;
  beforeAll(async () => {
    store = await harness.open('pglite');
  });

  it('purges at most once per period across restarts and agents sharing the store (the marker is in the store)', async () => {
    let nowMs = Date.parse('2026-03-01T03:00:00.000Z');
    const purged: string[] = [];
    const make = (): SingletonJobs =>
      new SingletonJobs({
        store,
        jobs: { runDueJobs: async () => [] },
        lockKey: INCIDENT_JOBS_LOCK_KEY,
        notifications: null,
        telemetry: new Telemetry(createSilentLogger()),
        now: () => new Date(nowMs),
        retention: {
          purge: async (at) => {
            purged.push(at.toISOString());
            return { evidence_cleared: 2, outbox_deleted: 5 };
          },
        },
      });
    const agentA = make();
    expect(await agentA.runRetentionIfDue()).toEqual({ evidence_cleared: 2, outbox_deleted: 5 });
    expect(await agentA.runRetentionIfDue()).toBeNull();
    nowMs += DAY_MS - 1;
    expect(await make().runRetentionIfDue()).toBeNull(); // another agent, or a restart, the same day
    nowMs += 1;
    expect(await make().runRetentionIfDue()).toEqual({ evidence_cleared: 2, outbox_deleted: 5 });
    expect(purged).toEqual(['2026-03-01T03:00:00.000Z', '2026-03-02T03:00:00.000Z']);
  });

  it('does nothing without a retention port', async () => {
    const jobs = new SingletonJobs({ store, jobs: { runDueJobs: async () => [] }, lockKey: INCIDENT_JOBS_LOCK_KEY, notifications: null, telemetry: new Telemetry(createSilentLogger()) });
    expect(await jobs.runRetentionIfDue()).toBeNull();
  });
});
