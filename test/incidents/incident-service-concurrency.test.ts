/**
 * Two jaga agents (two connection pools) on one PostgreSQL store: concurrent applyDetections for one
 * fingerprint open one incident and one `opened` change; concurrent due-job runs fire each escalation
 * step and the auto-resolve once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveIncidentsConfig } from '../../src/config/incidents-config.js';
import { openStore } from '../../src/db/open-store.js';
import type { Store } from '../../src/db/store.js';
import type { IncidentChange } from '../../src/domain/incident-change.js';
import { INCIDENT_JOBS_LOCK_KEY } from '../../src/incidents/incident-service.js';
import { useStoreHarness } from '../db/store-harness.js';
import { detection } from './detection-factory.js';
import { at, clearIncidents, service } from './service-fixtures.js';

const harness = useStoreHarness();
const T0 = '2026-01-01T00:02:00.000Z';

/** Resolves once `parties` callers arrived, so every transaction is open before any of them writes. */
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

describe('IncidentService with two agents on one PostgreSQL', () => {
  const agents: Store[] = [];
  beforeAll(async () => {
    const { url } = await harness.target('pg');
    agents.push(await openStore({ url }), await openStore({ url }));
  });
  afterAll(async () => {
    for (const agent of agents) await agent.close();
  });
  beforeEach(async () => {
    await clearIncidents(agents[0]!);
  });

  it('concurrent applyDetections for one fingerprint open one incident, one opened change, one timeline row per detection', async () => {
    const ready = barrier(8);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, n) => {
        const agent = agents[n % 2]!;
        const incidents = service(agent);
        return agent.transaction(async (tx) => {
          await tx.query('SELECT txid_current()');
          await ready();
          // every transaction also carries a detection another one carries (a replay by the other agent)
          return incidents.applyDetections(tx, [detection({ id: `det-${n}`, count: 1 }), detection({ id: `det-${(n + 1) % 8}`, count: 1 })], at(T0, n));
        });
      }),
    );
    const changes = results.flat();
    expect(changes.filter((c) => c.kind === 'opened')).toHaveLength(1);
    expect(changes.filter((c) => c.kind === 'updated')).toHaveLength(7);
    expect(new Set(changes.map((c) => c.id)).size).toBe(8);
    expect(await agents[0]!.query('SELECT count, version, status FROM jaga_incident')).toEqual([{ count: 8, version: 8, status: 'open' }]);
    expect(await agents[1]!.query('SELECT kind, count(*)::int AS n FROM jaga_incident_timeline GROUP BY kind ORDER BY kind')).toEqual([
      { kind: 'opened', n: 1 },
      { kind: 'updated', n: 7 },
    ]);
  });

  it('two agents running the due jobs at once (with or without the jobs lock) fire the auto-resolve and each escalation step once', async () => {
    const config = resolveIncidentsConfig({ incidents: { resolve_after: 3 * 3_600_000, regulatory: [] } }, { critical: [15 * 60_000, 3_600_000] });
    const critical = detection({ id: 'crit', severity: 'critical', group: { user: 'c' }, groupKey: '{"user":"c"}' });
    const quiet = detection({ id: 'quiet', severity: 'info' });
    await agents[0]!.transaction((tx) => service(agents[0]!, config).applyDetections(tx, [critical, quiet], at(T0, 0)));
    const runAll = async (minutes: number, withLock: boolean): Promise<IncidentChange[]> => {
      const ready = barrier(4);
      const runs = await Promise.all(
        [0, 1, 0, 1].map((a) =>
          agents[a]!.transaction(async (tx) => {
            await tx.query('SELECT txid_current()');
            await ready();
            if (withLock) await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...INCIDENT_JOBS_LOCK_KEY]);
            return service(agents[a]!, config).runDueJobs(tx, at(T0, minutes));
          }),
        ),
      );
      return runs.flat();
    };
    expect((await runAll(61, false)).map((c) => [c.kind, c.escalationStep]).sort()).toEqual([
      ['escalated', 1],
      ['escalated', 2],
    ]);
    expect((await runAll(181, true)).map((c) => [c.kind, c.incident.severity]).sort()).toEqual([
      ['resolved', 'critical'],
      ['resolved', 'info'],
    ]);
    expect(await runAll(400, false)).toEqual([]);
    expect(await agents[0]!.query('SELECT kind, count(*)::int AS n FROM jaga_incident_timeline GROUP BY kind ORDER BY kind')).toEqual([
      { kind: 'escalated', n: 2 },
      { kind: 'opened', n: 2 },
      { kind: 'resolved', n: 2 },
    ]);
  });
});
