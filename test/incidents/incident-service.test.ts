/**
 * IncidentService: detections become changes with timeline rows, the responder lifecycle
 * (acknowledge / resolve / reopen) with optimistic versions, deterministic change ids, regulatory
 * deadlines on open. Both store drivers.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { IncidentConflictError, IncidentNotFoundError, IncidentStateError } from '../../src/domain/incident-errors.js';
import { toTimelineEntryJson } from '../../src/domain/incident-timeline.js';
import { incidentChangeId } from '../../src/incidents/incident-change-id.js';
import type { IncidentService } from '../../src/incidents/incident-service.js';
import { DRIVERS, useStoreHarness } from '../db/store-harness.js';
import { detection, evidenceItem } from './detection-factory.js';
import { alice, at, clearIncidents, service } from './service-fixtures.js';

const harness = useStoreHarness();
const FINGERPRINT = '225b73211dcae0f7e1a933f66145e39f';
const T0 = '2026-01-01T00:02:00.000Z';

describe.each(DRIVERS)('IncidentService on %s', (driver) => {
  let store: Store;
  let incidents: IncidentService;
  beforeAll(async () => {
    store = await harness.open(driver);
  });
  beforeEach(async () => {
    await clearIncidents(store);
    incidents = service(store);
  });

  it('turns each newly applied detection into one change (opened, updated, severity_raised) with one timeline row; a detection seen before gives none', async () => {
    const first = await store.transaction((tx) => incidents.applyDetections(tx, [detection()], at(T0, 0)));
    expect(first).toHaveLength(1);
    const opened = first[0]!;
    // a detection change keys on the fingerprint: [fingerprint, kind, detection id]
    expect(opened.id).toBe('7ec154c96dcf33318be6b57675d0dfa3');
    expect({ ...opened, incident: undefined }).toEqual({
      id: '7ec154c96dcf33318be6b57675d0dfa3',
      kind: 'opened',
      incident: undefined,
      previousSeverity: null,
      actor: 'rule:jaga.auth.brute_force',
      at: at(T0, 0),
      note: null,
      escalationStep: null,
      deadline: null,
    });
    expect([opened.incident.fingerprint, opened.incident.version, opened.incident.count, opened.incident.resolveAfterMs, opened.incident.createdAt]).toEqual([FINGERPRINT, 1, 10, 3_600_000, at(T0, 0)]);

    const next = await store.transaction((tx) =>
      incidents.applyDetections(
        tx,
        [detection({ id: 'det-2', count: 3 }), detection({ id: 'det-1' }), detection({ id: 'det-3', count: 2, severity: 'critical', evidence: [evidenceItem('e9', '2026-01-01T00:00:30.000Z')] })],
        at(T0, 1),
      ),
    );
    expect(next.map((c) => [c.kind, c.id, c.incident.version, c.incident.count, c.previousSeverity, c.incident.severity])).toEqual([
      ['updated', incidentChangeId(FINGERPRINT, 'updated', 'det-2'), 2, 13, null, 'high'],
      ['severity_raised', incidentChangeId(FINGERPRINT, 'severity_raised', 'det-3'), 3, 15, 'high', 'critical'],
    ]);
    const timeline = (await incidents.timeline(opened.incident.id)).map(toTimelineEntryJson);
    expect(timeline).toEqual([
      { change_id: opened.id, kind: 'opened', actor: 'rule:jaga.auth.brute_force', at: '2026-01-01T00:02:00.000Z', note: null, detail: { detection_id: 'det-1', count_delta: 10, count: 10, severity: 'high' } },
      { change_id: next[0]!.id, kind: 'updated', actor: 'rule:jaga.auth.brute_force', at: '2026-01-01T00:03:00.000Z', note: null, detail: { detection_id: 'det-2', count_delta: 3, count: 13 } },
      {
        change_id: next[1]!.id,
        kind: 'severity_raised',
        actor: 'rule:jaga.auth.brute_force',
        at: '2026-01-01T00:03:00.000Z',
        note: null,
        detail: { detection_id: 'det-3', count_delta: 2, count: 15, previous_severity: 'high', severity: 'critical' },
      },
    ]);
  });

  it('gives the same change ids when a rolled-back transaction is replayed, and writes each timeline row once', async () => {
    const crashed = await store
      .transaction(async (tx) => {
        const changes = await incidents.applyDetections(tx, [detection(), detection({ id: 'det-2' })], at(T0, 0));
        throw Object.assign(new Error('crash before commit'), { changes });
      })
      .catch((error: Error & { changes: { id: string; kind: string }[] }) => error.changes);
    const replayed = await store.transaction((tx) => incidents.applyDetections(tx, [detection(), detection({ id: 'det-2' })], at(T0, 0)));
    expect(replayed.map((c) => [c.kind, c.id])).toEqual(crashed.map((c) => [c.kind, c.id]));
    expect(replayed.map((c) => c.id)).toEqual(['7ec154c96dcf33318be6b57675d0dfa3', incidentChangeId(FINGERPRINT, 'updated', 'det-2')]);
    expect(await store.query('SELECT count(*)::int AS n FROM jaga_incident_timeline')).toEqual([{ n: 2 }]);
    // replaying the committed detections again: no change at all
    expect(await store.transaction((tx) => incidents.applyDetections(tx, [detection(), detection({ id: 'det-2' })], at(T0, 5)))).toEqual([]);
  });

  it('acknowledges with actor, note and version: open -> acknowledged, version + 1, recorded in the timeline and on the incident', async () => {
    const [opened] = await store.transaction((tx) => incidents.applyDetections(tx, [detection()], at(T0, 0)));
    const id = opened!.incident.id;
    const ack = await store.transaction((tx) => incidents.acknowledge(tx, id, alice('looking into it', 1), at(T0, 10)));
    expect([ack.kind, ack.id, ack.actor, ack.note, ack.incident.status, ack.incident.version]).toEqual([
      'acknowledged',
      incidentChangeId(id, 'acknowledged', 'v1'),
      'responder:alice',
      'looking into it',
      'acknowledged',
      2,
    ]);
    expect([ack.incident.acknowledgedAt, ack.incident.acknowledgedBy, ack.incident.updatedAt]).toEqual([at(T0, 10), 'responder:alice', at(T0, 10)]);
    const last = (await incidents.timeline(id)).at(-1)!;
    expect(toTimelineEntryJson(last)).toEqual({ change_id: ack.id, kind: 'acknowledged', actor: 'responder:alice', at: '2026-01-01T00:12:00.000Z', note: 'looking into it', detail: { version: 2 } });
  });

  it('refuses a stale expectedVersion (IncidentConflictError), an unknown id (IncidentNotFoundError) and a second acknowledge (IncidentStateError), changing nothing', async () => {
    const [opened] = await store.transaction((tx) => incidents.applyDetections(tx, [detection()], at(T0, 0)));
    const id = opened!.incident.id;
    await store.transaction((tx) => incidents.applyDetections(tx, [detection({ id: 'det-2' })], at(T0, 1)));
    const stale = await store.transaction((tx) => incidents.acknowledge(tx, id, alice(null, 1), at(T0, 2))).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(IncidentConflictError);
    expect(stale).toMatchObject({ code: 'incident_version_conflict', incidentId: id, expectedVersion: 1, actualVersion: 2 });
    const missing = await store.transaction((tx) => incidents.resolve(tx, id + 1000, alice(), at(T0, 2))).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(IncidentNotFoundError);
    expect(missing).toMatchObject({ code: 'incident_not_found', message: `incident ${id + 1000} does not exist` });
    await store.transaction((tx) => incidents.acknowledge(tx, id, alice(null, 2), at(T0, 3)));
    const again = await store.transaction((tx) => incidents.acknowledge(tx, id, alice(), at(T0, 4))).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(IncidentStateError);
    expect(again).toMatchObject({ code: 'incident_invalid_state', action: 'acknowledge', status: 'acknowledged', message: `cannot acknowledge incident ${id}: it is already acknowledged` });
    expect(await store.query('SELECT status, version FROM jaga_incident')).toEqual([{ status: 'acknowledged', version: 3 }]);
    expect(await store.query(`SELECT kind FROM jaga_incident_timeline ORDER BY id`)).toEqual([{ kind: 'opened' }, { kind: 'updated' }, { kind: 'acknowledged' }]);
  });

  it('resolves; the next detection opens a new incident linked to it; reopen is refused while that one is live, allowed after it resolves', async () => {
    const [opened] = await store.transaction((tx) => incidents.applyDetections(tx, [detection()], at(T0, 0)));
    const first = opened!.incident.id;
    const resolved = await store.transaction((tx) => incidents.resolve(tx, first, alice('false positive: pen test'), at(T0, 5)));
    expect([resolved.kind, resolved.incident.status, resolved.incident.version, resolved.incident.resolvedAt, resolved.incident.resolvedBy]).toEqual(['resolved', 'resolved', 2, at(T0, 5), 'responder:alice']);
    const resolveAgain = await store.transaction((tx) => incidents.resolve(tx, first, alice(), at(T0, 6))).catch((e: unknown) => e);
    expect(resolveAgain).toMatchObject({ code: 'incident_invalid_state', message: `cannot resolve incident ${first}: it is already resolved` });

    const [reopenedBy] = await store.transaction((tx) => incidents.applyDetections(tx, [detection({ id: 'det-2' })], at(T0, 7)));
    const second = reopenedBy!.incident.id;
    expect([reopenedBy!.kind, reopenedBy!.incident.previousIncidentId, reopenedBy!.incident.version]).toEqual(['opened', first, 1]);
    const refused = await store.transaction((tx) => incidents.reopen(tx, first, alice(), at(T0, 8))).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'incident_invalid_state', message: `cannot reopen incident ${first}: incident ${second} is live for the same fingerprint` });
    const liveReopen = await store.transaction((tx) => incidents.reopen(tx, second, alice(), at(T0, 8))).catch((e: unknown) => e);
    expect(liveReopen).toMatchObject({ message: `cannot reopen incident ${second}: it is open, not resolved` });

    await store.transaction((tx) => incidents.resolve(tx, second, alice(), at(T0, 9)));
    const reopened = await store.transaction((tx) => incidents.reopen(tx, first, alice('not a pen test after all', 2), at(T0, 10)));
    expect([reopened.kind, reopened.id, reopened.incident.status, reopened.incident.version, reopened.incident.resolvedAt, reopened.incident.resolvedBy]).toEqual([
      'reopened',
      incidentChangeId(first, 'reopened', 'v2'),
      'open',
      3,
      null,
      null,
    ]);
    // the reopened incident is the live one again: the next detection merges into it
    const [merged] = await store.transaction((tx) => incidents.applyDetections(tx, [detection({ id: 'det-3', count: 1 })], at(T0, 11)));
    expect([merged!.kind, merged!.incident.id, merged!.incident.count]).toEqual(['updated', first, 11]);
  });

  it('fills the regulatory deadlines from the first detection when an incident touches pii, and adds none for other data', async () => {
    const pii = detection({ id: 'pii-1', detectorId: 'jaga.data.bulk_read', groupKey: '{"user":"app_ro"}', group: { user: 'app_ro' }, dataClasses: ['contact', 'pii'] });
    const [changes] = [await store.transaction((tx) => incidents.applyDetections(tx, [pii, detection()], at(T0, 0)))];
    const byDetector = new Map(changes.map((c) => [c.incident.detectorId, c.incident]));
    expect(byDetector.get('jaga.data.bulk_read')!.deadlines).toEqual({
      gdpr_art33: { title: 'GDPR Art. 33: notify the supervisory authority', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259_200_000 },
      uu_pdp_art46: { title: 'UU PDP Art. 46: notify data subjects and the authority', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259_200_000 },
    });
    expect(byDetector.get('jaga.auth.brute_force')!.deadlines).toBeNull();
    // a later detection bringing pii starts the clocks from the incident's first detection
    const [gained] = await store.transaction((tx) => incidents.applyDetections(tx, [detection({ id: 'det-2', firstSeen: '2026-01-01T06:00:00.000Z', lastSeen: '2026-01-01T06:00:00.000Z', dataClasses: ['pii'] })], at(T0, 360)));
    expect(Object.entries(gained!.incident.deadlines!).map(([name, d]) => [name, (d as { due_at: string }).due_at])).toEqual([
      ['gdpr_art33', '2026-01-04T00:00:00.000Z'],
      ['uu_pdp_art46', '2026-01-04T00:00:00.000Z'],
    ]);
  });

  it('stores the rule\'s own auto-resolve period from resolveAfterMs(detectorId)', async () => {
    const perRule = service(store, undefined, (detectorId) => (detectorId === 'jaga.auth.brute_force' ? 900_000 : 3_600_000));
    const [opened] = await store.transaction((tx) => perRule.applyDetections(tx, [detection()], at(T0, 0)));
    expect(opened!.incident.resolveAfterMs).toBe(900_000);
  });
});
