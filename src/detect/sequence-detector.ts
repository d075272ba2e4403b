import type { AccessEvent } from '../domain/access-event.js';
import type { Detection } from '../domain/detection.js';
import type { CompiledRule, EventPredicate, MatchContext } from './compiled-rule.js';
import { buildDetection, durationText, matchedSelections } from './detection-builder.js';
import type { Detector, DetectorDeps, DetectorModule } from './detector.js';
import { sequenceParamsSchema, type SequenceParams } from './detector-params.js';
import { assertDigest, digestEvent, type EventDigest } from './event-digest.js';
import { eventTimeMs } from './event-time.js';
import { GroupKeyer } from './group-keyer.js';
import { DEFAULT_MAX_EVENTS_PER_GROUP, DEFAULT_MAX_GROUPS, GroupTable } from './group-table.js';
import { CountAggregate, SlidingWindow } from './sliding-window.js';
import { asArray, asRecord, timeFromJson, timeToJson } from './snapshot-codec.js';

interface SequenceGroup {
  /** the group's events, each with the steps its selections matched (bit i = step i) */
  window: SlidingWindow<number, EventDigest>;
  /** event time of the event that completed the last detection: later sequences use only newer events */
  firedMaxMs: number;
}

const NO_DETECTIONS: Detection[] = [];

/**
 * `sequence` rules (rules design): per group, `steps` in order, all within `window` (event time),
 * e.g. `[{selection: sel_fail, count: 5}, {selection: sel_success}]` = at least 5 failures, then a
 * success. Only events of the rule's condition that match at least one step's selection count.
 *
 * Evaluation: when an event of the last step arrives, the window `[t - window, t]` is searched in
 * event-time order (earliest completion: a step advances as soon as it has its count and an event
 * of the next step comes; an event matching both advances). A late event (older than the group's
 * newest) also re-checks the windows ending at the later last-step events within `window` of it.
 * After a detection, the events up to the completing one are consumed: the next sequence of the
 * group uses only newer events. Memory bounds as WindowedAggregateDetector.
 *
 * Detection: contributing events = every event of each step up to the next step's first one
 * (all 32 failures of a brute force, then the success), firstSeen = the first of them, lastSeen =
 * the completing event, explanation `{steps: [{selection, count, matched}], window_ms, window, ...}`.
 *
 * @throws Error from `create` when a step names a selection the rule does not have (the loader
 * reports that as a load error first)
 */
export class SequenceDetector implements Detector {
  private readonly windowMs: number;
  private readonly steps: { selection: string; count: number; predicate: EventPredicate }[];
  private readonly lastBit: number;
  private readonly keyer: GroupKeyer;
  private readonly groups: GroupTable<SequenceGroup>;
  private readonly maxEventsPerGroup: number;
  private watermarkMs = Number.NEGATIVE_INFINITY;
  private nextSweepMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly rule: CompiledRule & { params: SequenceParams },
    deps: DetectorDeps,
  ) {
    this.windowMs = rule.params.window;
    this.steps = rule.params.steps.map((step) => {
      const predicate = rule.selections.get(step.selection);
      if (predicate === undefined) throw new Error(`${rule.id}: sequence step names unknown selection ${step.selection}`);
      return { selection: step.selection, count: step.count, predicate };
    });
    if (this.steps.length > 30) throw new Error(`${rule.id}: a sequence has at most 30 steps`);
    this.lastBit = 1 << (this.steps.length - 1);
    this.keyer = GroupKeyer.for(rule.groupBy);
    this.maxEventsPerGroup = deps.maxEventsPerGroup ?? DEFAULT_MAX_EVENTS_PER_GROUP;
    this.groups = new GroupTable<SequenceGroup>(deps.maxGroups ?? DEFAULT_MAX_GROUPS, (group) => group.window.newestMs);
  }

  wants(event: AccessEvent, context: MatchContext): boolean {
    return this.rule.matches(event, context);
  }

  observe(event: AccessEvent, context: MatchContext): Detection[] {
    const timeMs = eventTimeMs(event);
    if (Number.isNaN(timeMs)) return NO_DETECTIONS;
    let mask = 0;
    for (let i = 0; i < this.steps.length; i++) if ((this.steps[i] as { predicate: EventPredicate }).predicate(event, context)) mask |= 1 << i;
    if (mask === 0) return NO_DETECTIONS;
    const key = this.keyer.keyOf(event, context);
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { window: this.newWindow(), firedMaxMs: Number.NEGATIVE_INFINITY };
      this.groups.set(key, group);
    }
    if (timeMs <= group.firedMaxMs) return NO_DETECTIONS;
    const window = group.window;
    const index = window.insert(timeMs, mask, digestEvent(event, context));
    let detection: Detection | null = null;
    if ((mask & this.lastBit) !== 0) detection = this.check(key, group, index, event, context);
    if (detection === null && index !== window.size - 1) {
      for (let j = index + 1; j < window.size; j++) {
        if (window.timeAt(j) > timeMs + this.windowMs) break;
        if ((window.valueAt(j) & this.lastBit) === 0) continue;
        detection = this.check(key, group, j, event, context);
        if (detection !== null) break;
      }
    }
    const floor = Math.max(Math.min(window.newestMs, this.watermarkMs) - this.windowMs, group.firedMaxMs + 1);
    window.evictOlderThan(floor, this.maxEventsPerGroup);
    return detection === null ? NO_DETECTIONS : [detection];
  }

  advance(watermarkMs: number): Detection[] {
    if (watermarkMs > this.watermarkMs) this.watermarkMs = watermarkMs;
    if (this.watermarkMs >= this.nextSweepMs) {
      const idleBefore = this.watermarkMs - this.windowMs;
      for (const [key, group] of this.groups.entries()) {
        if (group.window.newestMs < idleBefore && group.firedMaxMs < idleBefore) this.groups.delete(key);
      }
      this.nextSweepMs = this.watermarkMs + Math.max(this.windowMs, 1000);
    }
    return NO_DETECTIONS;
  }

  snapshot(): unknown {
    const groups: [string, { firedMaxMs: number | null; items: [EventDigest, number][] }][] = [];
    for (const [key, group] of this.groups.entries()) {
      groups.push([key, { firedMaxMs: timeToJson(group.firedMaxMs), items: group.window.entries().map(([, mask, digest]) => [digest, mask]) }]);
    }
    return { watermarkMs: timeToJson(this.watermarkMs), nextSweepMs: timeToJson(this.nextSweepMs), groups };
  }

  restore(state: unknown): void {
    const where = `${this.rule.id} (sequence) snapshot`;
    const record = asRecord(state, where);
    const restored: [string, SequenceGroup][] = [];
    for (const [i, entry] of asArray(record.groups, `${where}.groups`).entries()) {
      const pair = asArray(entry, `${where}.groups[${i}]`);
      if (typeof pair[0] !== 'string') throw new Error(`${where}.groups[${i}]: expected a group key`);
      const body = asRecord(pair[1], `${where}.groups[${i}]`);
      const window = this.newWindow();
      for (const [j, raw] of asArray(body.items, `${where}.groups[${i}].items`).entries()) {
        const item = asArray(raw, `${where}.groups[${i}].items[${j}]`);
        assertDigest(item[0], `${where}.groups[${i}].items[${j}]`);
        if (!Number.isInteger(item[1])) throw new Error(`${where}.groups[${i}].items[${j}]: bad step mask`);
        window.insert(item[0].t, item[1] as number, item[0]);
      }
      restored.push([pair[0], { window, firedMaxMs: timeFromJson(body.firedMaxMs, `${where}.groups[${i}].firedMaxMs`) }]);
    }
    const watermarkMs = timeFromJson(record.watermarkMs, `${where}.watermarkMs`);
    const nextSweepMs = timeFromJson(record.nextSweepMs, `${where}.nextSweepMs`);
    this.groups.clear();
    for (const [key, group] of restored) this.groups.set(key, group);
    this.watermarkMs = watermarkMs;
    this.nextSweepMs = nextSweepMs;
  }

  private newWindow(): SlidingWindow<number, EventDigest> {
    return new SlidingWindow<number, EventDigest>(this.windowMs, new CountAggregate<number>(), () => new CountAggregate<number>());
  }

  /** searches the window ending at entry `end` (relative index) for the steps in order; fires when complete */
  private check(key: string, group: SequenceGroup, end: number, trigger: AccessEvent, context: MatchContext): Detection | null {
    const window = group.window;
    const from = window.lowerBound(window.timeAt(end) - this.windowMs);
    const chosen: number[] = [];
    const matched = this.steps.map(() => 0);
    let step = 0;
    for (let i = from; i <= end; i++) {
      if (window.timeAt(i) <= group.firedMaxMs) continue;
      const mask = window.valueAt(i);
      const next = step + 1;
      if (next < this.steps.length && (matched[step] as number) >= (this.steps[step] as { count: number }).count && (mask & (1 << next)) !== 0) step = next;
      if ((mask & (1 << step)) === 0) continue;
      chosen.push(i);
      matched[step] = (matched[step] as number) + 1;
      if (step === this.steps.length - 1 && (matched[step] as number) >= (this.steps[step] as { count: number }).count) {
        return this.fire(key, group, chosen, matched, trigger, context);
      }
    }
    return null;
  }

  private fire(key: string, group: SequenceGroup, chosen: number[], matched: number[], trigger: AccessEvent, context: MatchContext): Detection {
    const window = group.window;
    const firstMs = window.timeAt(chosen[0] as number);
    const lastMs = window.timeAt(chosen[chosen.length - 1] as number);
    group.firedMaxMs = lastMs;
    const steps = this.steps.map((step, i) => ({ selection: step.selection, count: step.count, matched: matched[i] as number }));
    return buildDetection({
      rule: this.rule,
      groupKey: key,
      events: chosen.map((i) => window.payloadAt(i)),
      count: chosen.length,
      triggerId: trigger.id,
      firstSeenMs: firstMs,
      lastSeenMs: lastMs,
      explanation: {
        steps,
        window_ms: this.windowMs,
        window: durationText(this.windowMs),
        matched_selections: matchedSelections(this.rule, trigger, context),
      },
      measure: `${steps.map((step) => `${step.selection} x${step.matched}`).join(' then ')} within ${durationText(this.windowMs)}`,
    });
  }
}

/** The `sequence` plug-in: params `{window: ms, steps: [{selection, count}]}` (detector-params.ts). */
export const SEQUENCE_DETECTOR: DetectorModule<SequenceParams> = {
  type: 'sequence',
  paramsSchema: sequenceParamsSchema,
  windowed: true,
  wants: 'condition',
  create: (rule, deps) => new SequenceDetector(rule, deps),
};
