import { describe, expect, it } from 'vitest';
import { deadlineStatus, toIncidentDetailJson, toIncidentJson, type Incident } from '../../src/domain/incident.js';
import { evidenceItem } from './detection-factory.js';

const incident: Incident = {
  id: 7,
  fingerprint: '225b73211dcae0f7e1a933f66145e39f',
  detectorId: 'jaga.auth.brute_force',
  title: 'Brute force against a role',
  severity: 'high',
  maturity: 'stable',
  status: 'open',
  version: 3,
  firstSeen: new Date('2026-01-01T00:00:00Z'),
  lastSeen: new Date('2026-01-01T00:00:42.5Z'),
  count: 30,
  server: 'db1',
  group: { user: 'dba_admin' },
  entity: { user: 'dba_admin', database: 'crm', client_addr: '10.0.0.5', application_name: null },
  tags: ['attack.t1110'],
  dataClasses: ['pii'],
  explanation: { count: 10, threshold: 10 },
  summary: '10 failed logins for dba_admin within 60s',
  evidence: [evidenceItem('e1', '2026-01-01T00:00:00.000Z')],
  deadlines: null,
  previousIncidentId: 3,
  createdAt: new Date('2026-01-01T00:01:00Z'),
  updatedAt: new Date('2026-01-01T00:02:00Z'),
};

describe('toIncidentJson', () => {
  it('gives the list shape with snake_case keys in the fixed order, ISO UTC times, and no evidence', () => {
    const json = toIncidentJson(incident);
    expect(JSON.stringify(json)).toBe(
      '{"id":7,"fingerprint":"225b73211dcae0f7e1a933f66145e39f","detector":"jaga.auth.brute_force","title":"Brute force against a role",' +
        '"severity":"high","maturity":"stable","status":"open","version":3,"first_seen":"2026-01-01T00:00:00.000Z","last_seen":"2026-01-01T00:00:42.500Z",' +
        '"count":30,"server":"db1","group":{"user":"dba_admin"},"entity":{"user":"dba_admin","database":"crm","client_addr":"10.0.0.5","application_name":null},' +
        '"tags":["attack.t1110"],"data_classes":["pii"],"explanation":{"count":10,"threshold":10},"deadlines":null,"summary":"10 failed logins for dba_admin within 60s"}',
    );
  });

  it('copies nested values, so changing the JSON leaves the incident as it was', () => {
    const json = toIncidentJson(incident);
    json.tags.push('x');
    json.group.user = 'y';
    json.explanation.count = 0;
    expect(incident.tags).toEqual(['attack.t1110']);
    expect(incident.group).toEqual({ user: 'dba_admin' });
    expect(incident.explanation).toEqual({ count: 10, threshold: 10 });
  });
});

describe('toIncidentDetailJson', () => {
  it('adds the previous incident, creation and update times, and the evidence to the list shape', () => {
    const detail = toIncidentDetailJson(incident);
    expect(detail).toEqual({
      ...toIncidentJson(incident),
      previous_incident_id: 3,
      created_at: '2026-01-01T00:01:00.000Z',
      updated_at: '2026-01-01T00:02:00.000Z',
      evidence: [evidenceItem('e1', '2026-01-01T00:00:00.000Z')],
      acknowledged_at: null,
      acknowledged_by: null,
      resolved_at: null,
      resolved_by: null,
    });
    expect(Object.keys(detail).slice(-8)).toEqual(['previous_incident_id', 'created_at', 'updated_at', 'evidence', 'acknowledged_at', 'acknowledged_by', 'resolved_at', 'resolved_by']);
  });

  it('appends who acknowledged and resolved the incident and when, as ISO UTC times', () => {
    const detail = toIncidentDetailJson({
      ...incident,
      status: 'resolved',
      acknowledgedAt: new Date('2026-01-01T00:03:00Z'),
      acknowledgedBy: 'responder:alice',
      resolvedAt: new Date('2026-01-01T00:04:00.5Z'),
      resolvedBy: 'system',
    });
    expect([detail.acknowledged_at, detail.acknowledged_by, detail.resolved_at, detail.resolved_by]).toEqual([
      '2026-01-01T00:03:00.000Z',
      'responder:alice',
      '2026-01-01T00:04:00.500Z',
      'system',
    ]);
  });
});

describe('deadlineStatus', () => {
  const deadlines = {
    uu_pdp_art46: { title: 'UU PDP Art. 46', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259_200_000 },
    gdpr_art33: { title: 'GDPR Art. 33', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259_200_000 },
    short: { title: 'Internal', due_at: '2026-01-02T00:00:00.000Z', within_ms: 86_400_000 },
    broken: { title: 'no due_at', within_ms: 1 },
  };

  it('gives the time left of each deadline in ms, soonest first then by name, negative once passed, skipping malformed entries', () => {
    expect(deadlineStatus({ deadlines }, new Date('2026-01-03T23:00:00Z'))).toEqual([
      { name: 'short', title: 'Internal', due_at: '2026-01-02T00:00:00.000Z', within_ms: 86_400_000, left_ms: -169_200_000 },
      { name: 'gdpr_art33', title: 'GDPR Art. 33', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259_200_000, left_ms: 3_600_000 },
      { name: 'uu_pdp_art46', title: 'UU PDP Art. 46', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259_200_000, left_ms: 3_600_000 },
    ]);
  });

  it('is empty for an incident without deadlines', () => {
    expect(deadlineStatus({ deadlines: null }, new Date('2026-01-01T00:00:00Z'))).toEqual([]);
  });
});
