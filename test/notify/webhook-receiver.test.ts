import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/domain/errors.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { buildNotificationItem, type NotificationMessage } from '../../src/notify/notification-message.js';
import { createReceiver } from '../../src/notify/receiver-registry.js';
import { SlackLikeServer } from '../helpers/slack-like-server.js';
import { change, receiverConfig, testLinks } from './notify-fixtures.js';

const SECRET = 'webhook-test-key';
const now = new Date('2026-01-01T00:01:00.000Z');
const message: NotificationMessage = { notification_id: 'f'.repeat(32), receiver: 'siem', kind: 'single', items: [buildNotificationItem(change(), 'f'.repeat(32), testLinks, now)] };

describe('WebhookReceiver', () => {
  let server: SlackLikeServer;
  beforeEach(async () => {
    server = await new SlackLikeServer().start();
  });
  afterEach(async () => server.stop());
  const receiver = () => createReceiver(receiverConfig('siem', 'webhook', { url: server.url('/hook'), secret: SECRET, timeoutMs: 2000 }), { logger: createSilentLogger(), now: () => now });

  it('POSTs the JSON body signed with HMAC-SHA256, which the server verifies', async () => {
    await receiver().deliver(message, new AbortController().signal);
    const [request] = server.requests;
    const signature = String(request?.headers['x-jaga-signature']);
    const expected = `sha256=${createHmac('sha256', SECRET).update(request!.body).digest('hex')}`;
    expect(timingSafeEqual(Buffer.from(signature), Buffer.from(expected))).toBe(true);
    expect(request?.headers['x-jaga-timestamp']).toBe(String(now.getTime() / 1000));
    expect(request?.headers['x-jaga-notification-id']).toBe('f'.repeat(32));
    expect(request?.json).toEqual({ schema: 'jaga/notification/v1', sent_at: '2026-01-01T00:01:00.000Z', notification: message });
  });

  it('maps 429 with an HTTP-date Retry-After to a transient error with the wait, 404 to permanent', async () => {
    server.respondWith({ status: 429, headers: { 'retry-after': 'Thu, 01 Jan 2026 00:01:30 GMT' } }, { status: 404 });
    const first = await receiver().deliver(message, new AbortController().signal).catch((e: unknown) => e);
    expect([first instanceof DeliveryError, (first as DeliveryError).transient, (first as DeliveryError).retryAfterMs, (first as Error).message]).toEqual([true, true, 30_000, 'webhook http 429']);
    const second = await receiver().deliver(message, new AbortController().signal).catch((e: unknown) => e);
    expect([(second as DeliveryError).transient, (second as Error).message]).toEqual([false, 'webhook http 404']);
  });

  it('a connection refused is transient and names only the error code', async () => {
    const url = server.url('/hook');
    await server.stop();
    const r = createReceiver(receiverConfig('siem', 'webhook', { url, secret: SECRET, timeoutMs: 2000 }), { logger: createSilentLogger(), now: () => now });
    const error = await r.deliver(message, new AbortController().signal).catch((e: unknown) => e);
    expect([(error as DeliveryError).transient, (error as Error).message]).toEqual([true, 'webhook request failed: ECONNREFUSED']);
  });
});
