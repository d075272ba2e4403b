import { createHash } from 'node:crypto';
import type { ReceiverConfig } from '../../src/config/notify-config.js';
import type { IncidentChange } from '../../src/domain/incident-change.js';
import type { Incident } from '../../src/domain/incident.js';
import type { NotificationLinks } from '../../src/notify/notification-links.js';

/** An open, stable, high incident #7 (brute force against dba_admin on db1); `overrides` replace fields. */
export function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 7,
    fingerprint: '225b73211dcae0f7e1a933f66145e39f',
    detectorId: 'jaga.auth.brute_force',
    title: 'Brute force against a role',
    severity: 'high',
    maturity: 'stable',
    status: 'open',
    version: 1,
    firstSeen: new Date('2026-01-01T00:00:00.000Z'),
    lastSeen: new Date('2026-01-01T00:00:42.000Z'),
    count: 30,
    server: 'db1',
    group: { user: 'dba_admin' },
    entity: { user: 'dba_admin', database: 'crm', client_addr: '10.0.0.5', application_name: null },
    tags: ['attack.t1110'],
    dataClasses: [],
    explanation: { type: 'threshold', count: 30, threshold: 10, values: ['secret-value-from-event'] },
    summary: '30 failed logins for dba_admin within 60s',
    evidence: [
      {
        event_id: 'e1',
        time: '2026-01-01T00:00:00.000Z',
        kind: 'audit',
        user: 'dba_admin',
        client_addr: '10.0.0.5',
        application_name: 'psql',
        class: 'READ',
        command: 'SELECT',
        object_name: 'public.customers',
        fingerprint: 'a1b2c3d4e5f60718',
        normalized: 'SELECT * FROM customers WHERE email = $1',
        rows: 1,
        sqlstate: null,
      },
    ],
    deadlines: null,
    previousIncidentId: null,
    createdAt: new Date('2026-01-01T00:00:42.000Z'),
    updatedAt: new Date('2026-01-01T00:00:42.000Z'),
    ...overrides,
  };
}

/**
 * A change of `kind` (default `opened`) to `incident()` (with `incidentOverrides`); the id is a hash of
 * `key` (default kind + incident id), so two calls with the same key give the same change id.
 */
export function change(overrides: Partial<IncidentChange> = {}, incidentOverrides: Partial<Incident> = {}, key?: string): IncidentChange {
  const inc = incident(incidentOverrides);
  const kind = overrides.kind ?? 'opened';
  return {
    id: createHash('sha256').update(key ?? `${kind}:${inc.id}:${overrides.escalationStep ?? ''}`).digest('hex').slice(0, 32),
    kind,
    incident: inc,
    previousSeverity: null,
    actor: 'rule:jaga.auth.brute_force',
    at: new Date('2026-01-01T00:00:42.000Z'),
    note: null,
    escalationStep: null,
    deadline: null,
    ...overrides,
  };
}

/** A real NotificationLinks: plain URLs under `https://jaga.test` (http signs them; here they only need to be stable). */
export const testLinks: NotificationLinks = {
  incidentUrl: (id) => `https://jaga.test/incidents/${id}`,
  actionUrl: (id, action, notificationId) => `https://jaga.test/incidents/${id}/${action}?n=${notificationId}`,
};

/** A resolved receiver config with fast test defaults; `overrides` replace fields. */
export function receiverConfig(name: string, type: ReceiverConfig['type'], params: Record<string, unknown>, overrides: Partial<ReceiverConfig> = {}): ReceiverConfig {
  return {
    name,
    type,
    params,
    groupWindowMs: 0,
    ratePerSecond: 1000,
    rateBurst: 1000,
    maxAttempts: 5,
    maxAgeMs: 86_400_000,
    backoffBaseMs: 1000,
    backoffCapMs: 60_000,
    fallback: null,
    ...overrides,
  };
}

/** A settable clock: `clock.now()` returns the current value; `advance(ms)` moves it. */
export function manualClock(start = '2026-01-01T00:01:00.000Z'): { now: () => Date; advance: (ms: number) => void; set: (iso: string) => void } {
  let ms = Date.parse(start);
  return { now: () => new Date(ms), advance: (d) => void (ms += d), set: (iso) => void (ms = Date.parse(iso)) };
}
