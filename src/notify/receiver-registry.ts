import type { ReceiverConfig } from '../config/notify-config.js';
import { ConfigError } from '../domain/errors.js';
import { emailReceiverPlugin } from './email-receiver.js';
import { consoleReceiverPlugin, fileReceiverPlugin } from './json-lines-receiver.js';
import type { Receiver, ReceiverDeps, ReceiverPlugin } from './receiver.js';
import { slackReceiverPlugin } from './slack-receiver.js';
import { webhookReceiverPlugin } from './webhook-receiver.js';

/** Every receiver plug-in jaga ships, by type (an explicit map: code named in YAML is never loaded). */
export const RECEIVER_PLUGINS: Readonly<Record<string, ReceiverPlugin<unknown>>> = Object.freeze({
  slack: slackReceiverPlugin as ReceiverPlugin<unknown>,
  email: emailReceiverPlugin as ReceiverPlugin<unknown>,
  webhook: webhookReceiverPlugin as ReceiverPlugin<unknown>,
  console: consoleReceiverPlugin as ReceiverPlugin<unknown>,
  file: fileReceiverPlugin as ReceiverPlugin<unknown>,
});

/**
 * Builds the receiver of a resolved config entry through its plug-in.
 * @throws ConfigError for an unknown type or params the plug-in's schema refuses (field names only,
 *   values are not shown: they may be secrets)
 */
export function createReceiver(config: ReceiverConfig, deps: ReceiverDeps, plugins: Readonly<Record<string, ReceiverPlugin<unknown>>> = RECEIVER_PLUGINS): Receiver {
  const plugin = plugins[config.type];
  if (!plugin) throw new ConfigError(`receivers.${config.name}.type: unknown receiver type "${config.type}" (known: ${Object.keys(plugins).join(', ')})`);
  const parsed = plugin.paramsSchema.safeParse(config.params);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `receivers.${config.name}.${issue.path.join('.')}: invalid (${issue.code})`);
    throw new ConfigError(problems.join('\n'), problems);
  }
  return plugin.create(config.name, parsed.data, deps);
}
