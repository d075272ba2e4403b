import { describe, expect, it } from 'vitest';
import { toIncidentDetailJson, toIncidentJson, type Incident } from '../../src/domain/incident.js';
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
    });
    expect(Object.keys(detail).slice(-4)).toEqual(['previous_incident_id', 'created_at', 'updated_at', 'evidence']);
  });
});
