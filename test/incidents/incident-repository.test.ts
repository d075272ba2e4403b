import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { StoreError } from '../../src/domain/errors.js';
import { toIncidentDetailJson } from '../../src/domain/incident.js';
import { incidentFingerprint } from '../../src/incidents/incident-fingerprint.js';
import { IncidentRepository } from '../../src/incidents/incident-repository.js';
import { DRIVERS, useStoreHarness } from '../db/store-harness.js';
import { detection, evidenceItem } from './detection-factory.js';

const harness = useStoreHarness();
const FINGERPRINT = '225b73211dcae0f7e1a933f66145e39f';

describe.each(DRIVERS)('IncidentRepository on %s', (driver) => {
  let store: Store;
  let repo: IncidentRepository;
  beforeAll(async () => {
    store = await harness.open(driver);
    repo = new IncidentRepository(store);
  });
  beforeEach(async () => {
    await store.query('DELETE FROM jaga_incident_detection');
    await store.query('DELETE FROM jaga_incident');
  });

  it('opens a new incident from a first detection, version 1, with every field of the detection', async () => {
    const { incident, outcome } = await store.transaction((tx) => repo.upsert(tx, detection()));
    expect(outcome).toBe('opened');
    expect(incident.fingerprint).toBe(FINGERPRINT);
    const { id, created_at, updated_at, ...rest } = toIncidentDetailJson(incident);
    expect(typeof id).toBe('number');
    expect(created_at).toBe(updated_at);
    expect(rest).toEqual({
      fingerprint: FINGERPRINT,
      detector: 'jaga.auth.brute_force',
      title: 'Brute force against a role',
      severity: 'high',
      maturity: 'stable',
      status: 'open',
      version: 1,
      first_seen: '2026-01-01T00:00:00.000Z',
      last_seen: '2026-01-01T00:01:00.000Z',
      count: 10,
      server: 'db1',
      group: { user: 'dba_admin' },
      entity: { user: 'dba_admin', database: 'crm', client_addr: '10.0.0.5', application_name: null },
      tags: ['attack.t1110'],
      data_classes: [],
      explanation: { type: 'threshold', count: 10, threshold: 10, window_seconds: 60 },
      deadlines: null,
      summary: '10 failed logins for dba_admin within 60s',
      previous_incident_id: null,
      evidence: [evidenceItem('e1', '2026-01-01T00:00:00.000Z'), evidenceItem('e2', '2026-01-01T00:00:06.000Z')],
      acknowledged_at: null,
      acknowledged_by: null,
      resolved_at: null,
      resolved_by: null,
    });
    expect(await repo.get(incident.id)).toEqual(incident);
    expect(await store.query('SELECT detection_id, incident_id FROM jaga_incident_detection')).toEqual([{ detection_id: 'det-1', incident_id: incident.id }]);
  });

  it('merges later detections: count summed, first/last seen widened, severity rises but never falls, version +1 each', async () => {
    const opened = await store.transaction((tx) => repo.upsert(tx, detection()));
    const raised = await store.transaction((tx) =>
      repo.upsert(
        tx,
        detection({
          id: 'det-2',
          severity: 'critical',
          count: 5,
          firstSeen: '2025-12-31T23:59:30.000Z',
          lastSeen: '2026-01-01T00:00:30.000Z',
          tags: ['gdpr.art32'],
          dataClasses: ['pii'],
          evidence: [evidenceItem('e2', '2026-01-01T00:00:06.000Z'), evidenceItem('e3', '2025-12-31T23:59:30.000Z')],
          explanation: { type: 'threshold', count: 5, threshold: 5 },
          summary: '5 failed logins',
        }),
      ),
    );
    expect(raised.outcome).toBe('severity_raised');
    expect(raised.incident.id).toBe(opened.incident.id);
    expect(toIncidentDetailJson(raised.incident)).toMatchObject({
      severity: 'critical',
      version: 2,
      count: 15,
      first_seen: '2025-12-31T23:59:30.000Z',
      last_seen: '2026-01-01T00:01:00.000Z',
      tags: ['attack.t1110', 'gdpr.art32'],
      data_classes: ['pii'],
      explanation: { type: 'threshold', count: 5, threshold: 5 },
      summary: '5 failed logins',
    });
    expect(raised.incident.evidence.map((item) => item.event_id)).toEqual(['e1', 'e2', 'e3']);

    const lower = await store.transaction((tx) => repo.upsert(tx, detection({ id: 'det-3', severity: 'low', count: 3, lastSeen: '2026-01-01T00:05:00.000Z' })));
    expect(lower.outcome).toBe('updated');
    expect([lower.incident.severity, lower.incident.version, lower.incident.count, lower.incident.lastSeen.toISOString()]).toEqual([
      'critical',
      3,
      18,
      '2026-01-01T00:05:00.000Z',
    ]);
    const [stored] = await store.query<{ severity: string; severity_rank: number; n: number }>(
      'SELECT severity, severity_rank, (SELECT count(*)::int FROM jaga_incident) AS n FROM jaga_incident',
    );
    expect(stored).toEqual({ severity: 'critical', severity_rank: 4, n: 1 });
  });

  it('ignores a detection id applied before, in the same or a later transaction: outcome duplicate, nothing changes', async () => {
    const [first, again] = await store.transaction(async (tx) => [await repo.upsert(tx, detection()), await repo.upsert(tx, detection({ count: 99 }))]);
    expect(first!.outcome).toBe('opened');
    expect(again!.outcome).toBe('duplicate');
    expect(again!.incident).toEqual(first!.incident);
    await store.transaction((tx) => repo.upsert(tx, detection({ id: 'det-2', count: 1 })));
    const replay = await store.transaction((tx) => repo.upsert(tx, detection()));
    expect(replay.outcome).toBe('duplicate');
    expect([replay.incident.count, replay.incident.version]).toEqual([11, 2]);
    expect(await store.query('SELECT detection_id FROM jaga_incident_detection ORDER BY detection_id')).toEqual([{ detection_id: 'det-1' }, { detection_id: 'det-2' }]);
  });

  it('after resolve, the next detection opens a new incident linked to the resolved one', async () => {
    const first = await store.transaction((tx) => repo.upsert(tx, detection()));
    const resolved = await store.transaction((tx) => repo.resolve(tx, first.incident.id));
    expect([resolved!.status, resolved!.version]).toEqual(['resolved', 2]);
    expect(await store.transaction((tx) => repo.resolve(tx, first.incident.id))).toBeNull();
    expect(await repo.findOpenByFingerprint(FINGERPRINT)).toBeNull();

    const second = await store.transaction((tx) => repo.upsert(tx, detection({ id: 'det-2', count: 4 })));
    expect(second.outcome).toBe('opened');
    expect(second.incident.id).not.toBe(first.incident.id);
    expect([second.incident.previousIncidentId, second.incident.count, second.incident.version, second.incident.status]).toEqual([first.incident.id, 4, 1, 'open']);
    expect((await repo.get(first.incident.id))!.count).toBe(10);

    await store.transaction((tx) => repo.resolve(tx, second.incident.id));
    const third = await store.transaction((tx) => repo.upsert(tx, detection({ id: 'det-3' })));
    expect(third.incident.previousIncidentId).toBe(second.incident.id);
  });

  it('merges into an acknowledged incident and leaves it acknowledged', async () => {
    const first = await store.transaction((tx) => repo.upsert(tx, detection()));
    await store.query("UPDATE jaga_incident SET status = 'acknowledged' WHERE id = $1", [first.incident.id]);
    const merged = await store.transaction((tx) => repo.upsert(tx, detection({ id: 'det-2', count: 2 })));
    expect([merged.outcome, merged.incident.id, merged.incident.status, merged.incident.count]).toEqual(['updated', first.incident.id, 'acknowledged', 12]);
    expect((await repo.findOpenByFingerprint(FINGERPRINT))!.id).toBe(first.incident.id);
  });

  it('keeps other servers, detectors and groups in incidents of their own', async () => {
    const results = await store.transaction((tx) =>
      repo.upsertMany(tx, [
        detection({ id: 'a' }),
        detection({ id: 'b', server: 'db2' }),
        detection({ id: 'c', group: { user: 'app' }, groupKey: '{"user":"app"}' }),
        detection({ id: 'd', detectorId: 'jaga.auth.spray' }),
        detection({ id: 'e', count: 1 }),
      ]),
    );
    expect(results.map((r) => r.outcome)).toEqual(['opened', 'opened', 'opened', 'opened', 'updated']);
    expect(results[4]!.incident.id).toBe(results[0]!.incident.id);
    expect(new Set(results.map((r) => r.incident.fingerprint)).size).toBe(4);
    expect(results[1]!.incident.fingerprint).toBe(incidentFingerprint({ server: 'db2', detectorId: 'jaga.auth.brute_force', groupKey: '{"user":"dba_admin"}' }));
  });

  it('keeps at most 50 evidence items, the first applied, unique by event id', async () => {
    await store.transaction(async (tx) => {
      for (let i = 0; i < 4; i += 1) {
        const evidence = Array.from({ length: 20 }, (_, j) => evidenceItem(`ev-${i * 15 + j}`, '2026-01-01T00:00:00.000Z'));
        await repo.upsert(tx, detection({ id: `det-${i}`, evidence }));
      }
    });
    const incident = await repo.findOpenByFingerprint(FINGERPRINT);
    expect(incident!.evidence).toHaveLength(50);
    expect(incident!.evidence.map((item) => item.event_id)).toEqual(Array.from({ length: 50 }, (_, k) => `ev-${k}`));
  });

  it('leaves nothing behind when the surrounding transaction rolls back, so the detection applies again later', async () => {
    const failure = new Error('checkpoint write failed');
    await expect(
      store.transaction(async (tx) => {
        await repo.upsert(tx, detection());
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await repo.list()).toEqual([]);
    expect((await store.transaction((tx) => repo.upsert(tx, detection()))).outcome).toBe('opened');
  });

  it('the partial unique index allows one live incident per fingerprint but any number of resolved ones', async () => {
    const insert = (status: string): Promise<unknown> =>
      store.query(
        `INSERT INTO jaga_incident (fingerprint, detector_id, title, severity, severity_rank, maturity, status, first_seen, last_seen, count, server, entity, summary)
         VALUES ('f', 'd', 't', 'low', 1, 'stable', $1, now(), now(), 1, 's', '{}', 's')`,
        [status],
      );
    await insert('resolved');
    await insert('resolved');
    await insert('open');
    const error = await insert('acknowledged').then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).sqlstate).toBe('23505');
  });

  it('lists by status, severity, minimum severity, detector and time, most recent first, up to a limit', async () => {
    await store.transaction((tx) =>
      repo.upsertMany(tx, [
        detection({ id: 'a', group: { user: 'a' }, groupKey: '{"user":"a"}', severity: 'low', firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T01:00:00.000Z' }),
        detection({ id: 'b', group: { user: 'b' }, groupKey: '{"user":"b"}', severity: 'high', firstSeen: '2026-01-01T02:00:00.000Z', lastSeen: '2026-01-01T03:00:00.000Z' }),
        detection({ id: 'c', group: { user: 'c' }, groupKey: '{"user":"c"}', severity: 'critical', detectorId: 'jaga.copy.pii', firstSeen: '2026-01-01T04:00:00.000Z', lastSeen: '2026-01-01T05:00:00.000Z' }),
      ]),
    );
    const b = (await repo.list({ severity: 'high' }))[0]!;
    await store.transaction((tx) => repo.resolve(tx, b.id));
    const users = async (filter: Parameters<IncidentRepository['list']>[0]): Promise<unknown[]> => (await repo.list(filter)).map((i) => i.group.user);
    expect(await users({})).toEqual(['c', 'b', 'a']);
    expect(await users({ status: 'open' })).toEqual(['c', 'a']);
    expect(await users({ status: ['resolved', 'acknowledged'] })).toEqual(['b']);
    expect(await users({ severity: ['low', 'critical'] })).toEqual(['c', 'a']);
    expect(await users({ minSeverity: 'high' })).toEqual(['c', 'b']);
    expect(await users({ detector: 'jaga.copy.pii' })).toEqual(['c']);
    expect(await users({ since: '2026-01-01T03:00:00Z' })).toEqual(['c', 'b']);
    expect(await users({ until: new Date('2026-01-01T02:00:00Z') })).toEqual(['b', 'a']);
    expect(await users({ since: '2026-01-01T01:30:00Z', until: '2026-01-01T03:30:00Z' })).toEqual(['b']);
    expect(await users({ limit: 2 })).toEqual(['c', 'b']);
    await expect(repo.list({ limit: 0 })).rejects.toThrow('incident list limit must be an integer from 1 to 10000, got 0');
    await expect(repo.list({ since: 'yesterday' })).rejects.toThrow('incident list since is not a valid time: "yesterday"');
    await expect(repo.list({ status: 'closed' as never })).rejects.toThrow('unknown incident status "closed"');
  });

  it('upsertMany gives the same incidents, outcomes and detection records as one upsert per detection in fingerprint order', async () => {
    const batch = [
      detection({ id: 'a1', count: 3 }),
      detection({ id: 'b1', group: { user: 'app_web' }, groupKey: '{"user":"app_web"}', severity: 'medium' }),
      detection({ id: 'a2', count: 4, severity: 'critical', firstSeen: '2025-12-31T23:59:00.000Z', evidence: [evidenceItem('e9', '2026-01-01T00:00:30.000Z')] }),
      detection({ id: 'a1', count: 3 }),
      detection({ id: 'b2', group: { user: 'app_web' }, groupKey: '{"user":"app_web"}', tags: ['gdpr.art32'], dataClasses: ['pii'] }),
    ];
    const manyResults = await store.transaction((tx) => repo.upsertMany(tx, batch));
    const strip = (incident: { id: number; createdAt: Date; updatedAt: Date; lastDetectedAt?: Date | null }): unknown => ({ ...incident, id: 0, createdAt: 0, updatedAt: 0, lastDetectedAt: 0 });
    const many = manyResults.map((r) => ({ outcome: r.outcome, previousSeverity: r.previousSeverity, incident: strip(r.incident) }));
    const manyLinks = await store.query<{ detection_id: string }>('SELECT detection_id FROM jaga_incident_detection ORDER BY detection_id');
    await store.query('DELETE FROM jaga_incident_detection');
    await store.query('DELETE FROM jaga_incident');
    const order = batch.map((d, index) => ({ index, fingerprint: incidentFingerprint(d) })).sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : a.index - b.index));
    const singles = new Array<(typeof many)[number]>(batch.length);
    await store.transaction(async (tx) => {
      for (const { index } of order) {
        const r = await repo.upsert(tx, batch[index]!);
        singles[index] = { outcome: r.outcome, previousSeverity: r.previousSeverity, incident: strip(r.incident) };
      }
    });
    expect(many).toEqual(singles);
    expect(many.map((r) => r.outcome)).toEqual(['opened', 'opened', 'severity_raised', 'duplicate', 'severity_raised']);
    expect(manyLinks.map((row) => row.detection_id)).toEqual(['a1', 'a2', 'b1', 'b2']);
    const a = manyResults[2]!.incident;
    expect([a.version, a.count, a.severity, a.firstSeen.toISOString()]).toEqual([2, 7, 'critical', '2025-12-31T23:59:00.000Z']);
    expect(manyResults[3]!.incident).toEqual(a);
  });

  it('upsertMany merges into live incidents of several fingerprints read in one go; a merge adding no evidence keeps the stored evidence', async () => {
    const full = Array.from({ length: 50 }, (_, k) => evidenceItem(`ev-${k}`, '2026-01-01T00:00:00.000Z'));
    const userB = { group: { user: 'app_web' }, groupKey: '{"user":"app_web"}' };
    await store.transaction((tx) => repo.upsertMany(tx, [detection({ id: 'a0', evidence: full }), detection({ id: 'b0', ...userB })]));
    const results = await store.transaction((tx) =>
      repo.upsertMany(tx, [
        detection({ id: 'b1', ...userB, evidence: [evidenceItem('b-new', '2026-01-01T00:00:09.000Z')] }),
        detection({ id: 'a1', count: 2, evidence: [evidenceItem('ev-3', '2026-01-01T00:00:00.000Z'), evidenceItem('late', '2026-01-01T00:00:09.000Z')] }),
        detection({ id: 'a2', count: 5, severity: 'critical', explanation: { type: 'threshold', count: 5 } }),
      ]),
    );
    expect(results.map((r) => [r.outcome, r.incident.version, r.incident.count])).toEqual([
      ['updated', 2, 20],
      ['updated', 2, 12],
      ['severity_raised', 3, 17],
    ]);
    const [a, b] = [await repo.findOpenByFingerprint(FINGERPRINT), await repo.findOpenByFingerprint(results[0]!.incident.fingerprint)];
    expect(results[2]!.incident).toEqual(a);
    expect(results[0]!.incident).toEqual(b);
    expect(a!.evidence).toEqual(full);
    expect(results[1]!.incident.evidence).toEqual(full);
    expect(a!.explanation).toEqual({ type: 'threshold', count: 5 });
    expect(b!.evidence.map((item) => item.event_id)).toEqual(['e1', 'e2', 'b-new']);
  });

  it('rejects a malformed detection before touching the store', async () => {
    const upsert = (overrides: Parameters<typeof detection>[0]): Promise<unknown> => store.transaction((tx) => repo.upsert(tx, detection(overrides)));
    await expect(upsert({ count: -1 })).rejects.toThrow('detection det-1: count must be a safe non-negative integer, got -1');
    await expect(upsert({ severity: 'urgent' as never })).rejects.toThrow('detection det-1: unknown severity "urgent"');
    await expect(upsert({ lastSeen: 'soon' })).rejects.toThrow('detection det-1: firstSeen and lastSeen must be ISO-8601 times');
    await expect(upsert({ firstSeen: '2026-01-02T00:00:00Z' })).rejects.toThrow(RangeError);
    expect(await repo.list()).toEqual([]);
  });
});
