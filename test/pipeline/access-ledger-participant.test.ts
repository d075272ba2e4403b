import { beforeAll, describe, expect, it } from 'vitest';
import { resolveIncidentsConfig } from '../../src/config/incidents-config.js';
import { AccessLedgerRepository } from '../../src/db/access-ledger-repository.js';
import type { Store } from '../../src/db/store.js';
import { IncidentService } from '../../src/incidents/incident-service.js';
import { AccessLedgerParticipant } from '../../src/pipeline/access-ledger-participant.js';
import { PipelineCommit } from '../../src/pipeline/pipeline-commit.js';
import type { CommitParticipant } from '../../src/pipeline/pipeline-ports.js';
import { useStoreHarness } from '../db/store-harness.js';
import { audit, makeEvent } from '../detect/rule-fixtures.js';

const harness = useStoreHarness({ pg: false });
const NOW = new Date('2026-01-01T00:02:00.000Z');
const CATALOG = { classesOf: (relation: string) => (relation.endsWith('customers') ? ['pii'] : []) };

const read = (second: number, user = 'analyst') =>
  makeEvent({ kind: 'audit', time: `2026-01-01T00:00:0${second}.000Z`, user, client_addr: '10.0.0.5', audit: audit({ class: 'READ', command: 'SELECT', object_name: 'public.customers', rows: 2 }) });

describe('AccessLedgerParticipant in the pipeline commit (PGlite)', () => {
  let store: Store;
  beforeAll(async () => {
    store = await harness.open('pglite');
  });

  it('writes the counts in the commit transaction; a failed commit rolls them back and the next commit writes them once', async () => {
    const ledger = new AccessLedgerParticipant(store, () => CATALOG);
    let failNext = true;
    const flaky: CommitParticipant = {
      name: 'flaky',
      write: async () => {
        if (failNext) {
          failNext = false;
          throw new Error('boom');
        }
      },
    };
    const commit = new PipelineCommit({ store, agent: 'agent-a', incidents: new IncidentService(store, { config: resolveIncidentsConfig({}) }), notifications: null, participants: [ledger, flaky], now: () => NOW });
    const unit = { detections: [], engineState: null, checkpoints: [] };
    ledger.observe(read(1));
    ledger.observe(read(2));
    ledger.observe(makeEvent({ kind: 'audit', user: 'analyst', audit: audit({ object_name: 'public.orders' }) })); // not catalogued
    await expect(commit.commit(unit)).rejects.toThrow('boom');
    expect(await new AccessLedgerRepository(store).query({ sinceDay: '2026-01-01', untilDay: '2026-01-01' })).toEqual([]);
    expect(ledger.pendingKeys).toBe(1);

    ledger.observe(read(3)); // counted between the failed and the next commit
    await commit.commit(unit);
    expect(ledger.pendingKeys).toBe(0);
    expect(ledger.rowsLastCommit).toBe(1);
    await commit.commit(unit); // nothing new: nothing added
    const rows = await new AccessLedgerRepository(store).query({ sinceDay: '2026-01-01', untilDay: '2026-01-01' });
    expect(rows.map((r) => [r.server, r.day, r.role, r.relation, r.clientAddr, r.readStatements, r.rowsRead, r.commands])).toEqual([
      ['db1', '2026-01-01', 'analyst', 'public.customers', '10.0.0.5', 3, 6, { SELECT: 3 }],
    ]);
  });

  it('keys counts by server, day, role, client and relation when events of several days and servers interleave', async () => {
    const ledger = new AccessLedgerParticipant(store, () => CATALOG);
    const commit = new PipelineCommit({ store, agent: 'agent-b', incidents: new IncidentService(store, { config: resolveIncidentsConfig({}) }), notifications: null, participants: [ledger], now: () => NOW });
    const at = (time: string, server: string, user: string, client: string | null, object: string, command = 'SELECT') =>
      makeEvent({ kind: 'audit', time, server, user, client_addr: client, audit: audit({ class: command === 'SELECT' ? 'READ' : 'WRITE', command, object_name: object, rows: 1 }) });
    for (const event of [
      at('2026-02-01T23:59:59.000Z', 'db1', 'ana', '10.0.0.1', 'customers'),
      at('2026-02-02T00:00:01.000Z', 'db1', 'ana', '10.0.0.1', 'public.customers'),
      at('2026-02-01T23:59:58.000Z', 'db2', 'ana', '10.0.0.1', 'customers'),
      at('2026-02-01T23:59:59.500Z', 'db1', 'ana', null, 'customers', 'UPDATE'),
      at('2026-02-02T00:00:02.000Z', 'db1', 'bo', '10.0.0.1', 'crm.public.customers'),
      at('2026-02-01T23:59:57.000Z', 'db1', 'ana', '10.0.0.1', 'customers'),
    ]) {
      ledger.observe(event);
    }
    expect(ledger.pendingKeys).toBe(5);
    await commit.commit({ detections: [], engineState: null, checkpoints: [] });
    const rows = await new AccessLedgerRepository(store).query({ sinceDay: '2026-02-01', untilDay: '2026-02-02' });
    expect(rows.map((r) => [r.server, r.day, r.role, r.clientAddr, r.readStatements, r.changeStatements, r.firstSeen, r.lastSeen])).toEqual([
      ['db1', '2026-02-01', 'ana', '10.0.0.1', 2, 0, '2026-02-01T23:59:57.000Z', '2026-02-01T23:59:59.000Z'],
      ['db1', '2026-02-01', 'ana', '[local]', 0, 1, '2026-02-01T23:59:59.500Z', '2026-02-01T23:59:59.500Z'],
      ['db2', '2026-02-01', 'ana', '10.0.0.1', 1, 0, '2026-02-01T23:59:58.000Z', '2026-02-01T23:59:58.000Z'],
      ['db1', '2026-02-02', 'ana', '10.0.0.1', 1, 0, '2026-02-02T00:00:01.000Z', '2026-02-02T00:00:01.000Z'],
      ['db1', '2026-02-02', 'bo', '10.0.0.1', 1, 0, '2026-02-02T00:00:02.000Z', '2026-02-02T00:00:02.000Z'],
    ]);
  });

  it('counts nothing without a catalog', async () => {
    const ledger = new AccessLedgerParticipant(store, () => null);
    ledger.observe(read(1, 'nobody'));
    expect(ledger.pendingKeys).toBe(0);
  });
});
