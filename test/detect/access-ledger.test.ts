/**
 * AccessLedger's counting rule (src/detect/access-ledger.ts): one count per catalogued relation an
 * audit READ / WRITE / DDL event names (object_name, or for COPY / TRUNCATE TABLE / DROP TABLE
 * without one the statement's relations, each qualified relation once), keyed by server, day, role,
 * relation and client; other events and unclassified relations are not counted.
 */
import { describe, expect, it } from 'vitest';
import { AccessLedger } from '../../src/detect/access-ledger.js';
import { DataCatalog } from '../../src/detect/data-catalog.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { audit, makeEvent } from './rule-fixtures.js';

const catalog = new DataCatalog([{ tables: { 'public.customers': { classes: ['pii'], columns: { email: ['contact'] } }, 'public.payments': { classes: [], columns: { card_last4: ['payment'] } } } }]);

function auditEvent(time: string, fields: Partial<NonNullable<AccessEvent['audit']>>, relations: string[] = [], user: string | null = 'support_sari'): AccessEvent {
  return makeEvent({ kind: 'audit', time, user, client_addr: '10.0.0.8', audit: audit(fields), query: { fingerprint: 'f', normalized: 'x', relations, flags: [] } });
}

describe('AccessLedger', () => {
  it('counts named relations, and the statement relations of an object-less COPY once per qualified relation', () => {
    const ledger = new AccessLedger();
    const events = [
      auditEvent('2026-11-29T17:00:00.000Z', { class: 'READ', command: 'SELECT', object_name: 'public.customers', rows: 3 }),
      auditEvent('2026-11-29T17:00:01.000Z', { class: 'READ', command: 'SELECT', object_name: 'customers', rows: 2 }),
      auditEvent('2026-11-29T17:00:02.000Z', { class: 'WRITE', command: 'UPDATE', object_name: 'public.payments', rows: 1 }),
      auditEvent('2026-11-29T17:00:03.000Z', { class: 'READ', command: 'COPY', object_name: null, rows: null }, ['customers', 'public.customers', 'payments', 'public.orders']),
      auditEvent('2026-11-29T17:00:04.000Z', { class: 'READ', command: 'SELECT', object_name: 'public.orders', rows: 9 }),
      auditEvent('2026-11-29T17:00:05.000Z', { class: 'READ', command: 'SELECT', object_name: null, rows: 1 }, ['customers']),
      auditEvent('2026-11-29T17:00:06.000Z', { class: 'MISC', command: 'BEGIN', object_name: 'public.customers' }),
      auditEvent('2026-11-29T17:00:07.000Z', { class: 'READ', command: 'SELECT', object_name: 'public.customers', rows: 5 }, [], null),
      auditEvent('2026-11-29T17:00:08.000Z', { class: 'DDL', command: 'TRUNCATE TABLE', object_name: null, rows: null }, ['payments']),
    ];
    for (const event of events) ledger.observe(event, catalog);
    expect(ledger.size).toBe(2);
    expect(ledger.drain()).toEqual([
      {
        server: 'db1', day: '2026-11-29', role: 'support_sari', relation: 'public.customers', clientAddr: '10.0.0.8', dataClasses: ['contact', 'pii'],
        readStatements: 3, rowsRead: 5, changeStatements: 0, rowsChanged: 0, commands: { SELECT: 2, COPY: 1 },
        firstSeen: '2026-11-29T17:00:00.000Z', lastSeen: '2026-11-29T17:00:03.000Z',
      },
      {
        server: 'db1', day: '2026-11-29', role: 'support_sari', relation: 'public.payments', clientAddr: '10.0.0.8', dataClasses: ['payment'],
        readStatements: 1, rowsRead: 0, changeStatements: 2, rowsChanged: 1, commands: { UPDATE: 1, COPY: 1, 'TRUNCATE TABLE': 1 },
        firstSeen: '2026-11-29T17:00:02.000Z', lastSeen: '2026-11-29T17:00:08.000Z',
      },
    ]);
    expect(ledger.size).toBe(0);
  });
});
