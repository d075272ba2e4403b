import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { PassThrough } from 'node:stream';
import { createLogger, createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { NotificationDispatcher } from '../../src/notify/notification-dispatcher.js';
import { NotificationPlanner } from '../../src/notify/notification-planner.js';
import { OutboxRepository } from '../../src/notify/outbox-repository.js';
import { createReceiver } from '../../src/notify/receiver-registry.js';
import type { ReceiverConfig } from '../../src/config/notify-config.js';
import { DEFAULT_ROUTE_CHANGES } from '../../src/config/notify-config.js';
import { useStoreHarness } from '../db/store-harness.js';
import { SlackLikeServer } from '../helpers/slack-like-server.js';
import { change, manualClock, receiverConfig, testLinks } from './notify-fixtures.js';

const harness = useStoreHarness({ pg: false });
const outbox = new OutboxRepository();

describe('Slack delivery through the outbox (a local server answering like Slack)', () => {
  let store: Store;
  let slack: SlackLikeServer;
  let telemetry: Telemetry;
  beforeAll(async () => {
    store = await harness.open('pglite');
  });
  beforeEach(async () => {
    await store.query('DELETE FROM jaga_outbox_change');
    await store.query('DELETE FROM jaga_outbox');
    slack = await new SlackLikeServer().start();
    telemetry = new Telemetry(createSilentLogger());
  });
  afterEach(async () => slack.stop());

  const setup = (configs: ReceiverConfig[], clock: { now: () => Date } = { now: () => new Date() }, extra: { leaseMs?: number; random?: () => number } = {}) => {
    const receivers = Object.fromEntries(configs.map((c) => [c.name, c]));
    const planner = new NotificationPlanner(
      { receivers, routes: [{ severityAtLeast: null, tagsAny: null, detectors: null, statuses: null, changes: DEFAULT_ROUTE_CHANGES, receivers: [configs[0]!.name] }], escalation: { steps: [] } },
      testLinks,
    );
    const dispatcher = new NotificationDispatcher({
      store,
      receivers: configs.map((settings) => ({ settings, receiver: createReceiver(settings, { logger: createSilentLogger(), now: clock.now }) })),
      pollIntervalMs: 200,
      leaseMs: extra.leaseMs ?? 60_000,
      claimBatch: 10,
      telemetry,
      now: clock.now,
      random: extra.random ?? (() => 0.5),
    });
    return { planner, dispatcher };
  };
  const slackConfig = (overrides: Partial<ReceiverConfig> = {}): ReceiverConfig => receiverConfig('slack', 'slack', { url: slack.url(), timeoutMs: 5000 }, overrides);

  it('429 with Retry-After: 2 three times, then 200: delivered exactly once, not before 6 s', async () => {
    slack.respondWith(...Array.from({ length: 3 }, () => ({ status: 429, body: 'rate_limited', headers: { 'retry-after': '2' } })));
    const { planner, dispatcher } = setup([slackConfig()]);
    await store.transaction((tx) => planner.enqueue(tx, [change()], new Date()));
    const controller = new AbortController();
    await dispatcher.start(controller.signal);
    const started = Date.now();
    while (slack.delivered().length === 0 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 100));
    await dispatcher.stop();
    expect(slack.requests.map((r) => r.status)).toEqual([429, 429, 429, 200]);
    const first = slack.requests[0]!.receivedAtMs;
    expect(slack.delivered()[0]!.receivedAtMs - first).toBeGreaterThanOrEqual(6000);
    const rows = await outbox.list(store);
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([['delivered', 4]]);
    const ids = slack.requests.map((r) => (r.json as { blocks: { type: string; elements?: { text: string }[] }[] }).blocks.at(-1)?.elements?.[0]?.text);
    expect(new Set(ids)).toEqual(new Set([`notification id: \`${rows[0]!.id}\``]));
    const retries = await telemetry.registry.getSingleMetric('jaga_notification_retry_total')?.get();
    expect(retries?.values).toEqual([{ labels: { receiver: 'slack' }, value: 3 }]);
  }, 30_000);

  it('500s are retried with exponential backoff (full jitter), then delivered once', async () => {
    slack.respondWith({ status: 500, body: '' }, { status: 500, body: '' });
    const clock = manualClock();
    const { planner, dispatcher } = setup([slackConfig()], clock);
    await store.transaction((tx) => planner.enqueue(tx, [change()], clock.now()));
    expect(await dispatcher.runOnce('slack')).toBe(1);
    let [row] = await outbox.list(store);
    expect([row?.status, row?.lastError, row!.nextAttemptAt.getTime() - clock.now().getTime()]).toEqual(['pending', 'slack http 500', 500]);
    expect(await dispatcher.runOnce('slack')).toBe(0);
    clock.advance(500);
    expect(await dispatcher.runOnce('slack')).toBe(1);
    [row] = await outbox.list(store);
    expect(row!.nextAttemptAt.getTime() - clock.now().getTime()).toBe(1000);
    clock.advance(1000);
    await dispatcher.runOnce('slack');
    [row] = await outbox.list(store);
    expect([row?.status, row?.attempts, slack.requests.map((r) => r.status)]).toEqual(['delivered', 3, [500, 500, 200]]);
  });

  it('400 invalid_payload is permanent: dead-lettered at once (counted) and copied to the fallback receiver', async () => {
    slack.respondWith({ status: 400, body: 'invalid_payload' });
    const dir = await harness.tempDir();
    const file = join(dir, 'fallback.jsonl');
    const clock = manualClock();
    const { planner, dispatcher } = setup([slackConfig({ fallback: 'audit' }), receiverConfig('audit', 'file', { path: file })], clock);
    await store.transaction((tx) => planner.enqueue(tx, [change()], clock.now()));
    await dispatcher.runOnce('slack');
    await dispatcher.runOnce('audit');
    const rows = await outbox.list(store);
    expect(rows.map((r) => [r.receiver, r.kind, r.status, r.lastError])).toEqual([
      ['slack', 'single', 'dead', 'slack http 400 invalid_payload'],
      ['audit', 'fallback', 'delivered', null],
    ]);
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { notification: { notification_id: string; kind: string } });
    expect(lines.map((l) => [l.notification.notification_id, l.notification.kind])).toEqual([[rows[1]!.id, 'fallback']]);
    const dead = await telemetry.registry.getSingleMetric('jaga_notification_dead_lettered_total')?.get();
    expect(dead?.values).toEqual([{ labels: { receiver: 'slack' }, value: 1 }]);
  });

  it('log lines of failed and dead-lettered deliveries carry ids and codes only: no webhook URL, no incident content', async () => {
    slack.respondWith({ status: 500 }, { status: 400, body: 'invalid_payload' });
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (c: Buffer) => lines.push(...c.toString('utf8').trim().split('\n')));
    telemetry = new Telemetry(createLogger({ level: 'debug', stream }));
    const clock = manualClock();
    const { planner, dispatcher } = setup([slackConfig()], clock);
    await store.transaction((tx) => planner.enqueue(tx, [change()], clock.now()));
    await dispatcher.runOnce('slack');
    clock.advance(60_000);
    await dispatcher.runOnce('slack');
    await new Promise((r) => setImmediate(r));
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => [e.event, e.error])).toEqual([
      ['notification_retry', 'slack http 500'],
      ['notification_dead_lettered', 'slack http 400 invalid_payload'],
    ]);
    const text = lines.join('\n');
    for (const secret of ['/services/T000', '127.0.0.1', 'dba_admin', 'public.customers', 'Brute force']) expect(text).not.toContain(secret);
  });

  it('dead-letters a transient failure after max attempts', async () => {
    slack.respondWith(...Array.from({ length: 3 }, () => ({ status: 503 })));
    const clock = manualClock();
    const { planner, dispatcher } = setup([slackConfig({ maxAttempts: 3 })], clock);
    await store.transaction((tx) => planner.enqueue(tx, [change()], clock.now()));
    for (let i = 0; i < 3; i += 1) {
      await dispatcher.runOnce('slack');
      clock.advance(60_000);
    }
    const [row] = await outbox.list(store);
    expect([row?.status, row?.attempts, row?.lastError, slack.requests.length]).toEqual(['dead', 3, 'slack http 503', 3]);
  });

  it('a claimed row whose process died before marking is delivered again after the lease, once, with the same id', async () => {
    const clock = manualClock();
    const { planner, dispatcher } = setup([slackConfig()], clock, { leaseMs: 30_000 });
    await store.transaction((tx) => planner.enqueue(tx, [change()], clock.now()));
    // the dead process: claimed, sent, killed before marking
    const [claimed] = await outbox.claim(store, { receiver: 'slack', limit: 1, now: clock.now(), leaseMs: 30_000, claimer: 'killed-agent' });
    await createReceiver(slackConfig(), { logger: createSilentLogger(), now: clock.now }).deliver(claimed!.payload, new AbortController().signal);
    clock.advance(29_999);
    expect(await dispatcher.runOnce('slack')).toBe(0);
    clock.advance(1);
    expect(await dispatcher.runOnce('slack')).toBe(1);
    clock.advance(60_000);
    expect(await dispatcher.runOnce('slack')).toBe(0);
    const texts = slack.requests.map((r) => (r.json as { text: string }).text.split('\n').at(-1));
    expect(texts).toEqual([`notification id: ${claimed!.id}`, `notification id: ${claimed!.id}`]);
    expect((await outbox.get(store, claimed!.id))?.status).toBe('delivered');
  });

  it('one stuck receiver never delays another; stop() releases what was not attempted', async () => {
    const stuck = await new SlackLikeServer().start();
    stuck.respondWith({ status: 200, hang: true });
    try {
      const configs = [receiverConfig('stuck', 'slack', { url: stuck.url(), timeoutMs: 20_000 }), slackConfig()];
      const { dispatcher } = setup(configs);
      const planner = new NotificationPlanner(
        { receivers: Object.fromEntries(configs.map((c) => [c.name, c])), routes: [{ severityAtLeast: null, tagsAny: null, detectors: null, statuses: null, changes: DEFAULT_ROUTE_CHANGES, receivers: ['stuck', 'slack'] }], escalation: { steps: [] } },
        testLinks,
      );
      await store.transaction((tx) => planner.enqueue(tx, [change({}, {}, 'x1'), change({}, { id: 8 }, 'x2')], new Date()));
      const controller = new AbortController();
      await dispatcher.start(controller.signal);
      const started = Date.now();
      while (slack.delivered().length < 2 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
      expect(slack.delivered().length).toBe(2);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(stuck.requests.length).toBe(1);
      controller.abort();
      await dispatcher.stop();
      const stuckRows = await outbox.list(store, { receiver: 'stuck' });
      expect(stuckRows.map((r) => r.status).sort()).toEqual(['pending', 'pending']);
      expect(stuckRows.map((r) => r.attempts).sort()).toEqual([0, 1]);
    } finally {
      await stuck.stop();
    }
  }, 30_000);
});
