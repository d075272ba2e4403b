import { appendFile } from 'node:fs/promises';
import { z } from 'zod';
import { DeliveryError } from '../domain/errors.js';
import type { NotificationMessage } from './notification-message.js';
import type { Receiver, ReceiverPlugin } from './receiver.js';
import { deliveryErrorCode } from './delivery-error-code.js';

/** Where a JSON-lines receiver writes: a standard stream (`console`) or a file appended to (`file`). */
export type JsonLinesTarget = { stream: NodeJS.WritableStream } | { path: string };

/**
 * Writes each message as one JSON line (`{"notification": NotificationMessage}`), for the demo when
 * nothing else is configured and for local audit trails. A file append failure is transient.
 */
export class JsonLinesReceiver implements Receiver {
  constructor(
    readonly name: string,
    readonly type: 'console' | 'file',
    private readonly target: JsonLinesTarget,
  ) {}

  async deliver(message: NotificationMessage): Promise<void> {
    const line = `${JSON.stringify({ notification: message })}\n`;
    if ('path' in this.target) {
      try {
        await appendFile(this.target.path, line, 'utf8');
      } catch (error) {
        throw new DeliveryError(`file append failed: ${deliveryErrorCode(error)}`, true, null, { cause: error });
      }
      return;
    }
    const stream = this.target.stream;
    await new Promise<void>((resolve, reject) => {
      stream.write(line, (error) => (error ? reject(new DeliveryError(`console write failed: ${deliveryErrorCode(error)}`, true, null, { cause: error })) : resolve()));
    });
  }

  async close(): Promise<void> {}
}

/** The `console` receiver plug-in: `{stream: 'stdout' | 'stderr'}`. */
export const consoleReceiverPlugin: ReceiverPlugin<{ stream: 'stdout' | 'stderr' }> = {
  type: 'console',
  paramsSchema: z.object({ stream: z.enum(['stdout', 'stderr']) }),
  create: (name, params) => new JsonLinesReceiver(name, 'console', { stream: params.stream === 'stderr' ? process.stderr : process.stdout }),
};

/** The `file` receiver plug-in: `{path}` (absolute). */
export const fileReceiverPlugin: ReceiverPlugin<{ path: string }> = {
  type: 'file',
  paramsSchema: z.object({ path: z.string().min(1) }),
  create: (name, params) => new JsonLinesReceiver(name, 'file', { path: params.path }),
};
