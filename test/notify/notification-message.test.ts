import { describe, expect, it } from 'vitest';
import { renderMessageHtml } from '../../src/notify/email-receiver.js';
import { buildNotificationItem, deadlinesOf, renderMessageText, whyLines, type NotificationMessage } from '../../src/notify/notification-message.js';
import { renderSlackPayload, SLACK_LIMITS } from '../../src/notify/slack-message.js';
import { change, testLinks } from './notify-fixtures.js';

const now = new Date('2026-01-01T00:01:00.000Z');

describe('buildNotificationItem', () => {
  it('builds the item from the incident: facts, links, object names and fingerprints, no normalized statement', () => {
    const item = buildNotificationItem(change(), 'n1', testLinks, now);
    expect(item).toMatchObject({
      change: 'opened',
      incident_id: 7,
      severity: 'high',
      title: 'Brute force against a role',
      status: 'open',
      count: 30,
      objects: ['public.customers'],
      fingerprints: ['a1b2c3d4e5f60718'],
      why: ['type: threshold', 'count: 30', 'threshold: 10'],
      links: { view: 'https://jaga.test/incidents/7', ack: 'https://jaga.test/incidents/7/ack?n=n1', resolve: 'https://jaga.test/incidents/7/resolve?n=n1' },
    });
    expect(JSON.stringify(item)).not.toContain('SELECT');
    expect(JSON.stringify(item)).not.toContain('secret-value-from-event');
  });

  it('offers no ack link once acknowledged and no action link once resolved', () => {
    expect(buildNotificationItem(change({ kind: 'acknowledged' }, { status: 'acknowledged' }), 'n', testLinks, now).links).toEqual({
      view: 'https://jaga.test/incidents/7',
      ack: null,
      resolve: 'https://jaga.test/incidents/7/resolve?n=n',
    });
    expect(buildNotificationItem(change({ kind: 'resolved' }, { status: 'resolved' }), 'n', testLinks, now).links).toEqual({ view: 'https://jaga.test/incidents/7', ack: null, resolve: null });
  });

  it('carries the reminded deadline with the time left', () => {
    const item = buildNotificationItem(change({ kind: 'deadline_reminder', deadline: { name: 'gdpr_art33', due_at: '2026-01-04T00:00:00.000Z', before_ms: 0 } }), 'n', testLinks, now);
    expect(item.reminder).toEqual({ name: 'gdpr_art33', due_at: '2026-01-04T00:00:00.000Z', time_left_ms: 72 * 3_600_000 - 60_000 });
  });
});

describe('deadlinesOf and whyLines', () => {
  it('reads the deadline shapes, sorted by due time', () => {
    expect(deadlinesOf({ uu_pdp_art46: { due_at: '2026-01-04T00:00:00Z' }, gdpr_art33: '2026-01-03T00:00:00.000Z', junk: 5 }, now)).toEqual([
      { name: 'gdpr_art33', due_at: '2026-01-03T00:00:00.000Z', time_left_ms: 47 * 3_600_000 + 59 * 60_000 },
      { name: 'uu_pdp_art46', due_at: '2026-01-04T00:00:00.000Z', time_left_ms: 71 * 3_600_000 + 59 * 60_000 },
    ]);
    expect(deadlinesOf(null, now)).toEqual([]);
  });
  it('keeps numbers and rule text, drops values seen in events', () => {
    expect(whyLines({ type: 'new_value', new_values: [{ user: 'x' }], fields: ['user'], observed: 12, expected: 3.5, last_seen: '2026', values: ['a@b.c'] })).toEqual([
      'type: new_value',
      'fields: user',
      'observed: 12',
      'expected: 3.5',
    ]);
  });
});

function digest(items: number): NotificationMessage {
  return {
    notification_id: 'd'.repeat(32),
    receiver: 'slack',
    kind: 'digest',
    items: Array.from({ length: items }, (_, i) =>
      buildNotificationItem(change({}, { id: 100 + i, summary: `summary ${i} ${'x'.repeat(4000)}`, title: `T${i} ${'y'.repeat(300)}` }, `c${i}`), 'd'.repeat(32), testLinks, now),
    ),
  };
}

describe('renderSlackPayload (Slack limits)', () => {
  it('keeps a 60-change digest within 50 blocks, 3000 chars per section, 150 per header, and says how many are left out', () => {
    const payload = renderSlackPayload(digest(60));
    expect(payload.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(payload.blocks.length).toBe(49); // header + 23 x (section, actions) + "more" + footer
    for (const block of payload.blocks) {
      if (block.type === 'section') expect(block.text.text.length).toBeLessThanOrEqual(3000);
      if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(150);
    }
    const sections = payload.blocks.filter((b) => b.type === 'section');
    expect(sections.at(-1)).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '… and 37 more changes: open jaga to see them all.' } });
    expect(payload.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'jaga [HIGH] digest: 60 incident changes' } });
    expect(payload.text.length).toBeLessThanOrEqual(3000);
    expect(payload.blocks.at(-1)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `notification id: \`${'d'.repeat(32)}\`` }] });
  });

  it('escapes mrkdwn control characters from incident fields', () => {
    const message: NotificationMessage = { notification_id: 'n', receiver: 's', kind: 'single', items: [buildNotificationItem(change({}, { summary: 'a <b> & c' }), 'n', testLinks, now)] };
    const section = renderSlackPayload(message).blocks[1];
    expect(section?.type === 'section' && section.text.text.includes('a &lt;b&gt; &amp; c')).toBe(true);
  });
});

describe('text and HTML bodies', () => {
  const message: NotificationMessage = { notification_id: 'abc123', receiver: 'mail', kind: 'single', items: [buildNotificationItem(change({}, { summary: '<script>alert(1)</script>' }), 'abc123', testLinks, now)] };
  it('text ends with the notification id and lists the links', () => {
    const text = renderMessageText(message);
    expect(text.startsWith('[HIGH] opened: Brute force against a role (#7)\n')).toBe(true);
    expect(text).toContain('acknowledge: https://jaga.test/incidents/7/ack?n=abc123');
    expect(text.endsWith('notification id: abc123')).toBe(true);
  });
  it('HTML escapes every value', () => {
    const html = renderMessageHtml(message);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
  });
});
