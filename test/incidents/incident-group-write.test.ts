import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import type { Detection } from '../../src/domain/detection.js';
import type { SqlQueryable } from '../../src/domain/sql-queryable.js';
import { incidentFingerprint } from '../../src/incidents/incident-fingerprint.js';
import { IncidentRepository, type UpsertContext, type UpsertResult } from '../../src/incidents/incident-repository.js';
import { INCIDENT_COLUMNS } from '../../src/incidents/incident-row.js';
import { DRIVERS, useStoreHarness } from '../db/store-harness.js';
import { detection, evidenceItem } from './detection-factory.js';

const harness = useStoreHarness();
const APPLIED_AT = new Date('2026-02-01T10:00:00.000Z');
const CONTEXT: UpsertContext = {
  appliedAt: APPLIED_AT,
  resolveAfterMs: (detectorId) => (detectorId === 'jaga.auth.brute_force' ? 3_600_000 : 7_200_000),
  // key order on purpose not jsonb's: the stored (and returned) value reorders it
  deadlines: ({ firstSeen, dataClasses }) => (dataClasses.length === 0 ? null : { gdpr_art33: { within_ms: 259_200_000, due_at: new Date(firstSeen.getTime() + 259_200_000).toISOString(), title: 'GDPR' } }),
};

/** Evidence items e<from>..e<to-1>, one second apart. */
function items(from: number, to: number) {
  return Array.from({ length: to - from }, (_, i) => evidenceItem(`e${from + i}`, new Date(Date.UTC(2026, 0, 1, 0, 0, from + i)).toISOString()));
}

/** The detections of the batch: two fingerprints (dba_admin opens in the batch, app_user is live before), in interleaved order. */
function batch(): Detection[] {
  const admin = (n: number, overrides: Partial<Detection>) => detection({ id: `a${n}`, ...overrides });
  const app = (n: number, overrides: Partial<Detection>) =>
    detection({ id: `b${n}`, group: { user: 'app_user' }, groupKey: '{"user":"app_user"}', entity: { user: 'app_user', database: null, client_addr: null, application_name: 'crm' }, ...overrides });
  return [
    admin(1, { severity: 'medium', firstSeen: '2026-01-01T00:01:00.000Z', lastSeen: '2026-01-01T00:02:00.000Z', explanation: { zz: 1, a: { bb: 2, c: 3 } } }),
    app(2, { severity: 'low', count: 3, evidence: items(40, 48), dataClasses: ['pii.email'] }),
    admin(2, { severity: 'high', count: 4, firstSeen: '2026-01-01T00:00:30.000Z', lastSeen: '2026-01-01T00:01:30.000Z', evidence: items(2, 5), tags: ['attack.t1078'] }),
    app(3, { severity: 'critical', count: 2, evidence: items(48, 60), title: 'Renamed', dataClasses: ['pii.phone'] }),
    admin(3, { severity: 'low', count: 1, lastSeen: '2026-01-01T00:05:00.000Z', evidence: items(2, 3), entity: { user: 'dba_admin', database: 'crm', client_addr: '10.0.0.5', application_name: 'psql' } }),
    app(4, { count: 5, evidence: items(60, 61), summary: 'later' }),
    admin(2, { severity: 'high', count: 4 }),
  ];
}

/** `rows` as JSON with incident ids replaced by their order of appearance (sequences differ between runs). */
function normalised(value: unknown): string {
  const ids = new Map<number, number>();
  return JSON.stringify(value, (key, v: unknown) => {
    if ((key === 'id' || key === 'previousIncidentId' || key === 'incident_id' || key === 'previous_incident_id') && typeof v === 'number') {
      if (!ids.has(v)) ids.set(v, ids.size + 1);
      return `#${ids.get(v)}`;
    }
    return v;
  });
}

/** A transaction view counting the incident writes. */
function counting(tx: SqlQueryable, counts: { update: number; insert: number }): SqlQueryable {
  return {
    query: (sql, params) => {
      if (/^\s*UPDATE jaga_incident\s/.test(sql)) counts.update += 1;
      if (/^\s*INSERT INTO jaga_incident \(/.test(sql)) counts.insert += 1;
      return tx.query(sql, params);
    },
  } as SqlQueryable;
}

describe.each(DRIVERS)('IncidentRepository.upsertMany group writes on %s', (driver) => {
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

  /** Opens app_user's incident, then applies `apply` and returns its results, the rows and the recorded detection ids. */
  async function run(apply: (tx: SqlQueryable) => Promise<UpsertResult[]>) {
    const first = detection({ id: 'b1', group: { user: 'app_user' }, groupKey: '{"user":"app_user"}', entity: { user: 'app_user', database: null, client_addr: null, application_name: 'crm' }, evidence: items(0, 40) });
    await store.transaction((tx) => repo.upsertMany(tx, [first], CONTEXT));
    const results = await store.transaction(apply);
    const rows = await store.query(`SELECT ${INCIDENT_COLUMNS} FROM jaga_incident ORDER BY id`);
    const recorded = await store.query('SELECT detection_id, incident_id FROM jaga_incident_detection ORDER BY detection_id');
    return { results, rows, recorded };
  }

  it('writes each fingerprint once per call, with every result (jsonb key order included) and row equal to one upsert per detection', async () => {
    const counts = { update: 0, insert: 0 };
    const grouped = await run((tx) => repo.upsertMany(counting(tx, counts), batch(), CONTEXT));
    expect(counts).toEqual({ update: 1, insert: 1 });
    expect(grouped.results.map((r) => [r.outcome, r.incident.version, r.incident.count, r.incident.severity, r.incident.evidence.length])).toEqual([
      ['opened', 1, 10, 'medium', 2],
      ['updated', 2, 13, 'high', 48],
      ['severity_raised', 2, 14, 'high', 4],
      ['severity_raised', 3, 15, 'critical', 50],
      ['updated', 3, 15, 'high', 4],
      ['updated', 4, 20, 'critical', 50],
      ['duplicate', 3, 15, 'high', 4],
    ]);
    expect(grouped.results[0]!.incident.explanation).toEqual({ a: { c: 3, bb: 2 }, zz: 1 });
    expect(Object.keys(grouped.results[0]!.incident.explanation)).toEqual(['a', 'zz']);
    expect(grouped.results[4]!.incident.entity.application_name).toBe('psql');
    expect(grouped.results[3]!.incident.deadlines).toEqual({ gdpr_art33: { title: 'GDPR', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259_200_000 } });

    await store.query('DELETE FROM jaga_incident_detection');
    await store.query('DELETE FROM jaga_incident');
    // one upsert per detection, in upsertMany's order (fingerprint, then input order)
    const oneByOne = await run(async (tx) => {
      const detections = batch();
      const order = detections.map((d, index) => ({ index, fingerprint: incidentFingerprint(d) }));
      order.sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : x.fingerprint > y.fingerprint ? 1 : x.index - y.index));
      const out = new Array<UpsertResult>(detections.length);
      for (const { index } of order) out[index] = await repo.upsert(tx, detections[index]!, CONTEXT);
      return out;
    });
    expect(normalised(grouped.results)).toBe(normalised(oneByOne.results));
    expect(normalised(grouped.rows)).toBe(normalised(oneByOne.rows));
    expect(normalised(grouped.recorded)).toBe(normalised(oneByOne.recorded));
  });

  it('merges the groups of several live incidents with one UPDATE, results and rows equal to one upsert per detection (a duplicate writes the groups before it first)', async () => {
    const of = (user: string, n: number, overrides: Partial<Detection> = {}) =>
      detection({ id: `${user}-${n}`, group: { user }, groupKey: JSON.stringify({ user }), entity: { user, database: null, client_addr: null, application_name: 'crm' }, ...overrides });
    const users = ['u1', 'u2', 'u3'];
    const opening = () => users.map((user) => of(user, 0, { evidence: items(0, 2) }));
    // u1 adds evidence, u2 adds none (same items), u3 raises severity (and adds the factory's e2); then u2's first detection again (a duplicate) and one more of u2
    const later = () => [
      of('u1', 1, { evidence: items(2, 4), count: 2 }),
      of('u2', 1, { evidence: items(0, 2), count: 3, summary: 'again' }),
      of('u3', 1, { severity: 'critical', lastSeen: '2026-01-01T00:09:00.000Z' }),
      of('u2', 1, { evidence: items(0, 2), count: 3, summary: 'again' }),
      of('u2', 2, { evidence: items(5, 6) }),
    ];
    const apply = async (many: boolean, counts: { update: number; insert: number }) => {
      await store.query('DELETE FROM jaga_incident_detection');
      await store.query('DELETE FROM jaga_incident');
      await store.transaction((tx) => repo.upsertMany(tx, opening(), CONTEXT));
      const results = await store.transaction(async (tx) => {
        const counted = counting(tx, counts);
        if (many) return repo.upsertMany(counted, later(), CONTEXT);
        const detections = later();
        const order = detections.map((d, index) => ({ index, fingerprint: incidentFingerprint(d) }));
        order.sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : x.fingerprint > y.fingerprint ? 1 : x.index - y.index));
        const out = new Array<UpsertResult>(detections.length);
        for (const { index } of order) out[index] = await repo.upsert(counted, detections[index]!, CONTEXT);
        return out;
      });
      const rows = await store.query(`SELECT ${INCIDENT_COLUMNS} FROM jaga_incident ORDER BY id`);
      return { results, rows };
    };
    const counts = { update: 0, insert: 0 };
    const grouped = await apply(true, counts);
    // the groups up to u2's duplicate (in fingerprint order) go in one UPDATE, written before the duplicate reads its incident; the rest in another
    expect(counts).toEqual({ update: 2, insert: 0 });
    expect(grouped.results.map((r) => [r.outcome, r.incident.version, r.incident.count, r.incident.severity, r.incident.evidence.map((e) => e.event_id).join(' ')])).toEqual([
      ['updated', 2, 12, 'high', 'e0 e1 e2 e3'],
      ['updated', 2, 13, 'high', 'e0 e1'],
      ['severity_raised', 2, 20, 'critical', 'e0 e1 e2'],
      ['duplicate', 2, 13, 'high', 'e0 e1'],
      ['updated', 3, 23, 'high', 'e0 e1 e5'],
    ]);
    const oneByOne = await apply(false, { update: 0, insert: 0 });
    expect(normalised(grouped.results)).toBe(normalised(oneByOne.results));
    expect(normalised(grouped.rows)).toBe(normalised(oneByOne.rows));
  });

  it('gives every state of a group the transaction time when no applied time is given, and a group within one fingerprint opens once', async () => {
    const counts = { update: 0, insert: 0 };
    const results = await store.transaction((tx) => repo.upsertMany(counting(tx, counts), [detection({ id: 'x1' }), detection({ id: 'x2', count: 2 }), detection({ id: 'x3', count: 3 })]));
    expect(counts).toEqual({ update: 0, insert: 1 });
    const [row] = await store.query<{ id: number; updated_at: Date; created_at: Date; version: number; count: string | number }>('SELECT id, updated_at, created_at, version, count FROM jaga_incident');
    expect(results.map((r) => [r.outcome, r.incident.id, r.incident.version, r.incident.count])).toEqual([
      ['opened', Number(row!.id), 1, 10],
      ['updated', Number(row!.id), 2, 12],
      ['updated', Number(row!.id), 3, 15],
    ]);
    expect([Number(row!.version), Number(row!.count)]).toEqual([3, 15]);
    for (const r of results) {
      expect(r.incident.updatedAt.getTime()).toBe(row!.updated_at.getTime());
      expect(r.incident.createdAt.getTime()).toBe(row!.created_at.getTime());
    }
  });
});

