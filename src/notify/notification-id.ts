import { createHash } from 'node:crypto';

/**
 * The stable notification id: 32 hex chars of sha256 over the receiver name and what the message is
 * about (`change:<change id>`, `digest:<first change id>`, `fallback:<dead notification id>`), joined
 * by NUL. The same change replayed after a crash gets the same id, so the outbox row is written once
 * (INSERT ... ON CONFLICT DO NOTHING) and every delivery of it carries the same id.
 *
 * Example: `notificationId('oncall_slack', 'change:3f2a…')` → `'9c1e…'` (32 hex).
 */
export function notificationId(receiver: string, subject: string): string {
  return createHash('sha256').update(`${receiver}\u0000${subject}`).digest('hex').slice(0, 32);
}
