import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTE_CHANGES, type ReceiverConfig } from '../../src/config/notify-config.js';
import { openStore } from '../../src/db/open-store.js';
import type { Store } from '../../src/db/store.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { NotificationDispatcher } from '../../src/notify/notification-dispatcher.js';
import { NotificationPlanner } from '../../src/notify/notification-planner.js';
import { OutboxRepository } from '../../src/notify/outbox-repository.js';
import { createReceiver } from '../../src/notify/receiver-registry.js';
import { useStoreHarness } from '../db/store-harness.js';
import { SlackLikeServer } from '../helpers/slack-like-server.js';
import { change, receiverConfig, testLinks } from './notify-fixtures.js';

const harness = useStoreHarness();
const outbox = new OutboxRepository();

describe('two agents on one PostgreSQL store', () => {
  let storeA: Store;
  let storeB: Store;
  let server: SlackLikeServer;
  let config: ReceiverConfig;
  beforeAll(async () => {
    const target = await harness.target('pg');
    storeA = await openStore({ url: target.url });
    storeB = await openStore({ url: target.url });
    server = await new SlackLikeServer().start();
    config = receiverConfig('hook', 'webhook', { url: server.url('/hook'), secret: 'k', timeoutMs: 5000 }, { groupWindowMs: 0 });
  });
  afterAll(async () => {
    await storeA?.close();
    await storeB?.close();
    await server?.stop();
  });
  const planner = () =>
    new NotificationPlanner(
      { receivers: { hook: config }, routes: [{ severityAtLeast: null, tagsAny: null, detectors: null, statuses: null, changes: DEFAULT_ROUTE_CHANGES, receivers: ['hook'] }], escalation: { steps: [] } },
      testLinks,
    );

  it('the same changes planned by both agents at once give one row per change', async () => {
    const changes = Array.from({ length: 20 }, (_, i) => change({}, { id: 100 + i }, `c${i}`));
    const written = await Promise.all([storeA.transaction((tx) => planner().enqueue(tx, changes, new Date())), storeB.transaction((tx) => planner().enqueue(tx, changes, new Date()))]);
    expect(written[0] + written[1]).toBe(20);
    expect((await outbox.list(storeA)).length).toBe(20);
  });

  it('two dispatchers claiming concurrently deliver each row exactly once', async () => {
    const dispatchers = [storeA, storeB].map(
      (store, i) =>
        new NotificationDispatcher({
          store,
          receivers: [{ settings: config, receiver: createReceiver(config, { logger: createSilentLogger(), now: () => new Date() }) }],
          pollIntervalMs: 50,
          leaseMs: 60_000,
          claimBatch: 3,
          claimer: `agent-${i}`,
        }),
    );
    const controller = new AbortController();
    await Promise.all(dispatchers.map((d) => d.start(controller.signal)));
    const started = Date.now();
    while (server.delivered().length < 20 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    await Promise.all(dispatchers.map((d) => d.stop()));
    const ids = server.requests.map((r) => String(r.headers['x-jaga-notification-id']));
    expect(ids.length).toBe(20);
    expect(new Set(ids).size).toBe(20);
    const rows = await outbox.list(storeA);
    expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
    expect(rows.every((r) => r.claimedBy === 'agent-0' || r.claimedBy === 'agent-1')).toBe(true);
  }, 60_000);
});
