/**
 * IncidentService.runDueJobs and purge with an injected clock: auto-resolve, escalation steps and
 * deadline reminders each fire once, across "restarts" (a new IncidentService on the same store);
 * acknowledging stops escalation; retention counts. Both store drivers.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveIncidentsConfig } from '../../src/config/incidents-config.js';
import type { Store } from '../../src/db/store.js';
import type { IncidentChange } from '../../src/domain/incident-change.js';
import { toTimelineEntryJson } from '../../src/domain/incident-timeline.js';
import { incidentChangeId } from '../../src/incidents/incident-change-id.js';
import type { IncidentService } from '../../src/incidents/incident-service.js';
import { DRIVERS, useStoreHarness } from '../db/store-harness.js';
import { detection } from './detection-factory.js';
import { alice, at, clearIncidents, service } from './service-fixtures.js';

const harness = useStoreHarness();
const T0 = '2026-01-01T00:02:00.000Z';
const DAY_MIN = 24 * 60;

/** Only the jobs a test looks at: the others are switched off or pushed far out. */
const AUTO_RESOLVE_ONLY = resolveIncidentsConfig({ incidents: { regulatory: [] } });
/** escalation bounds as `escalationBoundsMs` derives them from the notify section's steps */
const ESCALATION_ONLY = resolveIncidentsConfig({ incidents: { resolve_after: 30 * 86_400_000, regulatory: [] } }, { critical: [15 * 60_000, 3_600_000], high: [30 * 60_000, 2 * 3_600_000], medium: [4 * 3_600_000] });
const REMINDERS_ONLY = resolveIncidentsConfig({ incidents: { resolve_after: 30 * 86_400_000 } });

const brief = (changes: IncidentChange[]): unknown[] => changes.map((c) => [c.kind, c.incident.id, c.actor, c.escalationStep, c.deadline]);

describe.each(DRIVERS)('IncidentService jobs on %s', (driver) => {
  let store: Store;
  beforeAll(async () => {
    store = await harness.open(driver);
  });
  beforeEach(async () => {
    await clearIncidents(store);
  });

  const jobs = (incidents: IncidentService, minutes: number): Promise<IncidentChange[]> => store.transaction((tx) => incidents.runDueJobs(tx, at(T0, minutes)));

  it('auto-resolves a live incident once it is quiet for resolve_after (from its latest detection), by system, once across a restart', async () => {
    const first = service(store, AUTO_RESOLVE_ONLY);
    const [opened] = await store.transaction((tx) => first.applyDetections(tx, [detection()], at(T0, 0)));
    const id = opened!.incident.id;
    // a detection of old events applied 30 minutes later keeps it live: quiet counts from when it was applied
    await store.transaction((tx) => first.applyDetections(tx, [detection({ id: 'det-2' })], at(T0, 30)));
    expect(await jobs(first, 89)).toEqual([]);
    const resolved = await jobs(first, 90);
    expect(brief(resolved)).toEqual([['resolved', id, 'system', null, null]]);
    expect([resolved[0]!.id, resolved[0]!.incident.status, resolved[0]!.incident.version, resolved[0]!.incident.resolvedBy]).toEqual([incidentChangeId(id, 'resolved', 'v2'), 'resolved', 3, 'system']);
    expect(toTimelineEntryJson((await first.timeline(id)).at(-1)!)).toEqual({
      change_id: resolved[0]!.id,
      kind: 'resolved',
      actor: 'system',
      at: '2026-01-01T01:32:00.000Z',
      note: null,
      detail: { version: 3, reason: 'quiet', quiet_ms: 3_600_000 },
    });
    const restarted = service(store, AUTO_RESOLVE_ONLY);
    expect(await jobs(restarted, 91)).toEqual([]);
    expect(await jobs(restarted, 600)).toEqual([]);
  });

  it('auto-resolves by the rule\'s own period (resolveAfterMs per detector)', async () => {
    const perRule = service(store, AUTO_RESOLVE_ONLY, (detectorId) => (detectorId === 'jaga.auth.brute_force' ? 15 * 60_000 : 3_600_000));
    const [opened] = await store.transaction((tx) => perRule.applyDetections(tx, [detection()], at(T0, 0)));
    expect(await jobs(perRule, 14)).toEqual([]);
    expect(brief(await jobs(perRule, 15))).toEqual([['resolved', opened!.incident.id, 'system', null, null]]);
  });

  it('escalates an unacknowledged high incident at 30m and 2h after it opened, each step once across restarts', async () => {
    const first = service(store, ESCALATION_ONLY);
    const [opened] = await store.transaction((tx) => first.applyDetections(tx, [detection()], at(T0, 0)));
    const id = opened!.incident.id;
    expect(await jobs(first, 29)).toEqual([]);
    const step1 = await jobs(first, 30);
    expect(brief(step1)).toEqual([['escalated', id, 'system', 1, null]]);
    expect(step1[0]!.id).toBe(incidentChangeId(id, 'escalated', 'step1'));
    const restarted = service(store, ESCALATION_ONLY);
    expect(await jobs(restarted, 31)).toEqual([]);
    expect(brief(await jobs(restarted, 120))).toEqual([['escalated', id, 'system', 2, null]]);
    expect(await jobs(service(store, ESCALATION_ONLY), 500)).toEqual([]);
    const timeline = (await first.timeline(id)).map((e) => [e.kind, e.at.toISOString(), e.detail]);
    expect(timeline).toEqual([
      ['opened', '2026-01-01T00:02:00.000Z', { detection_id: 'det-1', count_delta: 10, count: 10, severity: 'high' }],
      ['escalated', '2026-01-01T00:32:00.000Z', { step: 1, after_ms: 1_800_000 }],
      ['escalated', '2026-01-01T02:02:00.000Z', { step: 2, after_ms: 7_200_000 }],
    ]);
    // escalation does not change the incident row (a responder's expected version stays valid)
    expect(await store.query('SELECT version FROM jaga_incident WHERE id = $1', [id])).toEqual([{ version: 1 }]);
  });

  it('fires every step that fell due while jaga was down, once; a severity without bounds never escalates', async () => {
    const incidents = service(store, ESCALATION_ONLY);
    const changes = await store.transaction((tx) =>
      incidents.applyDetections(tx, [detection({ severity: 'critical' }), detection({ id: 'low-1', severity: 'low', group: { user: 'x' }, groupKey: '{"user":"x"}' })], at(T0, 0)),
    );
    const critical = changes[0]!.incident.id;
    expect(brief(await jobs(incidents, 600))).toEqual([
      ['escalated', critical, 'system', 1, null],
      ['escalated', critical, 'system', 2, null],
    ]);
    expect(await jobs(incidents, 601)).toEqual([]);
  });

  it('stops escalating once acknowledged', async () => {
    const incidents = service(store, ESCALATION_ONLY);
    const [opened] = await store.transaction((tx) => incidents.applyDetections(tx, [detection()], at(T0, 0)));
    const id = opened!.incident.id;
    expect(brief(await jobs(incidents, 30))).toEqual([['escalated', id, 'system', 1, null]]);
    await store.transaction((tx) => incidents.acknowledge(tx, id, alice('on it', 1), at(T0, 40)));
    expect(await jobs(incidents, 120)).toEqual([]);
    expect(await jobs(service(store, ESCALATION_ONLY), 1000)).toEqual([]);
    expect(await store.query('SELECT step FROM jaga_incident_escalation WHERE incident_id = $1', [id])).toEqual([{ step: 1 }]);
  });

  it('reminds 24 h and 4 h before each regulatory deadline while the incident is not resolved, each once across restarts', async () => {
    const first = service(store, REMINDERS_ONLY);
    const pii = detection({ dataClasses: ['pii'], firstSeen: '2026-01-01T00:00:00.000Z' });
    const [opened] = await store.transaction((tx) => first.applyDetections(tx, [pii], at(T0, 0)));
    const id = opened!.incident.id;
    const due = '2026-01-04T00:00:00.000Z';
    // due 2026-01-04T00:00Z; T0 is 00:02, so the 24 h reminder is due at T0 + 2 days - 2 minutes
    expect(await jobs(first, 2 * DAY_MIN - 3)).toEqual([]);
    const day = await jobs(first, 2 * DAY_MIN - 2);
    expect(brief(day)).toEqual([
      ['deadline_reminder', id, 'system', null, { name: 'gdpr_art33', due_at: due, before_ms: 86_400_000 }],
      ['deadline_reminder', id, 'system', null, { name: 'uu_pdp_art46', due_at: due, before_ms: 86_400_000 }],
    ]);
    expect(day[0]!.id).toBe(incidentChangeId(id, 'deadline_reminder', 'gdpr_art33:86400000'));
    // acknowledged incidents still get reminders; a restart fires nothing twice
    await store.transaction((tx) => first.acknowledge(tx, id, alice(), at(T0, 2 * DAY_MIN)));
    const restarted = service(store, REMINDERS_ONLY);
    expect(await jobs(restarted, 2 * DAY_MIN + 60)).toEqual([]);
    expect(brief(await jobs(restarted, 3 * DAY_MIN - 242))).toEqual([
      ['deadline_reminder', id, 'system', null, { name: 'gdpr_art33', due_at: due, before_ms: 14_400_000 }],
      ['deadline_reminder', id, 'system', null, { name: 'uu_pdp_art46', due_at: due, before_ms: 14_400_000 }],
    ]);
    expect(await jobs(service(store, REMINDERS_ONLY), 3 * DAY_MIN + 60)).toEqual([]);
    expect(toTimelineEntryJson((await first.timeline(id)).at(-1)!).detail).toEqual({ deadline: 'uu_pdp_art46', due_at: due, before_ms: 14_400_000 });
  });

  it('sends no reminder for a resolved incident, nor for a deadline that has already passed', async () => {
    const incidents = service(store, REMINDERS_ONLY);
    const changes = await store.transaction((tx) =>
      incidents.applyDetections(tx, [detection({ dataClasses: ['pii'] }), detection({ id: 'other', group: { user: 'x' }, groupKey: '{"user":"x"}', dataClasses: ['pii'] })], at(T0, 0)),
    );
    await store.transaction((tx) => incidents.resolve(tx, changes[0]!.incident.id, alice(), at(T0, 10)));
    // first job run only after both deadlines passed: nothing to remind
    expect(await jobs(incidents, 4 * DAY_MIN)).toEqual([]);
  });

  it('purges evidence of incidents resolved longer than 180 d ago and `updated` timeline entries older than 365 d, keeping incident rows and lifecycle entries', async () => {
    const incidents = service(store, AUTO_RESOLVE_ONLY);
    const other = { group: { user: 'x' }, groupKey: '{"user":"x"}' };
    const changes = await store.transaction((tx) =>
      incidents.applyDetections(tx, [detection(), detection({ id: 'det-2' }), detection({ id: 'o-1', ...other }), detection({ id: 'o-2', ...other })], at(T0, 0)),
    );
    const [old, recent] = [changes[0]!.incident.id, changes[2]!.incident.id];
    await store.transaction((tx) => incidents.resolve(tx, old, alice('contained'), at(T0, DAY_MIN)));
    await store.transaction((tx) => incidents.resolve(tx, recent, alice(), at(T0, 200 * DAY_MIN)));
    expect(await incidents.purge(at(T0, 366 * DAY_MIN))).toEqual({ evidenceCleared: 1, timelineDeleted: 2 });
    expect(await incidents.purge(at(T0, 366 * DAY_MIN))).toEqual({ evidenceCleared: 0, timelineDeleted: 0 });
    const rows = await store.query<{ id: number; n: number }>('SELECT id, jsonb_array_length(evidence) AS n FROM jaga_incident ORDER BY id');
    expect(rows).toEqual([
      { id: old, n: 0 },
      { id: recent, n: 2 },
    ]);
    expect((await incidents.timeline(old)).map((e) => [e.kind, e.note])).toEqual([
      ['opened', null],
      ['resolved', 'contained'],
    ]);
  });
});
