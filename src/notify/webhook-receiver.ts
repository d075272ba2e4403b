import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { DeliveryError } from '../domain/errors.js';
import type { NotificationMessage } from './notification-message.js';
import type { Receiver, ReceiverDeps, ReceiverPlugin } from './receiver.js';
import { parseRetryAfter } from './retry-policy.js';
import { deliveryErrorCode } from './delivery-error-code.js';

/** Params of a generic `webhook` receiver (resolved config: URL and HMAC key are secrets). */
export interface WebhookReceiverParams {
  url: string;
  /** HMAC-SHA256 key */
  secret: string;
  /** per attempt, ms */
  timeoutMs: number;
}

const paramsSchema: z.ZodType<WebhookReceiverParams> = z.object({ url: z.string().min(1), secret: z.string().min(1), timeoutMs: z.number().int().positive() });

/** The JSON body a webhook receives (`jaga/notification/v1`). */
export interface WebhookBody {
  schema: 'jaga/notification/v1';
  /** ISO-8601 UTC, the same instant as header `X-Jaga-Timestamp` */
  sent_at: string;
  notification: NotificationMessage;
}

/**
 * POSTs the message as JSON (`WebhookBody`) for a SIEM or SOAR, with headers
 * `X-Jaga-Notification-Id`, `X-Jaga-Timestamp` (unix seconds) and
 * `X-Jaga-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes with the secret>` (the body holds
 * `sent_at`, so the timestamp is signed too). 2xx = delivered; 429 → transient with `Retry-After`;
 * 5xx, 408, network errors and timeouts → transient; other statuses → permanent.
 */
export class WebhookReceiver implements Receiver {
  readonly type = 'webhook';

  constructor(
    readonly name: string,
    private readonly params: WebhookReceiverParams,
    private readonly deps: Pick<ReceiverDeps, 'now'>,
  ) {}

  async deliver(message: NotificationMessage, signal: AbortSignal): Promise<void> {
    const now = this.deps.now();
    const body = JSON.stringify({ schema: 'jaga/notification/v1', sent_at: now.toISOString(), notification: message } satisfies WebhookBody);
    let response: Response;
    try {
      response = await fetch(this.params.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-jaga-notification-id': message.notification_id,
          'x-jaga-timestamp': String(Math.floor(now.getTime() / 1000)),
          'x-jaga-signature': `sha256=${signBody(body, this.params.secret)}`,
        },
        body,
        redirect: 'error',
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.params.timeoutMs)]),
      });
      await response.arrayBuffer();
    } catch (error) {
      throw new DeliveryError(`webhook request failed: ${deliveryErrorCode(error)}`, true, null, { cause: error });
    }
    if (response.ok) return;
    const status = response.status;
    if (status === 429) throw new DeliveryError('webhook http 429', true, parseRetryAfter(response.headers.get('retry-after'), this.deps.now()));
    throw new DeliveryError(`webhook http ${status}`, status >= 500 || status === 408, null);
  }

  async close(): Promise<void> {}
}

/** Hex HMAC-SHA256 of `body` (a UTF-8 string) with `secret`: what `X-Jaga-Signature` carries after `sha256=`. */
export function signBody(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/** The `webhook` receiver plug-in. */
export const webhookReceiverPlugin: ReceiverPlugin<WebhookReceiverParams> = {
  type: 'webhook',
  paramsSchema,
  create: (name, params, deps) => new WebhookReceiver(name, params, deps),
};
