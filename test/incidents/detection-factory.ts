import type { Detection, EvidenceItem } from '../../src/domain/detection.js';

/** A redacted evidence item for `event_id`, at `time` (ISO UTC), a failed login of dba_admin. */
export function evidenceItem(eventId: string, time: string): EvidenceItem {
  return {
    event_id: eventId,
    time,
    kind: 'auth_failure',
    user: 'dba_admin',
    client_addr: '10.0.0.5',
    application_name: 'psql',
    class: null,
    command: null,
    object_name: null,
    fingerprint: null,
    normalized: null,
    rows: null,
    sqlstate: '28P01',
  };
}

/**
 * A brute-force detection against dba_admin on server db1 (group { user: 'dba_admin' }), count 10,
 * one minute long from `2026-01-01T00:00:00.000Z`; `overrides` replace any field.
 */
export function detection(overrides: Partial<Detection> = {}): Detection {
  return {
    id: 'det-1',
    detectorId: 'jaga.auth.brute_force',
    title: 'Brute force against a role',
    severity: 'high',
    maturity: 'stable',
    tags: ['attack.t1110'],
    server: 'db1',
    group: { user: 'dba_admin' },
    groupKey: '{"user":"dba_admin"}',
    entity: { user: 'dba_admin', database: 'crm', client_addr: '10.0.0.5', application_name: null },
    firstSeen: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-01T00:01:00.000Z',
    count: 10,
    evidence: [evidenceItem('e1', '2026-01-01T00:00:00.000Z'), evidenceItem('e2', '2026-01-01T00:00:06.000Z')],
    dataClasses: [],
    explanation: { type: 'threshold', count: 10, threshold: 10, window_seconds: 60 },
    summary: '10 failed logins for dba_admin within 60s',
    score: null,
    ...overrides,
  };
}
