import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/domain/incident.js';
import type { TimelineEntry } from '../../src/domain/incident-timeline.js';
import { breachRegisterCsv, breachRegisterEntry } from '../../src/incidents/breach-register.js';

const incident: Incident = {
  id: 4,
  fingerprint: '225b73211dcae0f7e1a933f66145e39f',
  detectorId: 'jaga.auth.brute_force',
  title: '=HYPERLINK("http://x")',
  severity: 'high',
  maturity: 'stable',
  status: 'resolved',
  version: 3,
  firstSeen: new Date('2026-01-01T00:00:00Z'),
  lastSeen: new Date('2026-01-01T00:01:00Z'),
  count: 10,
  server: 'db1',
  group: { user: 'dba_admin' },
  entity: { user: 'dba_admin', database: null, client_addr: '10.0.0.5', application_name: null },
  tags: [],
  dataClasses: ['contact', 'pii'],
  explanation: {},
  summary: 'says "hi", twice',
  evidence: [],
  deadlines: { b: { title: 'B', due_at: '2026-01-05T00:00:00.000Z', within_ms: 1 }, a: { title: 'A', due_at: '2026-01-04T00:00:00.000Z', within_ms: 1 } },
  previousIncidentId: 2,
  createdAt: new Date('2026-01-01T00:02:00Z'),
  updatedAt: new Date('2026-01-01T00:05:00Z'),
  resolvedAt: new Date('2026-01-01T00:05:00Z'),
  resolvedBy: 'system',
};

const entry = (kind: TimelineEntry['kind'], note: string | null, minute: number): TimelineEntry => ({
  changeId: `c${minute}`,
  incidentId: 4,
  kind,
  actor: kind === 'resolved' ? 'system' : 'responder:alice',
  at: new Date(Date.UTC(2026, 0, 1, 0, minute)),
  note,
  detail: {},
});

describe('breach register', () => {
  it('keeps the lifecycle entries of the timeline as actions (not detections, escalations or reminders) and orders deadlines by due time', () => {
    const register = breachRegisterEntry(incident, [entry('opened', null, 2), entry('updated', null, 3), entry('acknowledged', 'on it', 3), entry('escalated', null, 4), entry('resolved', null, 5)]);
    expect(register.actions).toEqual(['2026-01-01T00:03:00.000Z responder:alice acknowledged: on it', '2026-01-01T00:05:00.000Z system resolved']);
    expect(register.deadlines.map((d) => d.name)).toEqual(['a', 'b']);
    expect([register.acknowledged_at, register.resolved_by, register.previous_incident_id]).toEqual([null, 'system', 2]);
  });

  it('writes RFC 4180 CSV: quotes doubled, commas and newlines quoted, formula-like text prefixed with a quote', () => {
    const csv = breachRegisterCsv([breachRegisterEntry(incident, [entry('acknowledged', '-1 rows, "odd"', 3)])]);
    expect(csv.split('\r\n')[1]).toBe(
      `4,jaga.auth.brute_force,"'=HYPERLINK(""http://x"")",high,resolved,db1,dba_admin,,10.0.0.5,2026-01-01T00:00:00.000Z,2026-01-01T00:01:00.000Z,10,contact;pii,` +
        `a=2026-01-04T00:00:00.000Z;b=2026-01-05T00:00:00.000Z,,,2026-01-01T00:05:00.000Z,system,2,"says ""hi"", twice","2026-01-01T00:03:00.000Z responder:alice acknowledged: -1 rows, ""odd"""`,
    );
    expect(breachRegisterCsv([])).toBe('incident_id,detector,title,severity,status,server,user,database,client_addr,first_seen,last_seen,count,data_classes,deadlines,acknowledged_at,acknowledged_by,resolved_at,resolved_by,previous_incident_id,summary,actions\r\n');
  });
});
