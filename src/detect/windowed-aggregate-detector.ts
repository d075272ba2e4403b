import type { AccessEvent } from '../domain/access-event.js';
import type { Detection } from '../domain/detection.js';
import type { CompiledRule, MatchContext } from './compiled-rule.js';
import { buildDetection, durationText, MAX_EVIDENCE_ITEMS, matchedSelections } from './detection-builder.js';
import type { Detector, DetectorDeps } from './detector.js';
import { assertDigest, digestEvent, type EventDigest } from './event-digest.js';
import { eventTimeMs } from './event-time.js';
import { GroupKeyer } from './group-keyer.js';
import { DEFAULT_MAX_EVENTS_PER_GROUP, DEFAULT_MAX_GROUPS, GroupTable } from './group-table.js';
import { SlidingWindow, type WindowAggregate } from './sliding-window.js';
import { asArray, asRecord, timeFromJson, timeToJson } from './snapshot-codec.js';

/** What an event contributes to an aggregate: 1 event, a number (sum), a value or values (distinct). */
export type ItemValue = number | string | string[];

/** Window entries carry their event's data classes (shared, interned arrays) as payload. */
type Classes = readonly string[];

interface AggregateGroup {
  window: SlidingWindow<ItemValue, Classes>;
  /** digests of the newest contributing events (at most 20), by time: the evidence and entity of a detection */
  recent: EventDigest[];
  /** event time of the newest event of the last detection (windows must start after it), or -Infinity */
  firedMaxMs: number;
}

const NO_DETECTIONS: Detection[] = [];
/** Most entries scanned to evaluate a late event's own window (see `rangeValue`). */
export const MAX_LATE_SCAN_ITEMS = 1024;

/**
 * The shared engine of `threshold`, `distinct` and `sum`: per group, the events of the rule's
 * condition in event-time order, and a sliding window of `windowMs` ending at each event.
 *
 * Semantics (the same for the three types):
 * - The windows evaluated are those ending at an event's time: `[t - windowMs, t]`, both ends
 *   included. An event that arrives in order is checked with the incremental aggregate; one that
 *   arrives late (older than the group's newest) still counts: the window ending at it (for sum
 *   and distinct only when it holds at most 1,024 events, bounding the work per late event) and
 *   the group's newest window (when it contains it) are checked.
 * - A window fires once when its aggregate reaches the threshold. The group re-arms only after the
 *   window has emptied of the events that fired: later windows must start after the newest of them
 *   (a 32-failure brute force within a minute with count 10 gives one detection). Suppression
 *   handles repeats across windows.
 * - A detection counts every event of its window and unions their data classes; its evidence and
 *   entity come from the window's newest events (at most 20), the only digests kept: a window
 *   entry is a time, a contribution and a shared class list, so long windows stay small in memory
 *   and in snapshots.
 * - Memory: events older than `min(newest, watermark) - windowMs` are dropped, at most
 *   `maxEventsPerGroup` per group (oldest dropped first), at most `maxGroups` groups (least recently
 *   seen dropped); idle groups are swept when the watermark has passed them by a window.
 */
export abstract class WindowedAggregateDetector implements Detector {
  private readonly groups: GroupTable<AggregateGroup>;
  private readonly keyer: GroupKeyer;
  private readonly maxEventsPerGroup: number;
  private watermarkMs = Number.NEGATIVE_INFINITY;
  private nextSweepMs = Number.NEGATIVE_INFINITY;

  /**
   * @param windowMs window length, ms
   * @param threshold the aggregate value that fires (count, distinct values, sum total)
   */
  protected constructor(
    readonly rule: CompiledRule,
    protected readonly windowMs: number,
    protected readonly threshold: number,
    deps: DetectorDeps,
  ) {
    this.keyer = GroupKeyer.for(rule.groupBy);
    this.maxEventsPerGroup = deps.maxEventsPerGroup ?? DEFAULT_MAX_EVENTS_PER_GROUP;
    this.groups = new GroupTable<AggregateGroup>(deps.maxGroups ?? DEFAULT_MAX_GROUPS, (group) => group.window.newestMs);
  }

  /** what `event` contributes, or null when it contributes nothing (e.g. a sum field that is not a number) */
  protected abstract valueOf(event: AccessEvent, context: MatchContext): ItemValue | null;
  /** an empty aggregate of the detector's kind */
  protected abstract newAggregate(): WindowAggregate<ItemValue>;
  /** the summary measure and type-specific explanation of a firing window (`values`: its entries' contributions) */
  protected abstract describe(value: number, values: readonly ItemValue[]): { measure: string; explanation: Record<string, unknown> };

  /**
   * The aggregate over the entries `[from, to)` of a window, for a late event's own window; null
   * (not checked) when that would mean scanning more than MAX_LATE_SCAN_ITEMS entries, so a stream
   * of late events costs bounded work per event. Count-based detectors override it with O(1).
   */
  protected rangeValue(window: SlidingWindow<ItemValue, Classes>, from: number, to: number): number | null {
    return to - from > MAX_LATE_SCAN_ITEMS ? null : window.aggregateOver(from, to);
  }

  wants(event: AccessEvent, context: MatchContext): boolean {
    return this.rule.matches(event, context);
  }

  observe(event: AccessEvent, context: MatchContext): Detection[] {
    const timeMs = eventTimeMs(event);
    if (Number.isNaN(timeMs)) return NO_DETECTIONS;
    const value = this.valueOf(event, context);
    if (value === null) return NO_DETECTIONS;
    const key = this.keyer.keyOf(event, context);
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { window: this.newWindow(), recent: [], firedMaxMs: Number.NEGATIVE_INFINITY };
      this.groups.set(key, group);
    }
    const window = group.window;
    const digest = digestEvent(event, context);
    const index = window.insert(timeMs, value, digest.data_classes);
    keepRecent(group.recent, digest);
    const newestMs = window.newestMs;
    let detection: Detection | null = null;
    if (index === window.size - 1) {
      if (timeMs - this.windowMs > group.firedMaxMs && window.frontValue >= this.threshold) {
        detection = this.fire(key, group, window.lowerBound(timeMs - this.windowMs), window.size, window.frontValue, event, context);
      }
    } else if (timeMs - this.windowMs > group.firedMaxMs) {
      const from = window.lowerBound(timeMs - this.windowMs);
      const to = window.upperBound(timeMs);
      const atEvent = this.rangeValue(window, from, to);
      if (atEvent !== null && atEvent >= this.threshold) detection = this.fire(key, group, from, to, atEvent, event, context);
    }
    if (detection === null && index !== window.size - 1 && timeMs >= newestMs - this.windowMs) {
      if (newestMs - this.windowMs > group.firedMaxMs && window.frontValue >= this.threshold) {
        detection = this.fire(key, group, window.lowerBound(newestMs - this.windowMs), window.size, window.frontValue, event, context);
      }
    }
    window.evictOlderThan(Math.min(newestMs, this.watermarkMs) - this.windowMs, this.maxEventsPerGroup);
    return detection === null ? NO_DETECTIONS : [detection];
  }

  advance(watermarkMs: number): Detection[] {
    if (watermarkMs > this.watermarkMs) this.watermarkMs = watermarkMs;
    if (this.watermarkMs >= this.nextSweepMs) {
      const idleBefore = this.watermarkMs - this.windowMs;
      for (const [key, group] of this.groups.entries()) {
        if (group.window.newestMs < idleBefore) this.groups.delete(key);
      }
      this.nextSweepMs = this.watermarkMs + Math.max(this.windowMs, 1000);
    }
    return NO_DETECTIONS;
  }

  /**
   * The detector's state as JSON-ready data: `{ watermarkMs, nextSweepMs, classSets, groups }`, where
   * `classSets` lists each distinct data-class list once (first use first) and `groups` is
   * `[key, { firedMaxMs, entries: [time ms, value, index into classSets][], recent: digests }][]`.
   * A window holds one entry per event and most carry the same few class lists, so the table keeps
   * a long window's snapshot small (it is written at every commit). Times are epoch ms (null for
   * none).
   */
  snapshot(): unknown {
    const classSets: Classes[] = [];
    const indexByList = new Map<Classes, number>();
    const indexByText = new Map<string, number>();
    const classSetIndex = (classes: Classes): number => {
      let index = indexByList.get(classes);
      if (index === undefined) {
        const text = classes.join(',');
        index = indexByText.get(text);
        if (index === undefined) {
          index = classSets.push(classes) - 1;
          indexByText.set(text, index);
        }
        indexByList.set(classes, index);
      }
      return index;
    };
    const groups: [string, { firedMaxMs: number | null; entries: [number, ItemValue, number][]; recent: EventDigest[] }][] = [];
    for (const [key, group] of this.groups.entries()) {
      const entries = group.window.entries().map(([timeMs, value, classes]): [number, ItemValue, number] => [timeMs, value, classSetIndex(classes)]);
      groups.push([key, { firedMaxMs: timeToJson(group.firedMaxMs), entries, recent: group.recent }]);
    }
    return { watermarkMs: timeToJson(this.watermarkMs), nextSweepMs: timeToJson(this.nextSweepMs), classSets, groups };
  }

  /**
   * Replaces the state with `snapshot()`'s output. Also reads snapshots written before the
   * `classSets` table existed, whose entries carry the class list itself: `[time ms, value, classes]`.
   * @throws Error naming the field (e.g. `groups[2].entries[5]`) when the state is malformed; the
   *   detector's state is unchanged then.
   */
  restore(state: unknown): void {
    const where = `${this.rule.id} (${this.rule.type}) snapshot`;
    const record = asRecord(state, where);
    const restored: [string, AggregateGroup][] = [];
    const interned = new Map<string, Classes>();
    const intern = (classes: readonly string[]): Classes => {
      const classKey = classes.join(',');
      let shared = interned.get(classKey);
      if (shared === undefined) {
        shared = Object.freeze([...classes]);
        interned.set(classKey, shared);
      }
      return shared;
    };
    const classSets = record.classSets === undefined ? [] : asArray(record.classSets, `${where}.classSets`).map((raw, k) => {
      if (!isClassList(raw)) throw new Error(`${where}.classSets[${k}]: expected a list of data classes`);
      return intern(raw);
    });
    for (const [i, entry] of asArray(record.groups, `${where}.groups`).entries()) {
      const at = `${where}.groups[${i}]`;
      const pair = asArray(entry, at);
      const key = pair[0];
      if (typeof key !== 'string') throw new Error(`${at}: expected a group key`);
      const body = asRecord(pair[1], at);
      const window = this.newWindow();
      for (const [j, raw] of asArray(body.entries, `${at}.entries`).entries()) {
        const item = asArray(raw, `${at}.entries[${j}]`);
        const classes = item[2];
        const shared = typeof classes === 'number' ? classSets[classes] : isClassList(classes) ? intern(classes) : undefined;
        if (typeof item[0] !== 'number' || !isItemValue(item[1]) || shared === undefined) {
          throw new Error(`${at}.entries[${j}]: expected [time ms, value, classes or an index into classSets]`);
        }
        window.insert(item[0], item[1], shared);
      }
      const recent: EventDigest[] = [];
      for (const [j, digest] of asArray(body.recent, `${at}.recent`).entries()) {
        assertDigest(digest, `${at}.recent[${j}]`);
        recent.push(digest);
      }
      restored.push([key, { window, recent, firedMaxMs: timeFromJson(body.firedMaxMs, `${at}.firedMaxMs`) }]);
    }
    const watermarkMs = timeFromJson(record.watermarkMs, `${where}.watermarkMs`);
    const nextSweepMs = timeFromJson(record.nextSweepMs, `${where}.nextSweepMs`);
    this.groups.clear();
    for (const [key, group] of restored) this.groups.set(key, group);
    this.watermarkMs = watermarkMs;
    this.nextSweepMs = nextSweepMs;
  }

  private newWindow(): SlidingWindow<ItemValue, Classes> {
    return new SlidingWindow<ItemValue, Classes>(this.windowMs, this.newAggregate(), () => this.newAggregate());
  }

  private fire(key: string, group: AggregateGroup, from: number, to: number, value: number, trigger: AccessEvent, context: MatchContext): Detection {
    const window = group.window;
    const firstMs = window.timeAt(from);
    const lastMs = window.timeAt(to - 1);
    group.firedMaxMs = lastMs;
    const { measure, explanation } = this.describe(value, window.valuesOf(from, to));
    const classes = new Set<string>();
    let previous: Classes | null = null;
    for (const entryClasses of window.payloadsOf(from, to)) {
      if (entryClasses === previous) continue;
      previous = entryClasses;
      for (const dataClass of entryClasses) classes.add(dataClass);
    }
    const inWindow = group.recent.filter((digest) => digest.t >= firstMs && digest.t <= lastMs);
    return buildDetection({
      rule: this.rule,
      groupKey: key,
      // a late event's window may hold none of the newest digests: its trigger is evidence then
      events: inWindow.length > 0 ? inWindow : [digestEvent(trigger, context)],
      count: to - from,
      triggerId: trigger.id,
      firstSeenMs: firstMs,
      lastSeenMs: lastMs,
      dataClasses: [...classes],
      explanation: {
        ...explanation,
        window_ms: this.windowMs,
        window: durationText(this.windowMs),
        matched_selections: matchedSelections(this.rule, trigger, context),
      },
      measure: `${measure} within ${durationText(this.windowMs)}`,
    });
  }
}

/** keeps the 20 newest digests, ordered by time (equal times: arrival order) */
function keepRecent(recent: EventDigest[], digest: EventDigest): void {
  if (recent.length === 0 || (recent[recent.length - 1] as EventDigest).t <= digest.t) {
    // in time order (the common case): appended, the oldest dropped past the bound
    recent.push(digest);
    if (recent.length > MAX_EVIDENCE_ITEMS) recent.shift();
    return;
  }
  if (recent.length >= MAX_EVIDENCE_ITEMS && digest.t < (recent[0] as EventDigest).t) return;
  let i = recent.length;
  while (i > 0 && (recent[i - 1] as EventDigest).t > digest.t) i--;
  recent.splice(i, 0, digest);
  if (recent.length > MAX_EVIDENCE_ITEMS) recent.shift();
}

function isItemValue(value: unknown): value is ItemValue {
  return typeof value === 'number' || typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
}

function isClassList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((c) => typeof c === 'string');
}
