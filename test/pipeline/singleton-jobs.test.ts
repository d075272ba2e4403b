import { beforeAll, describe, expect, it } from 'vitest';
import { resolveIncidentsConfig } from '../../src/config/incidents-config.js';
import type { Store } from '../../src/db/store.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { INCIDENT_JOBS_LOCK_KEY, IncidentService } from '../../src/incidents/incident-service.js';
import { SingletonJobs } from '../../src/pipeline/singleton-jobs.js';
import { useStoreHarness } from '../db/store-harness.js';
import { detection } from '../incidents/detection-factory.js';

const harness = useStoreHarness();

describe('SingletonJobs on PostgreSQL', () => {
  let store: Store;
  let service: IncidentService;
  beforeAll(async () => {
    store = await harness.open('pg');
    service = new IncidentService(store, { config: resolveIncidentsConfig({ incidents: { resolve_after: 3_600_000 } }) });
  });

  it('runs the due jobs once under the lock (auto-resolve after the quiet period), and skips the round while another agent holds the lock', async () => {
    const opened = new Date('2026-01-01T00:01:00.000Z');
    await store.transaction((tx) => service.applyDetections(tx, [detection({ id: 'job-1' })], opened));
    const later = new Date(opened.getTime() + 2 * 3_600_000);
    const jobs = new SingletonJobs({ store, jobs: service, lockKey: INCIDENT_JOBS_LOCK_KEY, notifications: null, telemetry: new Telemetry(createSilentLogger()), now: () => later });

    // another agent holds the jobs lock in an open transaction (another pooled connection)
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked: () => void = () => undefined;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...INCIDENT_JOBS_LOCK_KEY]);
      locked();
      await held;
    });
    await lockTaken;
    expect(await jobs.runOnce()).toBeNull();
    release();
    await holder;

    expect(await jobs.runOnce()).toBe(1);
    const [incident] = await store.query<{ status: string }>('SELECT status FROM jaga_incident');
    expect(incident!.status).toBe('resolved');
    expect(await jobs.runOnce()).toBe(0);
  });
});
