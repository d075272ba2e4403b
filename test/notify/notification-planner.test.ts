import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NotifyConfig } from '../../src/config/notify-config.js';
import { DEFAULT_ROUTE_CHANGES } from '../../src/config/notify-config.js';
import type { Store } from '../../src/db/store.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { notificationId } from '../../src/notify/notification-id.js';
import { NotificationPlanner } from '../../src/notify/notification-planner.js';
import { MAX_DIGEST_ITEMS, OutboxRepository } from '../../src/notify/outbox-repository.js';
import { SilenceRepository } from '../../src/notify/silence-repository.js';
import { DRIVERS, useStoreHarness } from '../db/store-harness.js';
import { change, receiverConfig, testLinks } from './notify-fixtures.js';

const harness = useStoreHarness();
const t0 = new Date('2026-01-01T00:01:00.000Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);

const config: Pick<NotifyConfig, 'receivers' | 'routes' | 'escalation'> = {
  receivers: {
    slack: receiverConfig('slack', 'slack', {}),
    mail: receiverConfig('mail', 'email', {}, { groupWindowMs: 60_000 }),
    pager: receiverConfig('pager', 'webhook', {}),
  },
  routes: [
    { severityAtLeast: 'high', tagsAny: null, detectors: null, statuses: null, changes: DEFAULT_ROUTE_CHANGES, receivers: ['slack'] },
    { severityAtLeast: null, tagsAny: ['pii'], detectors: ['jaga.data.*'], statuses: ['open'], changes: [...DEFAULT_ROUTE_CHANGES, 'acknowledged'], receivers: ['mail'] },
  ],
  escalation: { steps: [{ step: 1, afterMs: { info: null, low: null, medium: null, high: 3_600_000, critical: 900_000 }, receivers: ['pager'] }] },
};

describe.each(DRIVERS)('NotificationPlanner on %s', (driver) => {
  let store: Store;
  let telemetry: Telemetry;
  let planner: NotificationPlanner;
  const outbox = new OutboxRepository();
  const silences = new SilenceRepository();
  beforeAll(async () => {
    store = await harness.open(driver);
  });
  beforeEach(async () => {
    await store.query('DELETE FROM jaga_outbox_change');
    await store.query('DELETE FROM jaga_outbox');
    await store.query('DELETE FROM jaga_silence');
    telemetry = new Telemetry(createSilentLogger());
    planner = new NotificationPlanner(config, testLinks, telemetry);
  });
  const counter = async (name: string): Promise<number> => {
    const metric = await telemetry.registry.getSingleMetric(`jaga_${name}_total`)?.get();
    return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
  };

  it('routes an opened high incident to slack as one pending row with a stable id, and a replay writes nothing', async () => {
    const c = change();
    expect(await store.transaction((tx) => planner.enqueue(tx, [c], t0))).toBe(1);
    expect(await store.transaction((tx) => planner.enqueue(tx, [c], at(5000)))).toBe(0);
    const rows = await outbox.list(store);
    expect(rows.map((r) => [r.id, r.receiver, r.kind, r.status, r.incidentId])).toEqual([[notificationId('slack', `change:${c.id}`), 'slack', 'single', 'pending', 7]]);
    expect(rows[0]?.nextAttemptAt).toEqual(t0);
    expect(rows[0]?.payload.items[0]?.links.ack).toBe(`https://jaga.test/incidents/7/ack?n=${rows[0]?.id}`);
  });

  it('routes by severity floor, tags, detector prefix, status and change kind', async () => {
    const low = change({}, { severity: 'low' }, 'low');
    const pii = change({}, { severity: 'medium', detectorId: 'jaga.data.bulk_read', tags: ['pii'] }, 'pii');
    const piiAcked = change({ kind: 'acknowledged' }, { severity: 'medium', detectorId: 'jaga.data.bulk_read', tags: ['pii'], status: 'acknowledged' }, 'pii-ack');
    const piiAckedOpen = change({ kind: 'acknowledged' }, { severity: 'medium', detectorId: 'jaga.data.bulk_read', tags: ['pii'] }, 'pii-ack-open');
    const updated = change({ kind: 'updated' }, {}, 'upd');
    expect(planner.receiversFor(low)).toEqual([]);
    expect(planner.receiversFor(pii)).toEqual(['mail']);
    expect(planner.receiversFor(piiAcked)).toEqual([]);
    expect(planner.receiversFor(piiAckedOpen)).toEqual(['mail']);
    expect(planner.receiversFor(updated)).toEqual([]);
    expect(planner.receiversFor(change({}, { severity: 'critical', detectorId: 'jaga.data.x', tags: ['pii'] }, 'both'))).toEqual(['slack', 'mail']);
    expect(await store.transaction((tx) => planner.enqueue(tx, [low, updated], t0))).toBe(0);
    expect(await counter('notification_skipped')).toBe(2);
  });

  it('never notifies for an experimental detector', async () => {
    const c = change({}, { maturity: 'experimental', severity: 'critical' });
    expect(await store.transaction((tx) => planner.enqueue(tx, [c], t0))).toBe(0);
    expect(await outbox.list(store)).toEqual([]);
    const metric = await telemetry.registry.getSingleMetric('jaga_notification_skipped_total')?.get();
    expect(metric?.values).toEqual([{ labels: { reason: 'experimental' }, value: 1 }]);
  });

  it('sends an escalation step only to that step\'s receivers, and an unknown step nowhere', async () => {
    const step1 = change({ kind: 'escalated', escalationStep: 1 });
    const step2 = change({ kind: 'escalated', escalationStep: 2 });
    expect(await store.transaction((tx) => planner.enqueue(tx, [step1, step2], t0))).toBe(1);
    const rows = await outbox.list(store);
    expect(rows.map((r) => [r.receiver, r.payload.items[0]?.change, r.payload.items[0]?.escalation_step])).toEqual([['pager', 'escalated', 1]]);
  });

  it('collects changes within a receiver\'s grouping window into one digest due when the window closes', async () => {
    const make = (i: number) => change({}, { id: 20 + i, detectorId: 'jaga.data.bulk_read', tags: ['pii'], severity: 'medium' }, `burst-${i}`);
    await store.transaction((tx) => planner.enqueue(tx, [make(0)], t0));
    await store.transaction((tx) => planner.enqueue(tx, [make(1), make(2)], at(20_000)));
    await store.transaction((tx) => planner.enqueue(tx, [make(2)], at(30_000)));
    await store.transaction((tx) => planner.enqueue(tx, [make(3)], at(61_000)));
    const rows = await outbox.list(store, { receiver: 'mail' });
    expect(rows.map((r) => [r.kind, r.payload.items.map((i) => i.incident_id), r.nextAttemptAt.toISOString()])).toEqual([
      ['digest', [20, 21, 22], '2026-01-01T00:02:00.000Z'],
      ['digest', [23], '2026-01-01T00:03:01.000Z'],
    ]);
    expect(rows[0]?.id).toBe(notificationId('mail', `digest:${make(0).id}`));
    expect(rows[0]?.payload.items.every((i) => i.links.ack === `https://jaga.test/incidents/${i.incident_id}/ack?n=${rows[0]?.id}`)).toBe(true);
  });

  it('closes a digest at MAX_DIGEST_ITEMS changes (due at once) and opens the next one', async () => {
    const make = (i: number) => change({}, { id: 1000 + i, detectorId: 'jaga.data.bulk_read', tags: ['pii'], severity: 'medium' }, `big-${i}`);
    await store.transaction((tx) => planner.enqueue(tx, Array.from({ length: MAX_DIGEST_ITEMS + 1 }, (_, i) => make(i)), t0));
    const rows = await outbox.list(store, { receiver: 'mail' });
    expect(rows.map((r) => [r.payload.items.length, r.nextAttemptAt.toISOString()])).toEqual([
      [MAX_DIGEST_ITEMS, t0.toISOString()],
      [1, '2026-01-01T00:02:00.000Z'],
    ]);
  });

  it('a silence mutes matching notifications (recorded as muted, counted) until it expires; other incidents still notify', async () => {
    const silence = await silences.create(
      store,
      { matchers: { detector: 'jaga.auth.*', severity: null, tags_any: null, entity: { user: 'dba_admin' }, server: null }, startsAt: t0, endsAt: at(3_600_000), author: 'responder:alice', reason: 'pen test' },
      t0,
    );
    const muted = change({}, {}, 'muted');
    const other = change({}, { id: 8, entity: { user: 'app', database: 'crm', client_addr: null, application_name: null } }, 'other');
    expect(await store.transaction((tx) => planner.enqueue(tx, [muted, other], at(1000)))).toBe(2);
    const rows = await outbox.list(store);
    expect(rows.map((r) => [r.incidentId, r.status, r.silenceId])).toEqual([
      [7, 'muted', silence.id],
      [8, 'pending', null],
    ]);
    expect(await counter('notification_muted')).toBe(1);
    expect((await silences.active(store, at(2000))).map((s) => s.id)).toEqual([silence.id]);
    await silences.expire(store, silence.id, 'responder:bob', at(2000));
    expect(await silences.active(store, at(3000))).toEqual([]);
    const after = change({}, {}, 'after-expiry');
    await store.transaction((tx) => planner.enqueue(tx, [after], at(3000)));
    const last = await outbox.get(store, notificationId('slack', `change:${after.id}`));
    expect(last?.status).toBe('pending');
    expect((await silences.get(store, silence.id))?.expiredBy).toBe('responder:bob');
  });

  it('refuses a silence without matchers', async () => {
    await expect(
      silences.create(store, { matchers: { detector: null, severity: null, tags_any: [], entity: {}, server: null }, startsAt: t0, endsAt: at(1000), author: 'a', reason: 'r' }, t0),
    ).rejects.toThrow('give at least one matcher');
  });
});
