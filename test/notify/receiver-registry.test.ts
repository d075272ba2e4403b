import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/domain/errors.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { JsonLinesReceiver } from '../../src/notify/json-lines-receiver.js';
import { buildNotificationItem } from '../../src/notify/notification-message.js';
import { createReceiver, RECEIVER_PLUGINS } from '../../src/notify/receiver-registry.js';
import { change, receiverConfig, testLinks } from './notify-fixtures.js';

const deps = { logger: createSilentLogger(), now: () => new Date() };

describe('receiver registry', () => {
  it('ships exactly the slack, email, webhook, console and file plug-ins', () => {
    expect(Object.keys(RECEIVER_PLUGINS)).toEqual(['slack', 'email', 'webhook', 'console', 'file']);
    expect(createReceiver(receiverConfig('s', 'slack', { url: 'https://hooks.test/x', timeoutMs: 1000 }), deps).type).toBe('slack');
  });

  it('refuses params its plug-in schema refuses, naming fields but never values', () => {
    let error: unknown;
    try {
      createReceiver(receiverConfig('s', 'webhook', { url: 'https://hooks.test/secret-path', timeoutMs: -1 }), deps);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(['receivers.s.secret: invalid (invalid_type)', 'receivers.s.timeoutMs: invalid (too_small)']);
    expect((error as Error).message).not.toContain('secret-path');
  });

  it('the console receiver writes one JSON line per message carrying the notification id', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const receiver = new JsonLinesReceiver('console', 'console', { stream });
    const item = buildNotificationItem(change(), 'abc', testLinks, new Date('2026-01-01T00:01:00Z'));
    await receiver.deliver({ notification_id: 'abc', receiver: 'console', kind: 'single', items: [item] });
    expect(chunks.join('').endsWith('\n')).toBe(true);
    expect(JSON.parse(chunks.join(''))).toEqual({ notification: { notification_id: 'abc', receiver: 'console', kind: 'single', items: [item] } });
  });
});
