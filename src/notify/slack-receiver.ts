import { IncomingWebhook, IncomingWebhookHTTPError, type IncomingWebhookSendArguments } from '@slack/webhook';
import { z } from 'zod';
import { DeliveryError } from '../domain/errors.js';
import { deliveryErrorCode } from './delivery-error-code.js';
import type { NotificationMessage } from './notification-message.js';
import type { Receiver, ReceiverDeps, ReceiverPlugin } from './receiver.js';
import { parseRetryAfter } from './retry-policy.js';
import { renderSlackPayload } from './slack-message.js';

/** Params of a `slack` receiver (resolved config: the webhook URL is a secret). */
export interface SlackReceiverParams {
  url: string;
  /** per attempt, ms */
  timeoutMs: number;
  username?: string | undefined;
  channel?: string | undefined;
}

const paramsSchema: z.ZodType<SlackReceiverParams> = z.object({
  url: z.string().min(1),
  timeoutMs: z.number().int().positive(),
  username: z.string().optional(),
  channel: z.string().optional(),
});

/**
 * Posts to a Slack incoming webhook through @slack/webhook (no library retries: the outbox retries).
 * Errors (Slack API docs, "Handling errors" for incoming webhooks): 429 → transient with the response's
 * `Retry-After`; 5xx and network failures or timeouts → transient; other 4xx (`invalid_payload`,
 * `no_text`, a revoked webhook) → permanent. Error messages carry the status and Slack's short error
 * code only, never the URL.
 */
export class SlackReceiver implements Receiver {
  readonly type = 'slack';

  constructor(
    readonly name: string,
    private readonly params: SlackReceiverParams,
    private readonly deps: Pick<ReceiverDeps, 'now'>,
  ) {}

  async deliver(message: NotificationMessage, signal: AbortSignal): Promise<void> {
    let retryAfter: string | null = null;
    const fetchWithSignal: typeof fetch = async (input, init) => {
      const signals = [signal, ...(init?.signal ? [init.signal] : [])];
      const response = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
      retryAfter = response.headers.get('retry-after');
      return response;
    };
    const webhook = new IncomingWebhook(this.params.url, {
      timeout: this.params.timeoutMs,
      fetch: fetchWithSignal as NonNullable<IncomingWebhookSendArguments['fetch']>,
      ...(this.params.username ? { username: this.params.username } : {}),
      ...(this.params.channel ? { channel: this.params.channel } : {}),
    });
    const payload = renderSlackPayload(message);
    try {
      await webhook.send({ text: payload.text, blocks: payload.blocks as IncomingWebhookSendArguments['blocks'] });
    } catch (error) {
      if (error instanceof IncomingWebhookHTTPError) {
        const status = error.statusCode;
        const code = typeof error.body === 'string' && /^[a-z_]{1,40}$/.test(error.body.trim()) ? ` ${error.body.trim()}` : '';
        if (status === 429) throw new DeliveryError(`slack http 429${code}`, true, parseRetryAfter(retryAfter, this.deps.now()), { cause: error });
        throw new DeliveryError(`slack http ${status}${code}`, status >= 500 || status === 408, null, { cause: error });
      }
      throw new DeliveryError(`slack request failed: ${deliveryErrorCode(error)}`, true, null, { cause: error });
    }
  }

  async close(): Promise<void> {}
}

/** The `slack` receiver plug-in. */
export const slackReceiverPlugin: ReceiverPlugin<SlackReceiverParams> = {
  type: 'slack',
  paramsSchema,
  create: (name, params, deps) => new SlackReceiver(name, params, deps),
};
