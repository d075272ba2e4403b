import type { NotifyConfig, RouteConfig } from '../config/notify-config.js';
import { SEVERITIES } from '../domain/detection.js';
import type { IncidentChange } from '../domain/incident-change.js';
import { silenceMatches, type Silence } from '../domain/silence.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import type { InternalEventReporter, Telemetry } from '../observe/telemetry.js';
import { buildNotificationItem } from './notification-message.js';
import { notificationId } from './notification-id.js';
import type { NotificationLinks } from './notification-links.js';
import { OutboxRepository } from './outbox-repository.js';
import { SilenceRepository } from './silence-repository.js';

/** What the planner needs from the config (the notify slice, or part of it). */
export type PlannerConfig = Pick<NotifyConfig, 'receivers' | 'routes' | 'escalation'>;

/**
 * Turns incident changes into outbox rows, inside the transaction that made the changes (so an
 * incident change and its notifications commit together or not at all). Rules, in order:
 * 1. an incident whose maturity is `experimental` never notifies (counted: `notification_skipped{reason="experimental"}`);
 * 2. `escalated` changes go to the receivers of their escalation step only;
 * 3. other changes go to the union of the receivers of every matching route (a route matches the change
 *    kind against its `changes` list, which by default holds opened, severity_raised, deadline_reminder
 *    and resolved; then severity at least, any tag, detector id or `prefix*`, incident status);
 * 4. a change matching an active silence is written as a `muted` row per receiver (the record that it
 *    was muted; counted: `notification_muted{receiver}`) and never delivered; the incident is untouched;
 * 5. a receiver with a grouping window collects its changes into one digest row due when the window
 *    closes; else each change is one row due now. Row ids are stable (`notificationId`), written with
 *    ON CONFLICT DO NOTHING, so replaying a change writes nothing new.
 */
export class NotificationPlanner {
  private readonly outbox = new OutboxRepository();
  private readonly silences = new SilenceRepository();
  private readonly muted: InternalEventReporter<'receiver'> | null;
  private readonly skipped: InternalEventReporter<'reason'> | null;

  constructor(
    private readonly config: PlannerConfig,
    private readonly links: NotificationLinks,
    telemetry?: Telemetry,
  ) {
    this.muted = telemetry?.declare({ name: 'notification_muted', help: 'Notifications muted by a silence (recorded, not delivered)', level: 'info', labels: ['receiver'] }) ?? null;
    this.skipped = telemetry?.declare({ name: 'notification_skipped', help: 'Incident changes that notify nobody, by reason', level: 'debug', labels: ['reason'] }) ?? null;
  }

  /**
   * Routes and writes the changes' notifications on `tx` (the pipeline's or an HTTP action's transaction).
   * @param now the planning time: grouping windows open at it, time left is computed from it
   * @returns how many (receiver, change) notifications were newly recorded, muted ones included;
   *   0 for a replay of changes already planned
   * @throws StoreError from the store (the caller's transaction then rolls back)
   */
  async enqueue(tx: SqlQueryable, changes: readonly IncidentChange[], now: Date): Promise<number> {
    if (changes.length === 0) return 0;
    let active: Silence[] | null = null;
    let written = 0;
    for (const change of changes) {
      if (change.incident.maturity === 'experimental') {
        this.skipped?.({ reason: 'experimental' }, { change_kind: change.kind });
        continue;
      }
      const receivers = this.receiversFor(change);
      if (receivers.length === 0) {
        this.skipped?.({ reason: 'no_route' }, { change_kind: change.kind });
        continue;
      }
      active ??= await this.silences.active(tx, now);
      const silence = active.find((s) => silenceMatches(s.matchers, change.incident)) ?? null;
      for (const receiver of receivers) {
        const windowMs = this.config.receivers[receiver]?.groupWindowMs ?? 0;
        if (silence !== null || windowMs <= 0) {
          const id = notificationId(receiver, `change:${change.id}`);
          const added = await this.outbox.addSingle(tx, {
            receiver,
            changeId: change.id,
            id,
            item: buildNotificationItem(change, id, this.links, now),
            status: silence === null ? 'pending' : 'muted',
            silenceId: silence?.id ?? null,
            now,
          });
          if (added) {
            written += 1;
            if (silence !== null) this.muted?.({ receiver }, { silence_id: silence.id, incident_id: change.incident.id, change_kind: change.kind });
          }
        } else {
          const id = await this.outbox.addToDigest(tx, {
            receiver,
            changeId: change.id,
            incidentId: change.incident.id,
            windowMs,
            now,
            makeItem: (digestId) => buildNotificationItem(change, digestId, this.links, now),
          });
          if (id !== null) written += 1;
        }
      }
    }
    return written;
  }

  /** The receiver names a change goes to, before silences (config order, no duplicates). */
  receiversFor(change: IncidentChange): string[] {
    if (change.incident.maturity === 'experimental') return [];
    if (change.kind === 'escalated') {
      const step = this.config.escalation.steps.find((s) => s.step === change.escalationStep);
      return step ? [...new Set(step.receivers)] : [];
    }
    const out: string[] = [];
    for (const route of this.config.routes) {
      if (!routeMatches(route, change)) continue;
      for (const receiver of route.receivers) if (!out.includes(receiver)) out.push(receiver);
    }
    return out;
  }
}

/** True when the route takes this change (kind, severity floor, tags, detectors, status). */
export function routeMatches(route: RouteConfig, change: IncidentChange): boolean {
  const incident = change.incident;
  if (!route.changes.includes(change.kind)) return false;
  if (route.severityAtLeast !== null && SEVERITIES.indexOf(incident.severity) < SEVERITIES.indexOf(route.severityAtLeast)) return false;
  if (route.tagsAny !== null && !route.tagsAny.some((tag) => incident.tags.includes(tag))) return false;
  if (route.detectors !== null && !route.detectors.some((d) => (d.endsWith('*') ? incident.detectorId.startsWith(d.slice(0, -1)) : d === incident.detectorId))) return false;
  if (route.statuses !== null && !route.statuses.includes(incident.status)) return false;
  return true;
}
