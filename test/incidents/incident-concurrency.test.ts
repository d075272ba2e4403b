import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/open-store.js';
import type { Store } from '../../src/db/store.js';
import { IncidentRepository, type UpsertResult } from '../../src/incidents/incident-repository.js';
import type { Detection } from '../../src/domain/detection.js';
import { useStoreHarness } from '../db/store-harness.js';
import { detection } from './detection-factory.js';

const harness = useStoreHarness();

/** A promise every caller awaits until `parties` callers arrived: makes transactions overlap for sure. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => {
    release = resolve;
  });
  return async () => {
    arrived += 1;
    if (arrived === parties) release();
    await all;
  };
}

/**
 * Two agents (separate pools on one PostgreSQL database); each runs its detections in transactions that
 * all BEGIN and run a statement before any of them upserts, then hold their transaction a little after.
 */
async function applyConcurrently(agents: Store[], detectionsPerAgent: Detection[][]): Promise<UpsertResult[]> {
  const total = detectionsPerAgent.reduce((n, list) => n + list.length, 0);
  const ready = barrier(total);
  const runs = agents.flatMap((agent, a) => {
    const repo = new IncidentRepository(agent);
    return detectionsPerAgent[a]!.map((d) =>
      agent.transaction(async (tx) => {
        await tx.query('SELECT txid_current()');
        await ready();
        const result = await repo.upsert(tx, d);
        await tx.query('SELECT pg_sleep(0.01)');
        return result;
      }),
    );
  });
  return Promise.all(runs);
}

describe('IncidentRepository with two agents on one PostgreSQL', () => {
  const agents: Store[] = [];
  beforeAll(async () => {
    const { url } = await harness.target('pg');
    // two agents = two connection pools on ONE database (the second finds the migrations applied)
    agents.push(await openStore({ url }), await openStore({ url }));
  });
  afterAll(async () => {
    for (const agent of agents) await agent.close();
  });
  beforeEach(async () => {
    await agents[0]!.query('DELETE FROM jaga_incident_detection');
    await agents[0]!.query('DELETE FROM jaga_incident');
  });

  it('20 concurrent transactions upserting one fingerprint open exactly one incident holding the summed count', async () => {
    const perAgent = [0, 1].map((a) => Array.from({ length: 10 }, (_, i) => detection({ id: `agent${a}-det${i}`, count: a * 10 + i + 1 })));
    const results = await applyConcurrently(agents, perAgent);
    expect(results.filter((r) => r.outcome === 'opened')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'updated')).toHaveLength(19);
    const rows = await agents[0]!.query<{ id: number; status: string; count: number; version: number }>('SELECT id, status, count, version FROM jaga_incident');
    // counts 1..20 sum to 210; opened at version 1, then 19 merges
    expect(rows).toEqual([{ id: results[0]!.incident.id, status: 'open', count: 210, version: 20 }]);
    expect(await agents[1]!.query('SELECT count(*)::int AS n FROM jaga_incident_detection')).toEqual([{ n: 20 }]);
  });

  it('one detection id applied by both agents at once counts once; the later one sees a duplicate', async () => {
    const same = detection({ id: 'replayed-after-crash', count: 7 });
    const results = await applyConcurrently(agents, [[same, same], [same, same]]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'opened']);
    expect(await agents[0]!.query('SELECT count, version FROM jaga_incident')).toEqual([{ count: 7, version: 1 }]);
  });

  it('concurrent upserts of different fingerprints in fingerprint order (upsertMany) all commit', async () => {
    const groups = ['a', 'b', 'c', 'd'];
    const batch = (agent: number): Detection[] => groups.map((user) => detection({ id: `${agent}-${user}`, group: { user }, groupKey: JSON.stringify({ user }), count: 1 }));
    const total = 8;
    const ready = barrier(total);
    await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((n) => {
        const agent = agents[n % 2]!;
        const repo = new IncidentRepository(agent);
        // each transaction gets the batch in a different order: upsertMany sorts by fingerprint, so no deadlock
        const detections = n % 2 === 0 ? batch(n) : batch(n).reverse();
        return agent.transaction(async (tx) => {
          await ready();
          return repo.upsertMany(tx, detections);
        });
      }),
    );
    const rows = await agents[0]!.query<{ user: string; count: number }>(`SELECT "group"->>'user' AS user, count FROM jaga_incident ORDER BY 1`);
    expect(rows).toEqual(groups.map((user) => ({ user, count: 8 })));
  });
});
