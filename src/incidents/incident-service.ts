import type { IncidentsConfig } from '../config/incidents-config.js';
import type { Detection } from '../domain/detection.js';
import type { DeadlineRef, IncidentChange, IncidentChangeKind } from '../domain/incident-change.js';
import { IncidentConflictError, IncidentNotFoundError, IncidentStateError } from '../domain/incident-errors.js';
import type { TimelineDetail, TimelineEntry } from '../domain/incident-timeline.js';
import { deadlineStatus, type Incident } from '../domain/incident.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import { incidentChangeId } from './incident-change-id.js';
import { IncidentRepository, type UpsertResult } from './incident-repository.js';
import { LifecycleRepository } from './lifecycle-repository.js';
import { regulatoryDeadlines } from './regulatory-deadlines.js';
import { TimelineRepository } from './timeline-repository.js';

/**
 * Advisory lock key (two-int form) the caller of `runDueJobs` holds so one agent at a time runs the
 * incident jobs on a shared store: `pg_advisory_xact_lock(0x6a616761, 0x696e6a62)` ("jaga", "injb").
 * The jobs are safe without it (each step and reminder fires once by primary key, auto-resolve skips
 * locked rows); the lock only saves duplicate work.
 */
export const INCIDENT_JOBS_LOCK_KEY = [0x6a616761, 0x696e6a62] as const;

/** Most incidents each job looks at per `runDueJobs` call (the rest wait for the next call). */
export const INCIDENT_JOB_BATCH = 500;

/** Who acts on an incident, and on which version. */
export interface IncidentActor {
  /** `responder:<name>`, or `system` */
  actor: string;
  /** free text by the responder (never event data), or null */
  note: string | null;
  /** the version the actor saw; null = act on whatever is current */
  expectedVersion: number | null;
}

/** What `purge` removed. */
export interface PurgeCounts {
  /** incidents resolved longer than `retention.evidence` ago whose evidence was cleared to `[]` */
  evidenceCleared: number;
  /** `updated` timeline entries older than `retention.timeline` that were deleted */
  timelineDeleted: number;
}

/** Options of `IncidentService`. */
export interface IncidentServiceOptions {
  /** the incidents slice of the config (src/config/incidents-config.ts) */
  config: Pick<IncidentsConfig, 'resolveAfterMs' | 'escalationMs' | 'regulatory' | 'retention'>;
  /** auto-resolve quiet period of a rule, ms (the rule's `resolve_after`); default `config.resolveAfterMs` for every rule */
  resolveAfterMs?: (detectorId: string) => number;
}

/**
 * The incident lifecycle (DESIGN.md section 6, issue 6): turns detections into incident changes, moves
 * incidents through open -> acknowledged -> resolved (and reopen) for responders, and runs the due jobs
 * (auto-resolve, escalation steps, regulatory deadline reminders). Every change is an `IncidentChange`
 * with a deterministic id and one row of the append-only timeline, written in the caller's transaction
 * so the caller can enqueue its notifications in the same commit.
 *
 * Time: every method takes `now` (the agent's wall clock, injectable). Auto-resolve counts the quiet
 * period from the later of the incident's last event time (`last_seen`) and the wall-clock time its
 * latest detection was applied (`last_detected_at`): by event time alone, catching up on a backlog of
 * old log files would auto-resolve every incident as soon as it opened. Escalation bounds count from
 * when the incident opened (`created_at`, wall clock) for the same reason; regulatory deadlines count
 * from the first detection's event time (`first_seen`), the earliest moment of awareness.
 */
export class IncidentService {
  private readonly incidents: IncidentRepository;
  private readonly lifecycle: LifecycleRepository;
  private readonly timelines: TimelineRepository;
  private readonly resolveAfterMs: (detectorId: string) => number;

  constructor(
    store: SqlQueryable,
    private readonly options: IncidentServiceOptions,
  ) {
    this.incidents = new IncidentRepository(store);
    this.lifecycle = new LifecycleRepository(store);
    this.timelines = new TimelineRepository(store);
    this.resolveAfterMs = options.resolveAfterMs ?? (() => options.config.resolveAfterMs);
  }

  /**
   * Applies detections (IncidentRepository.upsertMany: per-fingerprint lock, fingerprint order): each
   * newly applied detection gives one change, `opened`, `updated` or `severity_raised` (actor
   * `rule:<rule id>` or `baseline:<name>`), and one timeline row. A detection applied before gives no
   * change, so a replay after a crash yields nothing new. New incidents get the rule's auto-resolve
   * period and the regulatory deadlines of their data classes.
   * @returns the changes in the order of `detections`
   * @throws RangeError for a malformed detection; StoreError (40P01 is transient: retry the transaction)
   */
  async applyDetections(tx: SqlQueryable, detections: readonly Detection[], now: Date): Promise<IncidentChange[]> {
    const clocks = this.options.config.regulatory;
    const results = await this.incidents.upsertMany(tx, detections, {
      appliedAt: now,
      resolveAfterMs: this.resolveAfterMs,
      deadlines: (incident) => regulatoryDeadlines(clocks, incident),
    });
    const entries: { change: IncidentChange; detail: TimelineDetail }[] = [];
    for (const [index, result] of results.entries()) {
      if (result.outcome === 'duplicate') continue;
      const detection = detections[index]!;
      const change = changeOf(result.outcome, result.incident, detection.id, actorOf(detection.detectorId), now, null, { previousSeverity: result.previousSeverity ?? null });
      entries.push({ change, detail: detectionDetail(result, detection) });
    }
    await this.timelines.appendMany(tx, entries);
    return entries.map((entry) => entry.change);
  }

  /**
   * A responder acknowledges an open incident (status `acknowledged`, version + 1; escalation stops).
   * @throws IncidentNotFoundError; IncidentConflictError when `expectedVersion` is stale; IncidentStateError
   *   when the incident is already acknowledged or resolved; StoreError
   */
  async acknowledge(tx: SqlQueryable, id: number, by: IncidentActor, now: Date): Promise<IncidentChange> {
    const incident = await this.locked(tx, id, by);
    if (incident.status !== 'open') throw new IncidentStateError(id, 'acknowledge', incident.status, `it is ${incident.status === 'acknowledged' ? 'already acknowledged' : 'resolved'}`);
    const after = await this.lifecycle.acknowledge(tx, id, by.actor, now);
    return this.record(tx, changeOf('acknowledged', after, `v${incident.version}`, by.actor, now, by.note), { version: after.version });
  }

  /**
   * Resolves a live incident (status `resolved`, version + 1): the fingerprint's next detection opens a
   * new incident linked to this one.
   * @throws IncidentNotFoundError; IncidentConflictError; IncidentStateError when already resolved; StoreError
   */
  async resolve(tx: SqlQueryable, id: number, by: IncidentActor, now: Date): Promise<IncidentChange> {
    const incident = await this.locked(tx, id, by);
    if (incident.status === 'resolved') throw new IncidentStateError(id, 'resolve', incident.status, 'it is already resolved');
    const after = await this.lifecycle.resolve(tx, id, by.actor, now);
    return this.record(tx, changeOf('resolved', after, `v${incident.version}`, by.actor, now, by.note), { version: after.version });
  }

  /**
   * Reopens a resolved incident (status `open`, acknowledged/resolved marks cleared, version + 1) while no
   * other live incident holds its fingerprint (under the per-fingerprint lock, so no detection opens one
   * meanwhile).
   * @throws IncidentNotFoundError; IncidentConflictError; IncidentStateError when it is not resolved or
   *   another incident of the fingerprint is live; StoreError
   */
  async reopen(tx: SqlQueryable, id: number, by: IncidentActor, now: Date): Promise<IncidentChange> {
    const seen = await this.incidents.get(id, tx);
    if (seen === null) throw new IncidentNotFoundError(id);
    await this.lifecycle.lockFingerprint(tx, seen.fingerprint);
    const incident = await this.locked(tx, id, by);
    if (incident.status !== 'resolved') throw new IncidentStateError(id, 'reopen', incident.status, `it is ${incident.status}, not resolved`);
    const live = await this.lifecycle.liveIdOf(tx, incident.fingerprint);
    if (live !== null) throw new IncidentStateError(id, 'reopen', incident.status, `incident ${live} is live for the same fingerprint`);
    const after = await this.lifecycle.reopen(tx, id, now);
    return this.record(tx, changeOf('reopened', after, `v${incident.version}`, by.actor, now, by.note), { version: after.version });
  }

  /**
   * Runs the jobs due at `now`, each firing once (the caller holds INCIDENT_JOBS_LOCK_KEY):
   * 1. auto-resolve: live incidents quiet for their period -> `resolved` by `system`;
   * 2. escalation: open (unacknowledged) incidents whose severity has bounds in `config.escalationMs` get
   *    each step k whose bound since opening has passed -> `escalated` (step k); the step's row in
   *    `jaga_incident_escalation` makes it fire once across restarts and agents; acknowledging stops it;
   * 3. reminders: live incidents with deadlines get, for each configured `remind_before` b of the clock,
   *    a `deadline_reminder` once `now >= due_at - b` while the deadline has not passed (once per
   *    incident, deadline and b).
   * Escalations and reminders are timeline entries only: they leave the incident row (and its version)
   * as it is, so a responder's `expectedVersion` stays valid while the system escalates.
   * @returns the changes, in that order
   * @throws StoreError
   */
  async runDueJobs(tx: SqlQueryable, now: Date): Promise<IncidentChange[]> {
    return [...(await this.autoResolve(tx, now)), ...(await this.escalate(tx, now)), ...(await this.remind(tx, now))];
  }

  /** The timeline of an incident, oldest first (on the store, or on `on`). @throws StoreError */
  async timeline(id: number, on?: SqlQueryable): Promise<TimelineEntry[]> {
    return this.timelines.list(id, on);
  }

  /**
   * Retention at `now`: clears the evidence of incidents resolved more than `retention.evidenceMs` ago,
   * and deletes `updated` timeline entries older than `retention.timelineMs` (lifecycle entries stay).
   * Incident rows are never deleted (the breach register). Outbox retention belongs to notify.
   * @throws StoreError
   */
  async purge(now: Date): Promise<PurgeCounts> {
    const { evidenceMs, timelineMs } = this.options.config.retention;
    const evidenceCleared = await this.lifecycle.clearEvidence(new Date(now.getTime() - evidenceMs));
    const timelineDeleted = await this.timelines.purgeUpdated(new Date(now.getTime() - timelineMs));
    return { evidenceCleared, timelineDeleted };
  }

  private async autoResolve(tx: SqlQueryable, now: Date): Promise<IncidentChange[]> {
    const changes: IncidentChange[] = [];
    for (const incident of await this.lifecycle.quiet(tx, now, this.options.config.resolveAfterMs, INCIDENT_JOB_BATCH)) {
      const after = await this.lifecycle.resolve(tx, incident.id, 'system', now);
      const quietMs = incident.resolveAfterMs ?? this.options.config.resolveAfterMs;
      changes.push(await this.record(tx, changeOf('resolved', after, `v${incident.version}`, 'system', now, null), { version: after.version, reason: 'quiet', quiet_ms: quietMs }));
    }
    return changes;
  }

  private async escalate(tx: SqlQueryable, now: Date): Promise<IncidentChange[]> {
    const bounds = this.options.config.escalationMs;
    const severities = Object.keys(bounds).filter((severity) => (bounds[severity as keyof typeof bounds]?.length ?? 0) > 0);
    if (severities.length === 0) return [];
    const firstBoundMs = Math.min(...severities.map((severity) => bounds[severity as keyof typeof bounds]![0]!));
    const candidates = await this.lifecycle.escalationCandidates(tx, severities, new Date(now.getTime() - firstBoundMs), INCIDENT_JOB_BATCH);
    const changes: IncidentChange[] = [];
    for (const { incident, fired } of candidates) {
      const steps = bounds[incident.severity] ?? [];
      for (let step = fired + 1; step <= steps.length; step += 1) {
        const afterMs = steps[step - 1]!;
        if (incident.createdAt.getTime() + afterMs > now.getTime()) break;
        if (!(await this.lifecycle.fireEscalation(tx, incident.id, step, now))) continue;
        changes.push(await this.record(tx, changeOf('escalated', incident, `step${step}`, 'system', now, null, { escalationStep: step }), { step, after_ms: afterMs }));
      }
    }
    return changes;
  }

  private async remind(tx: SqlQueryable, now: Date): Promise<IncidentChange[]> {
    const clocks = new Map(this.options.config.regulatory.map((clock) => [clock.name, clock]));
    const changes: IncidentChange[] = [];
    for (const incident of await this.lifecycle.withDeadlines(tx, INCIDENT_JOB_BATCH)) {
      for (const status of deadlineStatus(incident, now)) {
        if (status.left_ms <= 0) continue;
        for (const beforeMs of clocks.get(status.name)?.remindBeforeMs ?? []) {
          if (status.left_ms > beforeMs) continue;
          if (!(await this.lifecycle.fireReminder(tx, incident.id, status.name, beforeMs, now))) continue;
          const deadline: DeadlineRef = { name: status.name, due_at: status.due_at, before_ms: beforeMs };
          const detail = { deadline: status.name, due_at: status.due_at, before_ms: beforeMs };
          changes.push(await this.record(tx, changeOf('deadline_reminder', incident, `${status.name}:${beforeMs}`, 'system', now, null, { deadline }), detail));
        }
      }
    }
    return changes;
  }

  /** The incident, row-locked, after the existence and version checks. */
  private async locked(tx: SqlQueryable, id: number, by: IncidentActor): Promise<Incident> {
    if (by.actor.trim() === '') throw new RangeError('an incident action needs an actor');
    const incident = await this.lifecycle.lock(tx, id);
    if (incident === null) throw new IncidentNotFoundError(id);
    if (by.expectedVersion !== null && by.expectedVersion !== incident.version) throw new IncidentConflictError(id, by.expectedVersion, incident.version);
    return incident;
  }

  /** Appends the timeline row of `change` (built by changeOf) and returns the change. */
  private async record(tx: SqlQueryable, change: IncidentChange, detail: TimelineDetail): Promise<IncidentChange> {
    await this.timelines.append(tx, change, detail);
    return change;
  }
}

/** A change with its deterministic id (see incidentChangeId): detection kinds key on the fingerprint, the others on the incident id. */
function changeOf(
  kind: IncidentChangeKind,
  incident: Incident,
  discriminator: string,
  actor: string,
  at: Date,
  note: string | null,
  extra: Partial<Pick<IncidentChange, 'previousSeverity' | 'escalationStep' | 'deadline'>> = {},
): IncidentChange {
  return {
    id: incidentChangeId(DETECTION_KINDS.has(kind) ? incident.fingerprint : incident.id, kind, discriminator),
    kind,
    incident,
    previousSeverity: extra.previousSeverity ?? null,
    actor,
    at,
    note,
    escalationStep: extra.escalationStep ?? null,
    deadline: extra.deadline ?? null,
  };
}

/** Change kinds made by a detection: their ids key on the fingerprint (see incidentChangeId). */
const DETECTION_KINDS: ReadonlySet<IncidentChangeKind> = new Set(['opened', 'updated', 'severity_raised']);

/** `rule:<rule id>`, or `baseline:<name>` for a `baseline.<name>` detector. */
function actorOf(detectorId: string): string {
  return detectorId.startsWith('baseline.') ? `baseline:${detectorId.slice('baseline.'.length)}` : `rule:${detectorId}`;
}

/** Timeline detail of a detection change: ids and counts, never evidence. */
function detectionDetail(result: UpsertResult, detection: Detection): TimelineDetail {
  const detail: TimelineDetail = { detection_id: detection.id, count_delta: detection.count, count: result.incident.count };
  if (result.outcome === 'opened') detail.severity = result.incident.severity;
  if (result.outcome === 'severity_raised') {
    detail.previous_severity = result.previousSeverity ?? null;
    detail.severity = result.incident.severity;
  }
  return detail;
}
