import type { z } from 'zod';
import type { Logger } from '../observe/logger.js';
import type { NotificationMessage } from './notification-message.js';

/**
 * A delivery target (CONVENTIONS.md rule 8: plug-ins share one shape). `deliver` sends one message
 * (a single change or a digest) and resolves once the receiver accepted it.
 */
export interface Receiver {
  /** the configured name, e.g. `oncall_slack` */
  readonly name: string;
  /** the plug-in type, e.g. `slack` */
  readonly type: string;
  /**
   * Sends the message. Every message carries `message.notification_id` so a reader can tell a
   * redelivery from a new message.
   * @param signal aborts the attempt (shutdown); receivers also bound each attempt by their own timeout
   * @throws DeliveryError: `transient` (retry with backoff; `retryAfterMs` when the receiver said when)
   *   or permanent (invalid payload, bad credentials: retried only to the attempt bound, then dead-lettered).
   *   Messages carry status or error codes only, never response bodies or message content.
   */
  deliver(message: NotificationMessage, signal: AbortSignal): Promise<void>;
  /** Releases connections; idempotent. */
  close(): Promise<void>;
}

/** What a receiver plug-in may use. */
export interface ReceiverDeps {
  logger: Logger;
  /** the wall clock (timestamps in signatures) */
  now: () => Date;
}

/**
 * A receiver plug-in: its `type`, the schema of its params (the camelCase params of the resolved
 * `ReceiverConfig`), and a factory.
 */
export interface ReceiverPlugin<P> {
  readonly type: string;
  readonly paramsSchema: z.ZodType<P>;
  /** Builds a receiver; does not connect yet. */
  create(name: string, params: P, deps: ReceiverDeps): Receiver;
}
