import { describe, expect, it } from 'vitest';
import { AccessLedgerRepository } from '../../src/db/access-ledger-repository.js';
import { AccessLedger } from '../../src/detect/access-ledger.js';
import { DataCatalog } from '../../src/detect/data-catalog.js';
import type { AccessEvent, AuditFields } from '../../src/domain/access-event.js';
import type { AccessLedgerDelta } from '../../src/domain/access-ledger.js';
import { blankAccessEvent } from '../../src/domain/blank-access-event.js';
import { DRIVERS, useStoreHarness } from './store-harness.js';

const CATALOG = new DataCatalog([
  {
    schema: 'jaga/catalog/v1',
    tables: {
      'public.customers': { classes: ['pii'], columns: { email: ['pii', 'contact'] } },
      'public.payments': { classes: [], columns: { card_last4: ['pii', 'payment'] } },
    },
  },
]);

let sequence = 0;

/** An audit event of `role` from `client` at `time`. */
function audit(time: string, role: string, client: string | null, fields: Partial<AuditFields>, relations: string[] = []): AccessEvent {
  sequence += 1;
  const event = blankAccessEvent({ id: `t:${sequence}`, time, server: 'crm', source: { id: 'crm', file: null, fingerprint: null, offset: sequence }, kind: 'audit' });
  event.user = role;
  event.client_addr = client;
  event.audit = {
    audit_type: 'SESSION',
    statement_id: 1,
    substatement_id: 1,
    class: 'READ',
    command: 'SELECT',
    object_type: 'TABLE',
    object_name: null,
    statement: 'SELECT 1',
    parameter: '<none>',
    rows: null,
    ...fields,
  };
  event.query = { fingerprint: null, normalized: null, relations, flags: [] };
  return event;
}

function delta(overrides: Partial<AccessLedgerDelta>): AccessLedgerDelta {
  return {
    server: 'crm',
    day: '2026-11-29',
    role: 'analyst',
    relation: 'public.customers',
    clientAddr: '127.0.0.1',
    dataClasses: ['contact', 'pii'],
    readStatements: 1,
    rowsRead: 10,
    changeStatements: 0,
    rowsChanged: 0,
    commands: { SELECT: 1 },
    firstSeen: '2026-11-29T10:00:00.000Z',
    lastSeen: '2026-11-29T10:00:00.000Z',
    ...overrides,
  };
}

describe('AccessLedger.observe counts audit entries on catalogued relations', () => {
  it('counts reads and changes per (day, role, relation, client), ignoring uncatalogued relations and other classes', () => {
    const ledger = new AccessLedger();
    ledger.observe(audit('2026-11-29T10:00:00.000Z', 'analyst', '127.0.0.1', { object_name: 'public.customers', rows: 20 }), CATALOG);
    ledger.observe(audit('2026-11-29T10:05:00.000Z', 'analyst', '127.0.0.1', { object_name: 'public.customers', rows: 5 }), CATALOG);
    ledger.observe(audit('2026-11-29T10:06:00.000Z', 'analyst', '127.0.0.1', { object_name: 'public.orders', rows: 500 }), CATALOG);
    ledger.observe(audit('2026-11-29T10:07:00.000Z', 'dba_admin', '127.0.0.2', { class: 'WRITE', command: 'DELETE', object_name: 'public.payments', rows: 19303 }), CATALOG);
    ledger.observe(audit('2026-11-29T10:08:00.000Z', 'dba_admin', '127.0.0.2', { class: 'ROLE', command: 'GRANT', object_name: 'public.customers' }), CATALOG);
    ledger.observe(audit('2026-11-30T00:00:01.000Z', 'analyst', null, { object_name: 'customers', rows: 1 }), CATALOG);
    const deltas = ledger.drain();
    expect(deltas).toEqual([
      delta({ readStatements: 2, rowsRead: 25, commands: { SELECT: 2 }, lastSeen: '2026-11-29T10:05:00.000Z' }),
      delta({
        role: 'dba_admin',
        relation: 'public.payments',
        clientAddr: '127.0.0.2',
        dataClasses: ['payment', 'pii'],
        readStatements: 0,
        rowsRead: 0,
        changeStatements: 1,
        rowsChanged: 19303,
        commands: { DELETE: 1 },
        firstSeen: '2026-11-29T10:07:00.000Z',
        lastSeen: '2026-11-29T10:07:00.000Z',
      }),
      delta({ day: '2026-11-30', clientAddr: '[local]', rowsRead: 1, firstSeen: '2026-11-30T00:00:01.000Z', lastSeen: '2026-11-30T00:00:01.000Z' }),
    ]);
    expect(ledger.drain()).toEqual([]);
  });

  it('uses the statement`s relations when pgaudit printed no object for COPY / TRUNCATE, never for other object-less entries', () => {
    const ledger = new AccessLedger();
    // the pg_sleep half of a stacked query carries the whole text but reads nothing
    ledger.observe(audit('2026-11-29T17:20:52.893Z', 'app_web', '127.0.0.1', { object_type: null, rows: 1 }, ['customers']), CATALOG);
    ledger.observe(audit('2026-11-29T17:21:02.446Z', 'support_sari', '127.0.0.1', { command: 'COPY', object_type: null, rows: 0 }, ['customers']), CATALOG);
    ledger.observe(audit('2026-11-29T17:24:19.150Z', 'dba_admin', '127.0.0.2', { class: 'WRITE', command: 'TRUNCATE TABLE', object_type: null }, ['support_tickets']), CATALOG);
    expect(ledger.drain()).toEqual([
      delta({ role: 'support_sari', rowsRead: 0, commands: { COPY: 1 }, firstSeen: '2026-11-29T17:21:02.446Z', lastSeen: '2026-11-29T17:21:02.446Z' }),
    ]);
  });
});

describe.each(DRIVERS)('AccessLedgerRepository on %s', (driver) => {
  const harness = useStoreHarness();

  it('adds deltas onto existing rows: counts, commands, classes and seen times', async () => {
    const store = await harness.open(driver);
    const repository = new AccessLedgerRepository(store);
    const first = await store.transaction((tx) =>
      repository.apply(tx, [delta({}), delta({ role: 'app_web', rowsRead: 1, commands: { SELECT: 1 } })]),
    );
    expect(first).toBe(2);
    await store.transaction((tx) =>
      repository.apply(tx, [
        delta({ readStatements: 2, rowsRead: 5011, commands: { SELECT: 1, COPY: 1 }, dataClasses: ['name', 'pii'], firstSeen: '2026-11-29T09:00:00.000Z', lastSeen: '2026-11-29T17:21:02.446Z' }),
        delta({ readStatements: 0, rowsRead: 0, changeStatements: 1, rowsChanged: 3, commands: { UPDATE: 1 } }),
      ]),
    );
    const rows = await repository.query({ sinceDay: '2026-11-29', untilDay: '2026-11-29' });
    expect(rows).toEqual([
      delta({
        readStatements: 3,
        rowsRead: 5021,
        changeStatements: 1,
        rowsChanged: 3,
        commands: { COPY: 1, SELECT: 2, UPDATE: 1 },
        dataClasses: ['contact', 'name', 'pii'],
        firstSeen: '2026-11-29T09:00:00.000Z',
        lastSeen: '2026-11-29T17:21:02.446Z',
      }),
      delta({ role: 'app_web', rowsRead: 1 }),
    ]);
  });

  it('selects by inclusive day range and server', async () => {
    const store = await harness.open(driver);
    const repository = new AccessLedgerRepository(store);
    await repository.apply(store, [
      delta({ day: '2026-11-27' }),
      delta({ day: '2026-11-28' }),
      delta({ day: '2026-11-29' }),
      delta({ day: '2026-11-28', server: 'other' }),
      delta({ day: '2026-11-30' }),
    ]);
    const rows = await repository.query({ sinceDay: '2026-11-28', untilDay: '2026-11-29' });
    expect(rows.map((r) => `${r.day} ${r.server}`)).toEqual(['2026-11-28 crm', '2026-11-28 other', '2026-11-29 crm']);
    const one = await repository.query({ sinceDay: '2026-11-01', untilDay: '2026-11-30', server: 'other' });
    expect(one.map((r) => `${r.day} ${r.server}`)).toEqual(['2026-11-28 other']);
  });

  it('merges deltas of one key given in the same call and writes large batches', async () => {
    const store = await harness.open(driver);
    const repository = new AccessLedgerRepository(store);
    const many = Array.from({ length: 1200 }, (_, i) => delta({ role: `role_${i % 600}`, rowsRead: 1 }));
    const written = await store.transaction((tx) => repository.apply(tx, many));
    expect(written).toBe(600);
    const rows = await repository.query({ sinceDay: '2026-11-29', untilDay: '2026-11-29' });
    expect(rows).toHaveLength(600);
    expect(rows.every((r) => r.readStatements === 2 && r.rowsRead === 2 && r.commands['SELECT'] === 2)).toBe(true);
  });
});
