/**
 * The message model every receiver renders (issue 6: "Each message: severity, title, entity, counts,
 * deadlines, why, and signed, expiring links"). One model, one builder, so what reaches Slack, e-mail
 * and webhooks is the same redacted content. It is what the outbox stores in `payload` (JSON).
 *
 * Redacted by construction: built only from an Incident's own fields. Decisions (documented here
 * because they are the leak boundary):
 * - evidence contributes object names and statement fingerprints only (at most 5 each); never the
 *   `normalized` statements (they hold no literals but make messages long and are one click away);
 * - `why` keeps numbers and booleans of the explanation, strings only under keys that carry rule
 *   text (`type`, `condition`, `field`, `window`, `after`, `while`, `measure`) and string lists only under
 *   `matched_selections`, `group_by`, `fields`; values observed in events (`values`, `new_values`,
 *   `last_seen`...) are left out;
 * - a responder's note is kept (free text by a responder, never event data), cut to 500 chars.
 */
import type { DetectionEntity, Severity } from '../domain/detection.js';
import type { IncidentChange, IncidentChangeKind } from '../domain/incident-change.js';
import type { IncidentStatus } from '../domain/incident.js';
import type { NotificationLinks } from './notification-links.js';

/** One deadline with the time left when the item was built. */
export interface NotificationDeadline {
  name: string;
  /** ISO-8601 UTC */
  due_at: string;
  /** ms from the item's `built_at` to `due_at` (negative once passed) */
  time_left_ms: number;
}

/** One incident change as a message item. */
export interface NotificationItem {
  change_id: string;
  change: IncidentChangeKind;
  /** for `escalated`: the step (1-based), else null */
  escalation_step: number | null;
  /** for `deadline_reminder`: the deadline reminded of, else null */
  reminder: NotificationDeadline | null;
  incident_id: number;
  severity: Severity;
  previous_severity: Severity | null;
  title: string;
  status: IncidentStatus;
  detector: string;
  server: string;
  entity: DetectionEntity;
  count: number;
  /** ISO-8601 UTC */
  first_seen: string;
  last_seen: string;
  tags: string[];
  data_classes: string[];
  summary: string;
  deadlines: NotificationDeadline[];
  /** `key: value` lines from the explanation (see the file comment for what is kept) */
  why: string[];
  /** object names from the evidence, at most 5, first seen first */
  objects: string[];
  /** statement fingerprints from the evidence, at most 5 */
  fingerprints: string[];
  actor: string;
  note: string | null;
  links: { view: string; ack: string | null; resolve: string | null };
  /** when the change happened, ISO-8601 UTC */
  at: string;
  /** when this item was built (time-left reference), ISO-8601 UTC */
  built_at: string;
}

/** A whole message: one item, or a digest of several; `notification_id` is the stable id. */
export interface NotificationMessage {
  notification_id: string;
  receiver: string;
  /** `single` (one change), `digest` (a grouping window), `fallback` (a copy of a dead-lettered message) */
  kind: 'single' | 'digest' | 'fallback';
  items: NotificationItem[];
}

const STRING_KEYS = new Set(['type', 'condition', 'field', 'window', 'after', 'while', 'measure']);
const LIST_KEYS = new Set(['matched_selections', 'group_by', 'fields']);
const MAX_WHY_LINES = 12;
const MAX_TEXT = 200;

/**
 * Builds the item for one change (pure; `now` is the time-left reference).
 * Links: view always; ack while the incident is open, resolve while it is not resolved.
 */
export function buildNotificationItem(change: IncidentChange, notificationId: string, links: NotificationLinks, now: Date): NotificationItem {
  const incident = change.incident;
  const objects: string[] = [];
  const fingerprints: string[] = [];
  for (const item of incident.evidence) {
    if (item.object_name !== null && !objects.includes(item.object_name) && objects.length < 5) objects.push(item.object_name);
    if (item.fingerprint !== null && !fingerprints.includes(item.fingerprint) && fingerprints.length < 5) fingerprints.push(item.fingerprint);
  }
  return {
    change_id: change.id,
    change: change.kind,
    escalation_step: change.escalationStep,
    reminder: change.deadline === null ? null : { name: change.deadline.name, due_at: change.deadline.due_at, time_left_ms: Date.parse(change.deadline.due_at) - now.getTime() },
    incident_id: incident.id,
    severity: incident.severity,
    previous_severity: change.previousSeverity,
    title: cut(incident.title, MAX_TEXT),
    status: incident.status,
    detector: incident.detectorId,
    server: incident.server,
    entity: { ...incident.entity },
    count: incident.count,
    first_seen: incident.firstSeen.toISOString(),
    last_seen: incident.lastSeen.toISOString(),
    tags: [...incident.tags],
    data_classes: [...incident.dataClasses],
    summary: cut(incident.summary, 500),
    deadlines: deadlinesOf(incident.deadlines, now),
    why: whyLines(incident.explanation),
    objects,
    fingerprints,
    actor: change.actor,
    note: change.note === null ? null : cut(change.note, 500),
    links: {
      view: links.incidentUrl(incident.id),
      ack: incident.status === 'open' ? links.actionUrl(incident.id, 'ack', notificationId) : null,
      resolve: incident.status !== 'resolved' ? links.actionUrl(incident.id, 'resolve', notificationId) : null,
    },
    at: change.at.toISOString(),
    built_at: now.toISOString(),
  };
}

/**
 * The deadlines of an incident's `deadlines` JSON, sorted by due time. Accepts `{name: 'ISO'}`,
 * `{name: {due_at: 'ISO', ...}}` and `[{name, due_at}]`; anything else is left out.
 */
export function deadlinesOf(deadlines: Record<string, unknown> | unknown[] | null, now: Date): NotificationDeadline[] {
  if (deadlines === null || typeof deadlines !== 'object') return [];
  const out: NotificationDeadline[] = [];
  const add = (name: unknown, due: unknown): void => {
    if (typeof name !== 'string' || typeof due !== 'string') return;
    const ms = Date.parse(due);
    if (Number.isNaN(ms)) return;
    out.push({ name, due_at: new Date(ms).toISOString(), time_left_ms: ms - now.getTime() });
  };
  if (Array.isArray(deadlines)) {
    for (const entry of deadlines) if (entry !== null && typeof entry === 'object') add((entry as Record<string, unknown>).name, (entry as Record<string, unknown>).due_at);
  } else {
    for (const [name, value] of Object.entries(deadlines)) {
      if (typeof value === 'string') add(name, value);
      else if (value !== null && typeof value === 'object') add(name, (value as Record<string, unknown>).due_at);
    }
  }
  return out.sort((a, b) => a.due_at.localeCompare(b.due_at) || a.name.localeCompare(b.name));
}

/** `key: value` lines of an explanation, keeping only rule text and numbers (see the file comment). */
export function whyLines(explanation: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(explanation)) {
    if (lines.length >= MAX_WHY_LINES) break;
    if (typeof value === 'number' || typeof value === 'boolean') lines.push(`${key}: ${value}`);
    else if (typeof value === 'string' && STRING_KEYS.has(key)) lines.push(`${key}: ${cut(value, MAX_TEXT)}`);
    else if (Array.isArray(value) && LIST_KEYS.has(key) && value.every((v) => typeof v === 'string')) {
      if (value.length > 0) lines.push(`${key}: ${cut(value.join(', '), MAX_TEXT)}`);
    }
  }
  return lines;
}

/** Cuts text to `max` characters, ending with `…` when cut. */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** `3h 5m`, `45m`, `12s`, `overdue 2h 1m` for a time left in ms. */
export function formatTimeLeft(ms: number): string {
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = Math.floor((abs % 60_000) / 1000);
  const text = h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m` : `${s}s`;
  return ms < 0 ? `overdue ${text}` : text;
}

/** A one-line heading of an item, e.g. `[HIGH] opened: Brute force against a role (#7)`. */
export function itemHeadline(item: NotificationItem): string {
  const what =
    item.change === 'escalated'
      ? `escalated (step ${item.escalation_step ?? '?'})`
      : item.change === 'deadline_reminder'
        ? `deadline reminder${item.reminder ? ` (${item.reminder.name}, ${formatTimeLeft(item.reminder.time_left_ms)} left)` : ''}`
        : item.change === 'severity_raised'
          ? `severity raised${item.previous_severity ? ` from ${item.previous_severity}` : ''}`
          : item.change.replace('_', ' ');
  return `[${item.severity.toUpperCase()}] ${what}: ${item.title} (#${item.incident_id})`;
}

/**
 * The plain-text body of a message (the e-mail text part, the Slack `text` fallback, console output),
 * one block per item, ending with the notification id line.
 */
export function renderMessageText(message: NotificationMessage): string {
  const parts: string[] = [];
  if (message.items.length > 1) parts.push(`jaga digest: ${message.items.length} incident changes`);
  for (const item of message.items) {
    const entity = Object.entries(item.entity)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const lines = [
      itemHeadline(item),
      item.summary,
      `status: ${item.status} · count: ${item.count} · detector: ${item.detector} · server: ${item.server}`,
      `seen: ${item.first_seen} .. ${item.last_seen}`,
    ];
    if (entity !== '') lines.push(`entity: ${entity}`);
    if (item.objects.length > 0) lines.push(`objects: ${item.objects.join(', ')}`);
    if (item.data_classes.length > 0) lines.push(`data classes: ${item.data_classes.join(', ')}`);
    for (const d of item.deadlines) lines.push(`deadline ${d.name}: ${d.due_at} (${formatTimeLeft(d.time_left_ms)}${d.time_left_ms >= 0 ? ' left' : ''})`);
    for (const why of item.why) lines.push(`why: ${why}`);
    if (item.note !== null) lines.push(`note (${item.actor}): ${item.note}`);
    lines.push(`view: ${item.links.view}`);
    if (item.links.ack !== null) lines.push(`acknowledge: ${item.links.ack}`);
    if (item.links.resolve !== null) lines.push(`resolve: ${item.links.resolve}`);
    parts.push(lines.join('\n'));
  }
  parts.push(`notification id: ${message.notification_id}`);
  return parts.join('\n\n');
}

/** The subject / title of a message: the item's headline, or a digest count with the highest severity. */
export function messageSubject(message: NotificationMessage): string {
  const first = message.items[0];
  if (message.items.length === 1 && first) return cut(`jaga ${itemHeadline(first)}`, 150);
  const order = ['info', 'low', 'medium', 'high', 'critical'];
  const top = message.items.reduce((max, item) => (order.indexOf(item.severity) > order.indexOf(max) ? item.severity : max), 'info' as Severity);
  return cut(`jaga [${top.toUpperCase()}] digest: ${message.items.length} incident changes`, 150);
}
