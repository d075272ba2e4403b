import type { AccessEvent } from '../domain/access-event.js';
import type { Detection } from '../domain/detection.js';
import type { CompiledRule, EventPredicate, MatchContext } from './compiled-rule.js';
import { buildDetection, durationText } from './detection-builder.js';
import type { Detector, DetectorDeps, DetectorModule } from './detector.js';
import { absenceParamsSchema, type AbsenceParams } from './detector-params.js';
import { DueQueue } from './due-queue.js';
import { assertDigest, digestEvent, type EventDigest } from './event-digest.js';
import { eventTimeMs } from './event-time.js';
import { GroupKeyer } from './group-keyer.js';
import { DEFAULT_MAX_EVENTS_PER_GROUP, DEFAULT_MAX_GROUPS, GroupTable } from './group-table.js';
import { asArray, asRecord, timeFromJson, timeToJson } from './snapshot-codec.js';

/** Condition events newer than the settled lastSeen and at least `after` past it, as a run with no inner gap of `after`. */
interface PendingRun {
  firstMs: number;
  last: EventDigest;
}

interface AbsenceGroup {
  /** newest condition event time known to end no silence, the overall group's start, or -Infinity */
  lastSeenMs: number;
  /** digest of the condition event at lastSeenMs (made lazily from lastEvent), null for the overall group's start */
  last: EventDigest | null;
  lastEvent: AccessEvent | null;
  lastContext: MatchContext | null;
  /** condition events `after` or more past lastSeen, waiting for the watermark (late events may still fill the gap) */
  runs: PendingRun[];
  /** times of `while` events newer than lastSeenMs, sorted */
  whiles: number[];
  /** the newest `while` event (entity and server when no condition event was seen), made lazily */
  latestWhile: EventDigest | null;
  latestWhileEvent: AccessEvent | null;
  latestWhileContext: MatchContext | null;
  latestWhileMs: number;
  /** lastSeenMs of the silence already reported, or null */
  firedForMs: number | null;
  /** due time currently queued, or +Infinity */
  dueMs: number;
}

const NO_DETECTIONS: Detection[] = [];
const OVERALL = '{}';

/**
 * `absence` rules (rules design): fires when no event of the rule's condition arrived for `after`
 * per group (or overall with `group_by: []`), e.g. backups stopped, or, with `while`, the audit
 * log silent while connections continue.
 *
 * Semantics, on event time:
 * - A group's silence starts at its last condition event (`lastSeen`). It is reported once, when
 *   the watermark passes `lastSeen + after`, or when the next condition event arrives more than
 *   `after` later (so a silence is found even if the watermark only moves with events). Condition
 *   events newer than the watermark wait (late events within the allowed lateness still break a
 *   silence); a condition event older than the group's lastSeen changes nothing.
 * - With `while: <selection>`, the silence is measured from the first event of that selection
 *   after `lastSeen` (the first activity that went unanswered), and reported only if another one
 *   arrived at or after that event + `after` (and before the silence ended): the activity kept
 *   going for `after` without a condition event. So a quiet server (no activity) never fires, and
 *   neither does the first login after a quiet night whose statements are then audited.
 * - The overall group (group_by []) exists from the detector's first watermark or event, so a
 *   silence from the start (no backup since jaga started) is reported too; other groups exist from
 *   their first condition event.
 * - Detection: firstSeen = the start of the silence, lastSeen = its limit (see `silenceDeadline`), count 1,
 *   evidence = the last condition event before the silence, id from the silence's deadline
 *   (deterministic), explanation `{after_ms, after, last_seen, while, while_events}`.
 * Cost: due times are kept in a heap, so `advance` is O(1) when nothing is due.
 *
 * @throws Error from `create` when `while` names a selection the rule does not have
 */
export class AbsenceDetector implements Detector {
  private readonly afterMs: number;
  private readonly whileName: string | null;
  private readonly whilePredicate: EventPredicate | null;
  private readonly keyer: GroupKeyer;
  private readonly overall: boolean;
  private readonly groups: GroupTable<AbsenceGroup>;
  private readonly maxEventsPerGroup: number;
  private readonly queue = new DueQueue();
  private watermarkMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly rule: CompiledRule & { params: AbsenceParams },
    deps: DetectorDeps,
  ) {
    this.afterMs = rule.params.after;
    this.whileName = rule.params.while ?? null;
    this.whilePredicate = this.whileName === null ? null : (rule.selections.get(this.whileName) ?? null);
    if (this.whileName !== null && this.whilePredicate === null) throw new Error(`${rule.id}: absence while names unknown selection ${this.whileName}`);
    this.keyer = GroupKeyer.for(rule.groupBy);
    this.overall = rule.groupBy.length === 0;
    this.maxEventsPerGroup = deps.maxEventsPerGroup ?? DEFAULT_MAX_EVENTS_PER_GROUP;
    this.groups = new GroupTable<AbsenceGroup>(deps.maxGroups ?? DEFAULT_MAX_GROUPS, (group) => Math.max(group.lastSeenMs, group.whiles[group.whiles.length - 1] ?? Number.NEGATIVE_INFINITY));
  }

  wants(event: AccessEvent, context: MatchContext): boolean {
    return this.rule.matches(event, context) || (this.whilePredicate !== null && this.whilePredicate(event, context));
  }

  observe(event: AccessEvent, context: MatchContext): Detection[] {
    const timeMs = eventTimeMs(event);
    if (Number.isNaN(timeMs)) return NO_DETECTIONS;
    const isCondition = this.rule.matches(event, context);
    const isWhile = this.whilePredicate !== null && this.whilePredicate(event, context);
    const key = this.keyer.keyOf(event, context);
    let group = this.groups.get(key);
    if (group === undefined) {
      if (!isCondition && !this.overall) return NO_DETECTIONS;
      group = this.newGroup(this.overall ? timeMs - 1 : Number.NEGATIVE_INFINITY);
      this.groups.set(key, group);
    }
    if (timeMs <= group.lastSeenMs) return NO_DETECTIONS;
    if (isCondition) {
      if (group.runs.length === 0 && timeMs - group.lastSeenMs < this.afterMs) {
        // no silence can hide between lastSeen and this event: it becomes lastSeen at once
        group.lastSeenMs = timeMs;
        group.last = null;
        group.lastEvent = event;
        group.lastContext = context;
        pruneWhiles(group);
      } else {
        this.addToRuns(group, timeMs, digestEvent(event, context));
      }
    }
    if (isWhile && timeMs > group.lastSeenMs) {
      insertTime(group.whiles, timeMs);
      if (group.whiles.length > this.maxEventsPerGroup) group.whiles.shift();
      if (timeMs >= group.latestWhileMs) {
        group.latestWhileMs = timeMs;
        group.latestWhile = null;
        group.latestWhileEvent = event;
        group.latestWhileContext = context;
      }
    }
    this.reschedule(key, group);
    return group.dueMs <= this.watermarkMs ? this.settleDue() : NO_DETECTIONS;
  }

  advance(watermarkMs: number): Detection[] {
    if (watermarkMs <= this.watermarkMs) return NO_DETECTIONS;
    this.watermarkMs = watermarkMs;
    if (this.overall && this.groups.size === 0) {
      const group = this.newGroup(watermarkMs);
      this.groups.set(OVERALL, group);
      this.reschedule(OVERALL, group);
    }
    return this.queue.peekDueMs() <= watermarkMs ? this.settleDue() : NO_DETECTIONS;
  }

  snapshot(): unknown {
    const groups: [string, Record<string, unknown>][] = [];
    for (const [key, group] of this.groups.entries()) {
      groups.push([
        key,
        {
          lastSeenMs: timeToJson(group.lastSeenMs),
          last: lastDigest(group),
          runs: group.runs,
          whiles: group.whiles,
          latestWhile: latestWhileDigest(group),
          firedForMs: group.firedForMs,
        },
      ]);
    }
    return { watermarkMs: timeToJson(this.watermarkMs), groups };
  }

  restore(state: unknown): void {
    const where = `${this.rule.id} (absence) snapshot`;
    const record = asRecord(state, where);
    const restored: [string, AbsenceGroup][] = [];
    for (const [i, entry] of asArray(record.groups, `${where}.groups`).entries()) {
      const at = `${where}.groups[${i}]`;
      const pair = asArray(entry, at);
      if (typeof pair[0] !== 'string') throw new Error(`${at}: expected a group key`);
      const body = asRecord(pair[1], at);
      const group = this.newGroup(timeFromJson(body.lastSeenMs, `${at}.lastSeenMs`));
      if (body.last !== null) assertDigest(body.last, `${at}.last`);
      group.last = body.last as EventDigest | null;
      for (const [j, raw] of asArray(body.runs, `${at}.runs`).entries()) {
        const run = asRecord(raw, `${at}.runs[${j}]`);
        assertDigest(run.last, `${at}.runs[${j}].last`);
        group.runs.push({ firstMs: timeFromJson(run.firstMs, `${at}.runs[${j}].firstMs`), last: run.last });
      }
      for (const time of asArray(body.whiles, `${at}.whiles`)) group.whiles.push(timeFromJson(time, `${at}.whiles`));
      if (body.latestWhile !== null) assertDigest(body.latestWhile, `${at}.latestWhile`);
      group.latestWhile = body.latestWhile as EventDigest | null;
      group.latestWhileMs = group.latestWhile?.t ?? Number.NEGATIVE_INFINITY;
      if (body.firedForMs !== null && typeof body.firedForMs !== 'number') throw new Error(`${at}.firedForMs: expected a number or null`);
      group.firedForMs = body.firedForMs;
      restored.push([pair[0], group]);
    }
    const watermarkMs = timeFromJson(record.watermarkMs, `${where}.watermarkMs`);
    this.groups.clear();
    this.queue.clear();
    this.watermarkMs = watermarkMs;
    for (const [key, group] of restored) {
      this.groups.set(key, group);
      this.reschedule(key, group);
    }
  }

  private newGroup(lastSeenMs: number): AbsenceGroup {
    return {
      lastSeenMs,
      last: null,
      lastEvent: null,
      lastContext: null,
      runs: [],
      whiles: [],
      latestWhile: null,
      latestWhileEvent: null,
      latestWhileContext: null,
      latestWhileMs: Number.NEGATIVE_INFINITY,
      firedForMs: null,
      dueMs: Number.POSITIVE_INFINITY,
    };
  }

  /** adds a condition event `after` or more past lastSeen to the pending runs, merging runs no gap of `after` separates */
  private addToRuns(group: AbsenceGroup, timeMs: number, digest: EventDigest): void {
    const runs = group.runs;
    const tail = runs[runs.length - 1];
    if (tail !== undefined && timeMs >= tail.last.t) {
      if (timeMs - tail.last.t < this.afterMs) tail.last = digest;
      else runs.push({ firstMs: timeMs, last: digest });
      return;
    }
    let i = runs.length;
    while (i > 0 && (runs[i - 1] as PendingRun).firstMs > timeMs) i--;
    const before = runs[i - 1];
    if (before !== undefined && timeMs <= before.last.t) return;
    runs.splice(i, 0, { firstMs: timeMs, last: digest });
    for (let j = Math.max(i - 1, 0); j < runs.length - 1; ) {
      const current = runs[j] as PendingRun;
      const next = runs[j + 1] as PendingRun;
      if (next.firstMs - current.last.t < this.afterMs) {
        if (next.last.t > current.last.t) current.last = next.last;
        runs.splice(j + 1, 1);
      } else {
        j++;
      }
    }
  }

  /** settles every group whose due time the watermark has reached */
  private settleDue(): Detection[] {
    let detections: Detection[] | null = null;
    while (this.queue.peekDueMs() <= this.watermarkMs) {
      const dueMs = this.queue.peekDueMs();
      const key = this.queue.pop() as string;
      const group = this.groups.get(key);
      if (group === undefined || group.dueMs !== dueMs) continue;
      group.dueMs = Number.POSITIVE_INFINITY;
      const found = this.settle(key, group);
      if (found.length > 0) (detections ??= []).push(...found);
      this.reschedule(key, group);
    }
    return detections ?? NO_DETECTIONS;
  }

  /** moves pending runs the watermark has reached into lastSeen, reporting silences found */
  private settle(key: string, group: AbsenceGroup): Detection[] {
    const found: Detection[] = [];
    while (group.runs.length > 0 && (group.runs[0] as PendingRun).firstMs <= this.watermarkMs) {
      const run = group.runs.shift() as PendingRun;
      if (run.last.t <= group.lastSeenMs) continue;
      const deadline = this.silenceDeadline(group);
      if (Number.isFinite(group.lastSeenMs) && group.firedForMs !== group.lastSeenMs && run.firstMs >= deadline && this.whileBetween(group, deadline, run.firstMs)) {
        found.push(this.fire(key, group));
      }
      group.lastSeenMs = run.last.t;
      group.last = run.last;
      group.lastEvent = null;
      group.lastContext = null;
      pruneWhiles(group);
    }
    const deadline = this.silenceDeadline(group);
    if (Number.isFinite(group.lastSeenMs) && group.firedForMs !== group.lastSeenMs && this.watermarkMs >= deadline && this.whileBetween(group, deadline, Number.POSITIVE_INFINITY)) {
      found.push(this.fire(key, group));
    }
    return found;
  }

  /** queues the group's next due time: its first pending run, or its silence deadline */
  private reschedule(key: string, group: AbsenceGroup): void {
    let dueMs = group.runs.length > 0 ? (group.runs[0] as PendingRun).firstMs : Number.POSITIVE_INFINITY;
    if (Number.isFinite(group.lastSeenMs) && group.firedForMs !== group.lastSeenMs) {
      const deadline = this.silenceDeadline(group);
      if (deadline < dueMs && this.whileBetween(group, deadline, Number.POSITIVE_INFINITY)) dueMs = deadline;
    }
    if (dueMs < group.dueMs) {
      group.dueMs = dueMs;
      this.queue.push(dueMs, key);
    }
  }

  /**
   * Where the group's current silence reaches its limit, epoch ms: `lastSeen + after`; with `while`,
   * `after` past the first `while` event newer than lastSeen (+Infinity while there is none).
   */
  private silenceDeadline(group: AbsenceGroup): number {
    if (this.whilePredicate === null) return group.lastSeenMs + this.afterMs;
    const first = group.whiles[lowerBound(group.whiles, group.lastSeenMs + 1)];
    return first === undefined ? Number.POSITIVE_INFINITY : first + this.afterMs;
  }

  /** true without `while`; else whether a `while` event arrived in [fromMs, toMs) */
  private whileBetween(group: AbsenceGroup, fromMs: number, toMs: number): boolean {
    if (this.whilePredicate === null) return true;
    const i = lowerBound(group.whiles, fromMs);
    return i < group.whiles.length && (group.whiles[i] as number) < toMs;
  }

  private fire(key: string, group: AbsenceGroup): Detection {
    const startMs = group.lastSeenMs;
    const deadline = this.silenceDeadline(group);
    group.firedForMs = startMs;
    const whileEvents = this.whilePredicate === null ? null : lowerBound(group.whiles, deadline + 1) - lowerBound(group.whiles, startMs);
    const last = lastDigest(group);
    const latestWhile = latestWhileDigest(group);
    const events = last !== null ? [last] : latestWhile !== null ? [latestWhile] : [];
    const since = new Date(startMs).toISOString();
    return buildDetection({
      rule: this.rule,
      groupKey: key,
      events,
      count: 1,
      triggerId: `silence:${deadline}`,
      firstSeenMs: startMs,
      lastSeenMs: deadline,
      explanation: {
        after_ms: this.afterMs,
        after: durationText(this.afterMs),
        last_seen: last === null ? null : since,
        silence_from: since,
        while: this.whileName,
        while_events: whileEvents,
      },
      measure: `no matching event for ${durationText(this.afterMs)} since ${since}${this.whileName === null ? '' : ` while ${this.whileName} continued`}`,
    });
  }
}

function lowerBound(times: readonly number[], timeMs: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < timeMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertTime(times: number[], timeMs: number): void {
  if (times.length === 0 || (times[times.length - 1] as number) <= timeMs) times.push(timeMs);
  else times.splice(lowerBound(times, timeMs + 1), 0, timeMs);
}

/** drops `while` times not newer than lastSeen (they cannot be in a silence that starts there) */
function pruneWhiles(group: AbsenceGroup): void {
  if (group.whiles.length === 0 || (group.whiles[0] as number) > group.lastSeenMs) return;
  group.whiles.splice(0, lowerBound(group.whiles, group.lastSeenMs + 1));
}

/** the digest of the group's last condition event, made (and kept) on first need */
function lastDigest(group: AbsenceGroup): EventDigest | null {
  if (group.last === null && group.lastEvent !== null) group.last = digestEvent(group.lastEvent, group.lastContext as MatchContext);
  return group.last;
}

/** the digest of the group's newest `while` event, made (and kept) on first need */
function latestWhileDigest(group: AbsenceGroup): EventDigest | null {
  if (group.latestWhile === null && group.latestWhileEvent !== null) group.latestWhile = digestEvent(group.latestWhileEvent, group.latestWhileContext as MatchContext);
  return group.latestWhile;
}

/** The `absence` plug-in: params `{after: ms, while?: selection}` (detector-params.ts). */
export const ABSENCE_DETECTOR: DetectorModule<AbsenceParams> = {
  type: 'absence',
  paramsSchema: absenceParamsSchema,
  windowed: false,
  wants: 'selections',
  create: (rule, deps) => new AbsenceDetector(rule, deps),
};
