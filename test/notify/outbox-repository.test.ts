import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { buildNotificationItem } from '../../src/notify/notification-message.js';
import { notificationId } from '../../src/notify/notification-id.js';
import { OutboxRepository } from '../../src/notify/outbox-repository.js';
import { DRIVERS, useStoreHarness } from '../db/store-harness.js';
import { change, testLinks } from './notify-fixtures.js';

const harness = useStoreHarness();
const t0 = new Date('2026-01-01T00:01:00.000Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);
const LEASE = 60_000;

describe.each(DRIVERS)('OutboxRepository on %s', (driver) => {
  let store: Store;
  const outbox = new OutboxRepository();
  beforeAll(async () => {
    store = await harness.open(driver);
  });
  beforeEach(async () => {
    await store.query('DELETE FROM jaga_outbox_change');
    await store.query('DELETE FROM jaga_outbox');
  });
  const add = async (key: string, receiver = 'slack', now = t0): Promise<string> => {
    const c = change({}, {}, key);
    const id = notificationId(receiver, `change:${c.id}`);
    await outbox.addSingle(store, { receiver, changeId: c.id, id, item: buildNotificationItem(c, id, testLinks, now), status: 'pending', silenceId: null, now });
    return id;
  };

  it('claims due rows of one receiver only, in due order, bounded by the batch, counting an attempt', async () => {
    const a = await add('a');
    const b = await add('b', 'slack', at(1));
    await add('c', 'mail');
    await add('d', 'slack', at(10_000));
    const rows = await outbox.claim(store, { receiver: 'slack', limit: 5, now: at(5000), leaseMs: LEASE, claimer: 'A' });
    expect(rows.map((r) => [r.id, r.status, r.attempts, r.claimedBy])).toEqual([
      [a, 'in_flight', 1, 'A'],
      [b, 'in_flight', 1, 'A'],
    ]);
    expect(await outbox.claim(store, { receiver: 'slack', limit: 5, now: at(5000), leaseMs: LEASE, claimer: 'B' })).toEqual([]);
    const bounded = await outbox.claim(store, { receiver: 'slack', limit: 1, now: at(20_000), leaseMs: LEASE, claimer: 'B' });
    expect(bounded.length).toBe(1);
  });

  it('a claim older than the lease is claimable again (dead process), and the old claimer can no longer mark it', async () => {
    const id = await add('lease');
    await outbox.claim(store, { receiver: 'slack', limit: 5, now: t0, leaseMs: LEASE, claimer: 'dead' });
    expect(await outbox.claim(store, { receiver: 'slack', limit: 5, now: at(LEASE - 1), leaseMs: LEASE, claimer: 'B' })).toEqual([]);
    const again = await outbox.claim(store, { receiver: 'slack', limit: 5, now: at(LEASE), leaseMs: LEASE, claimer: 'B' });
    expect(again.map((r) => [r.id, r.attempts, r.claimedBy])).toEqual([[id, 2, 'B']]);
    expect(await outbox.markDelivered(store, id, 'dead', at(LEASE + 1))).toBe(false);
    expect(await outbox.markDelivered(store, id, 'B', at(LEASE + 2))).toBe(true);
    const row = await outbox.get(store, id);
    expect([row?.status, row?.deliveredAt]).toEqual(['delivered', at(LEASE + 2)]);
  });

  it('retry keeps the error code and hides the row until its next attempt; release uncounts the attempt', async () => {
    const id = await add('retry');
    await outbox.claim(store, { receiver: 'slack', limit: 5, now: t0, leaseMs: LEASE, claimer: 'A' });
    expect(await outbox.retry(store, id, 'A', at(2000), 'slack http 500')).toBe(true);
    expect(await outbox.claim(store, { receiver: 'slack', limit: 5, now: at(1999), leaseMs: LEASE, claimer: 'A' })).toEqual([]);
    expect(await outbox.nextDueAt(store, 'slack', LEASE)).toEqual(at(2000));
    const [row] = await outbox.claim(store, { receiver: 'slack', limit: 5, now: at(2000), leaseMs: LEASE, claimer: 'A' });
    expect([row?.attempts, row?.lastError]).toEqual([2, 'slack http 500']);
    expect(await outbox.release(store, [id], 'A', at(3000))).toBe(1);
    const released = await outbox.get(store, id);
    expect([released?.status, released?.attempts, released?.nextAttemptAt, released?.claimedBy]).toEqual(['pending', 1, at(3000), null]);
  });

  it('dead-letters with a fallback copy (stable id, same items) and purges delivered rows by age', async () => {
    const id = await add('dead');
    const [row] = await outbox.claim(store, { receiver: 'slack', limit: 5, now: t0, leaseMs: LEASE, claimer: 'A' });
    const copy = await outbox.deadLetter(store, row!, 'A', 'slack http 400 invalid_payload', 'mail', at(1));
    expect(copy).toBe(notificationId('mail', `fallback:${id}`));
    const dead = await outbox.get(store, id);
    expect([dead?.status, dead?.lastError]).toEqual(['dead', 'slack http 400 invalid_payload']);
    const fallback = await outbox.get(store, copy as string);
    expect([fallback?.receiver, fallback?.kind, fallback?.status, fallback?.fallbackOf, fallback?.payload.notification_id, fallback?.payload.items.length]).toEqual([
      'mail',
      'fallback',
      'pending',
      id,
      copy,
      1,
    ]);
    const [claimed] = await outbox.claim(store, { receiver: 'mail', limit: 5, now: at(2), leaseMs: LEASE, claimer: 'A' });
    await outbox.markDelivered(store, claimed!.id, 'A', at(3));
    expect(await outbox.purgeDelivered(store, at(3))).toBe(0);
    expect(await outbox.purgeDelivered(store, at(4))).toBe(1);
    expect(await outbox.countByStatus(store)).toEqual([{ receiver: 'slack', status: 'dead', count: 1 }]);
  });
});
