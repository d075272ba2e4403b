import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/domain/errors.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { deliveryErrorCode } from '../../src/notify/delivery-error-code.js';
import { buildNotificationItem, type NotificationMessage } from '../../src/notify/notification-message.js';
import { createReceiver } from '../../src/notify/receiver-registry.js';
import type { ReceiverConfig } from '../../src/config/notify-config.js';
import { freeTcpPort } from '../helpers/smtp-test-server.js';
import { change, receiverConfig, testLinks } from './notify-fixtures.js';

const now = new Date('2026-01-01T00:01:00.000Z');
const message: NotificationMessage = { notification_id: 'e'.repeat(32), receiver: 'r', kind: 'single', items: [buildNotificationItem(change(), 'e'.repeat(32), testLinks, now)] };

/** What one delivery attempt to `type` with `params` fails with: [transient, message]. */
async function failure(type: ReceiverConfig['type'], params: Record<string, unknown>): Promise<[boolean, string]> {
  const receiver = createReceiver(receiverConfig('r', type, params), { logger: createSilentLogger(), now: () => now });
  const error = await receiver.deliver(message, new AbortController().signal).then(
    () => null,
    (e: unknown) => e,
  );
  await receiver.close();
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`);
  return [error.transient, error.message];
}

describe('delivery errors name the network error code (never the URL or the payload)', () => {
  let closedPort: number;
  let plainHttp: Server;
  let plainPort: number;
  beforeAll(async () => {
    closedPort = await freeTcpPort(); // bound, then closed: nothing listens there
    plainHttp = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => plainHttp.listen(0, '127.0.0.1', resolve));
    plainPort = (plainHttp.address() as AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((resolve) => plainHttp.close(() => resolve())));

  it('webhook, slack and email at a closed port: ECONNREFUSED, transient', async () => {
    expect(await failure('webhook', { url: `http://127.0.0.1:${closedPort}/hook`, secret: 'k', timeoutMs: 2000 })).toEqual([true, 'webhook request failed: ECONNREFUSED']);
    expect(await failure('slack', { url: `http://127.0.0.1:${closedPort}/services/T/B/X`, timeoutMs: 2000 })).toEqual([true, 'slack request failed: ECONNREFUSED']);
    expect(await failure('email', { smtpUrl: `smtp://127.0.0.1:${closedPort}`, from: 'jaga@example.com', to: ['soc@example.com'], timeoutMs: 2000 })).toEqual([true, 'smtp ESOCKET (ECONNREFUSED)']);
  });

  it('TLS spoken to a plain HTTP / SMTP port: the TLS error code', async () => {
    expect(await failure('webhook', { url: `https://127.0.0.1:${plainPort}/hook`, secret: 'k', timeoutMs: 2000 })).toEqual([true, 'webhook request failed: ERR_SSL_WRONG_VERSION_NUMBER']);
    expect(await failure('slack', { url: `https://127.0.0.1:${plainPort}/services/T/B/X`, timeoutMs: 2000 })).toEqual([true, 'slack request failed: ERR_SSL_WRONG_VERSION_NUMBER']);
    expect(await failure('email', { smtpUrl: `smtps://127.0.0.1:${plainPort}`, from: 'jaga@example.com', to: ['soc@example.com'], timeoutMs: 2000 })).toEqual([true, 'smtp ESOCKET (ERR_SSL_WRONG_VERSION_NUMBER)']);
  });

  it('a port fetch refuses to connect to (WHATWG "bad port", e.g. 9) says so instead of "unknown"', async () => {
    expect(await failure('webhook', { url: 'http://127.0.0.1:9/hook', secret: 'k', timeoutMs: 2000 })).toEqual([true, 'webhook request failed: BAD_PORT (fetch never connects to this port)']);
    expect(await failure('slack', { url: 'http://127.0.0.1:9/services/T/B/X', timeoutMs: 2000 })).toEqual([true, 'slack request failed: BAD_PORT (fetch never connects to this port)']);
  });

  it('an HTTP status is named when there is one, without the body', async () => {
    const server = createServer((_request, response) => {
      response.statusCode = 503;
      response.end('secret body text');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await failure('webhook', { url: `http://127.0.0.1:${port}/hook`, secret: 'k', timeoutMs: 2000 })).toEqual([true, 'webhook http 503']);
      expect(await failure('slack', { url: `http://127.0.0.1:${port}/services/T/B/X`, timeoutMs: 2000 })).toEqual([true, 'slack http 503']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('deliveryErrorCode', () => {
  it('walks cause, original (@slack/webhook) and AggregateError errors; codes may hold digits', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
    expect(deliveryErrorCode(new TypeError('fetch failed', { cause: refused }))).toBe('ECONNREFUSED');
    expect(deliveryErrorCode(Object.assign(new Error('x'), { code: 'slack_webhook_request_error', original: refused }))).toBe('ECONNREFUSED');
    expect(deliveryErrorCode(new AggregateError([refused], 'all failed'))).toBe('ECONNREFUSED');
    expect(deliveryErrorCode(Object.assign(new Error('alert'), { code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' }))).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
  });

  it('names timeouts and aborts, and falls back to the innermost class name (never a message)', () => {
    expect(deliveryErrorCode(new TypeError('fetch failed', { cause: new DOMException('The operation timed out.', 'TimeoutError') }))).toBe('TimeoutError');
    expect(deliveryErrorCode(new TypeError('fetch failed', { cause: new RangeError('https://hooks.example/secret-token') }))).toBe('RangeError');
    expect(deliveryErrorCode('a string')).toBe('unknown');
  });
});
