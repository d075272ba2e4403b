/**
 * Renders a message as a Slack incoming-webhook payload in Block Kit, within Slack's limits (Slack API
 * docs, "Blocks" reference and "Sending messages using incoming webhooks"): at most 50 blocks, a
 * section's text at most 3,000 chars, a header's text at most 150, a button's text at most 75 and its
 * URL at most 3,000, plus a top-level `text` fallback (notifications and clients without blocks).
 */
import { cut, formatTimeLeft, itemHeadline, messageSubject, renderMessageText, type NotificationItem, type NotificationMessage } from './notification-message.js';

/** Slack's documented limits used here. */
export const SLACK_LIMITS = Object.freeze({ blocks: 50, sectionText: 3000, headerText: 150, buttonText: 75, url: 3000, fallbackText: 3000 });

/** A Block Kit block as plain JSON (the subset jaga sends). */
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] }
  | { type: 'actions'; elements: { type: 'button'; text: { type: 'plain_text'; text: string }; url: string; action_id: string }[] };

/** The JSON body posted to the webhook. */
export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

/** Escapes the three characters Slack's mrkdwn treats as control characters (`&`, `<`, `>`). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The Slack payload of a message: a header (the subject), then per item a section (what, who, counts,
 * deadlines, why) and an actions block (view / acknowledge / resolve buttons), and a closing context
 * with the notification id. Items that do not fit the 50-block budget are summarised in one section
 * ("… and N more changes").
 */
export function renderSlackPayload(message: NotificationMessage): SlackPayload {
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: cut(messageSubject(message), SLACK_LIMITS.headerText) } }];
  const footer: SlackBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: `notification id: \`${message.notification_id}\`${message.kind === 'fallback' ? ' (fallback copy)' : ''}` }] };
  const reserve = 2; // the footer and a possible "more" section
  let shown = 0;
  for (const item of message.items) {
    const itemBlocks = itemToBlocks(item, message.notification_id);
    if (blocks.length + itemBlocks.length + reserve > SLACK_LIMITS.blocks) break;
    blocks.push(...itemBlocks);
    shown += 1;
  }
  const rest = message.items.length - shown;
  if (rest > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `… and ${rest} more change${rest === 1 ? '' : 's'}: open jaga to see them all.` } });
  blocks.push(footer);
  return { text: cut(renderMessageText(message), SLACK_LIMITS.fallbackText), blocks };
}

function itemToBlocks(item: NotificationItem, notificationId: string): SlackBlock[] {
  const entity = Object.entries(item.entity)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=\`${escapeMrkdwn(String(v))}\``)
    .join(' ');
  const lines = [
    `*${escapeMrkdwn(itemHeadline(item))}*`,
    escapeMrkdwn(item.summary),
    `status *${item.status}* · count *${item.count}* · detector \`${escapeMrkdwn(item.detector)}\` · server \`${escapeMrkdwn(item.server)}\``,
    `seen ${item.first_seen} .. ${item.last_seen}`,
  ];
  if (entity !== '') lines.push(`entity: ${entity}`);
  if (item.objects.length > 0) lines.push(`objects: ${item.objects.map((o) => `\`${escapeMrkdwn(o)}\``).join(', ')}`);
  if (item.data_classes.length > 0) lines.push(`data classes: ${escapeMrkdwn(item.data_classes.join(', '))}`);
  for (const d of item.deadlines) lines.push(`:alarm_clock: ${escapeMrkdwn(d.name)} due ${d.due_at} (${formatTimeLeft(d.time_left_ms)}${d.time_left_ms >= 0 ? ' left' : ''})`);
  for (const why of item.why) lines.push(`why: ${escapeMrkdwn(why)}`);
  if (item.note !== null) lines.push(`note (${escapeMrkdwn(item.actor)}): ${escapeMrkdwn(item.note)}`);
  const blocks: SlackBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: cut(lines.join('\n'), SLACK_LIMITS.sectionText) } }];
  const buttons: { type: 'button'; text: { type: 'plain_text'; text: string }; url: string; action_id: string }[] = [];
  const button = (label: string, url: string | null, action: string): void => {
    if (url !== null && url.length <= SLACK_LIMITS.url) buttons.push({ type: 'button', text: { type: 'plain_text', text: cut(label, SLACK_LIMITS.buttonText) }, url, action_id: `${action}:${item.incident_id}:${notificationId.slice(0, 8)}` });
  };
  button('View incident', item.links.view, 'view');
  button('Acknowledge', item.links.ack, 'ack');
  button('Resolve', item.links.resolve, 'resolve');
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  return blocks;
}
