import nodemailer, { type Transporter } from 'nodemailer';
import { z } from 'zod';
import { DeliveryError } from '../domain/errors.js';
import { formatTimeLeft, itemHeadline, messageSubject, renderMessageText, type NotificationMessage } from './notification-message.js';
import type { Receiver, ReceiverPlugin } from './receiver.js';
import { deliveryErrorCode, isErrorCode } from './delivery-error-code.js';

/** Params of an `email` receiver (resolved config: the SMTP URL is a secret, it may hold a password). */
export interface EmailReceiverParams {
  /** `smtp://user:pass@host:587` or `smtps://...` (nodemailer connection URL) */
  smtpUrl: string;
  from: string;
  to: string[];
  /** connection, greeting and socket timeout, ms */
  timeoutMs: number;
}

const paramsSchema: z.ZodType<EmailReceiverParams> = z.object({
  smtpUrl: z.string().min(1),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
  timeoutMs: z.number().int().positive(),
});

/** SMTP error codes of nodemailer that a later attempt may get past (connection and timeouts). */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'TimeoutError', 'AbortError']);

/**
 * Sends e-mail through nodemailer over an SMTP URL: a text part and an HTML part (every value
 * HTML-escaped), `Message-ID: <notification id@jaga>` and header `X-Jaga-Notification-Id`, so a
 * redelivery is recognisable. `connectionTimeout`, `greetingTimeout` and `socketTimeout` are all
 * `timeoutMs`, so a stuck server fails the attempt instead of blocking the queue.
 * Errors: connection failures, timeouts and SMTP 4xx replies → transient; 5xx replies and auth
 * failures → permanent. Messages carry nodemailer's code, the system code under it (`smtp ESOCKET (ECONNREFUSED)`)
 * and the SMTP reply code only.
 */
export class EmailReceiver implements Receiver {
  readonly type = 'email';
  private transport: Transporter | null = null;

  constructor(
    readonly name: string,
    private readonly params: EmailReceiverParams,
  ) {}

  async deliver(message: NotificationMessage, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new DeliveryError('email send aborted', true);
    this.transport ??= nodemailer.createTransport({
      url: this.params.smtpUrl,
      connectionTimeout: this.params.timeoutMs,
      greetingTimeout: this.params.timeoutMs,
      socketTimeout: this.params.timeoutMs,
      pool: false,
    } as Parameters<typeof nodemailer.createTransport>[0]);
    try {
      await this.transport.sendMail({
        from: this.params.from,
        to: this.params.to,
        subject: messageSubject(message),
        text: renderMessageText(message),
        html: renderMessageHtml(message),
        messageId: `<${message.notification_id}@jaga>`,
        headers: { 'X-Jaga-Notification-Id': message.notification_id },
      });
    } catch (error) {
      const code = deliveryErrorCode(error);
      const reply = (error as { responseCode?: unknown }).responseCode;
      const replyCode = typeof reply === 'number' ? reply : null;
      // nodemailer wraps socket and TLS failures as ESOCKET / ECONNECTION: the system code says which
      const original = (error as { originalCode?: unknown }).originalCode;
      const cause = isErrorCode(original) && original !== code ? ` (${original})` : '';
      const transient = replyCode !== null ? replyCode >= 400 && replyCode < 500 : TRANSIENT_CODES.has(code);
      throw new DeliveryError(`smtp ${code}${cause}${replyCode !== null ? ` ${replyCode}` : ''}`, transient, null, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.transport?.close();
    this.transport = null;
  }
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The HTML part: one section per item with its facts and links; every value escaped. */
export function renderMessageHtml(message: NotificationMessage): string {
  const e = escapeHtml;
  const sections = message.items.map((item) => {
    const rows: [string, string][] = [
      ['Summary', e(item.summary)],
      ['Status', e(item.status)],
      ['Count', String(item.count)],
      ['Detector', e(item.detector)],
      ['Server', e(item.server)],
      ['Seen', `${e(item.first_seen)} .. ${e(item.last_seen)}`],
    ];
    const entity = Object.entries(item.entity).filter(([, v]) => v !== null);
    if (entity.length > 0) rows.push(['Entity', entity.map(([k, v]) => `${e(k)}=${e(String(v))}`).join(' ')]);
    if (item.objects.length > 0) rows.push(['Objects', e(item.objects.join(', '))]);
    if (item.data_classes.length > 0) rows.push(['Data classes', e(item.data_classes.join(', '))]);
    for (const d of item.deadlines) rows.push([`Deadline ${e(d.name)}`, `${e(d.due_at)} (${e(formatTimeLeft(d.time_left_ms))}${d.time_left_ms >= 0 ? ' left' : ''})`]);
    if (item.why.length > 0) rows.push(['Why', item.why.map(e).join('<br>')]);
    if (item.note !== null) rows.push([`Note (${e(item.actor)})`, e(item.note)]);
    const links = [`<a href="${e(item.links.view)}">View incident</a>`];
    if (item.links.ack !== null) links.push(`<a href="${e(item.links.ack)}">Acknowledge</a>`);
    if (item.links.resolve !== null) links.push(`<a href="${e(item.links.resolve)}">Resolve</a>`);
    return `<h2>${e(itemHeadline(item))}</h2>\n<table>${rows.map(([k, v]) => `<tr><th align="left">${k}</th><td>${v}</td></tr>`).join('')}</table>\n<p>${links.join(' · ')}</p>`;
  });
  return `<!doctype html><html><body>\n${sections.join('\n<hr>\n')}\n<p><small>notification id: ${e(message.notification_id)}</small></p>\n</body></html>`;
}

/** The `email` receiver plug-in. */
export const emailReceiverPlugin: ReceiverPlugin<EmailReceiverParams> = {
  type: 'email',
  paramsSchema,
  create: (name, params) => new EmailReceiver(name, params),
};
