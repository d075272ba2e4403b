import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.js';
import { DeliveryError } from '../../src/domain/errors.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { NotificationDispatcher } from '../../src/notify/notification-dispatcher.js';
import { buildNotificationItem, type NotificationMessage } from '../../src/notify/notification-message.js';
import { NotificationPlanner } from '../../src/notify/notification-planner.js';
import { OutboxRepository } from '../../src/notify/outbox-repository.js';
import { createReceiver } from '../../src/notify/receiver-registry.js';
import { DEFAULT_ROUTE_CHANGES, type ReceiverConfig } from '../../src/config/notify-config.js';
import { useStoreHarness } from '../db/store-harness.js';
import { freeTcpPort, SmtpTestServer, StuckTcpServer } from '../helpers/smtp-test-server.js';
import { change, manualClock, receiverConfig, testLinks } from './notify-fixtures.js';

const harness = useStoreHarness({ pg: false });
const outbox = new OutboxRepository();
const deps = { logger: createSilentLogger(), now: () => new Date() };
const mailConfig = (url: string, timeoutMs = 2000): ReceiverConfig => receiverConfig('mail', 'email', { smtpUrl: url, from: 'jaga@example.test', to: ['soc@example.test'], timeoutMs });

describe('EmailReceiver against a real SMTP server (smtp-server)', () => {
  let store: Store;
  const servers: { stop(): Promise<void> }[] = [];
  beforeAll(async () => {
    store = await harness.open('pglite');
  });
  beforeEach(async () => {
    await store.query('DELETE FROM jaga_outbox_change');
    await store.query('DELETE FROM jaga_outbox');
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });

  it('sends text and escaped HTML parts with the stable id in Message-ID and X-Jaga-Notification-Id', async () => {
    const smtp = await new SmtpTestServer().start();
    servers.push(smtp);
    const id = '0123456789abcdef0123456789abcdef';
    const message: NotificationMessage = { notification_id: id, receiver: 'mail', kind: 'single', items: [buildNotificationItem(change({}, { title: 'Bulk read <b>' }), id, testLinks, new Date('2026-01-01T00:01:00Z'))] };
    const receiver = createReceiver(mailConfig(smtp.url()), deps);
    await receiver.deliver(message, new AbortController().signal);
    await receiver.close();
    expect(smtp.mails.length).toBe(1);
    const mail = smtp.mails[0]!;
    expect(mail.messageId).toBe(`<${id}@jaga>`);
    expect(mail.headers['x-jaga-notification-id']).toBe(id);
    expect(mail.subject).toBe('jaga [HIGH] opened: Bulk read <b> (#7)');
    expect(mail.to).toEqual(['soc@example.test']);
    expect(mail.text).toContain(`notification id: ${id}`);
    expect(mail.html).toContain('Bulk read &lt;b&gt;');
  });

  it('SMTP down (port closed), then up: retried and delivered once', async () => {
    const port = await freeTcpPort();
    const clock = manualClock();
    const config = mailConfig(`smtp://127.0.0.1:${port}`);
    const planner = new NotificationPlanner({ receivers: { mail: config }, routes: [{ severityAtLeast: null, tagsAny: null, detectors: null, statuses: null, changes: DEFAULT_ROUTE_CHANGES, receivers: ['mail'] }], escalation: { steps: [] } }, testLinks);
    const dispatcher = new NotificationDispatcher({ store, receivers: [{ settings: config, receiver: createReceiver(config, deps) }], pollIntervalMs: 100, leaseMs: 60_000, claimBatch: 5, now: clock.now, random: () => 0.5 });
    await store.transaction((tx) => planner.enqueue(tx, [change()], clock.now()));
    for (let i = 0; i < 3; i += 1) {
      await dispatcher.runOnce('mail');
      clock.advance(10_000);
    }
    const [down] = await outbox.list(store);
    expect([down?.status, down?.attempts, down?.lastError]).toEqual(['pending', 3, 'smtp ESOCKET (ECONNREFUSED)']);
    const smtp = await new SmtpTestServer().start(port);
    servers.push(smtp);
    await dispatcher.runOnce('mail');
    clock.advance(60_000);
    expect(await dispatcher.runOnce('mail')).toBe(0);
    await dispatcher.stop();
    const [row] = await outbox.list(store);
    expect([row?.status, row?.attempts, smtp.mails.length, smtp.mails[0]?.headers['x-jaga-notification-id']]).toEqual(['delivered', 4, 1, row?.id]);
  });

  it('a stuck server (accepts, never greets) hits the timeout as a transient failure, and the next attempt reconnects', async () => {
    const stuck = await new StuckTcpServer().start();
    servers.push(stuck);
    const receiver = createReceiver(mailConfig(stuck.url(), 300), deps);
    const message: NotificationMessage = { notification_id: 'n'.repeat(32), receiver: 'mail', kind: 'single', items: [buildNotificationItem(change(), 'n', testLinks, new Date())] };
    for (let i = 0; i < 2; i += 1) {
      const started = Date.now();
      const error = await receiver.deliver(message, new AbortController().signal).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DeliveryError);
      expect([(error as DeliveryError).transient, (error as DeliveryError).message]).toEqual([true, 'smtp ETIMEDOUT']);
      expect(Date.now() - started).toBeLessThan(3000);
    }
    expect(stuck.connections).toBe(2);
    await receiver.close();
  });
});
