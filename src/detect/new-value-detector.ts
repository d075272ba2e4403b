import type { AccessEvent } from '../domain/access-event.js';
import type { Detection } from '../domain/detection.js';
import type { CompiledRule, MatchContext } from './compiled-rule.js';
import { buildDetection, durationText, matchedSelections } from './detection-builder.js';
import type { Detector, DetectorDeps, DetectorModule } from './detector.js';
import { newValueParamsSchema, type NewValueParams } from './detector-params.js';
import { digestEvent } from './event-digest.js';
import { eventTimeMs } from './event-time.js';
import { compileFieldReader, type FieldReader } from './field-reader.js';
import { GroupKeyer, normalizeGroupValue, type GroupValue } from './group-keyer.js';
import { DEFAULT_MAX_EVENTS_PER_GROUP, DEFAULT_MAX_GROUPS, GroupTable } from './group-table.js';
import { asArray, asRecord, timeFromJson, timeToJson } from './snapshot-codec.js';

interface LearnedGroup {
  /** learned value tuples, as canonical JSON arrays, oldest first */
  values: Set<string>;
  /** event time of the group's newest event, ms */
  recentMs: number;
}

/** Most value tuples one event can yield when list fields multiply (the rest are ignored). */
const MAX_TUPLES_PER_EVENT = 64;
const NO_DETECTIONS: Detection[] = [];

/**
 * `new_value` rules (rules design): per group, the tuple of `fields` values an event carries is
 * learned; a tuple never seen for the group fires once (and is learned), but only after the
 * learning period: `learn` ms from the first event the detector sees (event time). Tuples seen
 * during learning never fire, whenever they arrive. A list field (e.g. `relations`) yields one
 * tuple per element (an empty list: no tuple); null is a value like any other.
 * Memory: at most `maxEventsPerGroup` tuples per group (the oldest learned are forgotten) and
 * `maxGroups` groups (least recently seen dropped).
 *
 * Detection: count 1, the event as evidence, explanation `{new_values: [{field: value}], fields,
 * learning_until}`, summary `<title>: new client_addr=10.9.0.1 for user=dba_admin`.
 */
export class NewValueDetector implements Detector {
  private readonly fields: string[];
  private readonly readers: FieldReader[];
  private readonly learnMs: number;
  private readonly keyer: GroupKeyer;
  private readonly groups: GroupTable<LearnedGroup>;
  private readonly maxValues: number;
  private learnUntilMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly rule: CompiledRule & { params: NewValueParams },
    deps: DetectorDeps,
  ) {
    this.fields = rule.params.fields;
    this.readers = this.fields.map((field) => compileFieldReader(field));
    this.learnMs = rule.params.learn;
    this.keyer = GroupKeyer.for(rule.groupBy);
    this.maxValues = deps.maxEventsPerGroup ?? DEFAULT_MAX_EVENTS_PER_GROUP;
    this.groups = new GroupTable<LearnedGroup>(deps.maxGroups ?? DEFAULT_MAX_GROUPS, (group) => group.recentMs);
  }

  wants(event: AccessEvent, context: MatchContext): boolean {
    return this.rule.matches(event, context);
  }

  observe(event: AccessEvent, context: MatchContext): Detection[] {
    const timeMs = eventTimeMs(event);
    if (Number.isNaN(timeMs)) return NO_DETECTIONS;
    if (!Number.isFinite(this.learnUntilMs)) this.learnUntilMs = timeMs + this.learnMs;
    const key = this.keyer.keyOf(event, context);
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { values: new Set(), recentMs: timeMs };
      this.groups.set(key, group);
    } else if (timeMs > group.recentMs) {
      group.recentMs = timeMs;
    }
    const fresh: GroupValue[][] = [];
    for (const tuple of this.tuplesOf(event, context)) {
      const tupleKey = JSON.stringify(tuple);
      if (group.values.has(tupleKey)) continue;
      group.values.add(tupleKey);
      if (group.values.size > this.maxValues) group.values.delete(group.values.values().next().value as string);
      fresh.push(tuple);
    }
    if (fresh.length === 0 || timeMs < this.learnUntilMs) return NO_DETECTIONS;
    const newValues = fresh.map((tuple) => Object.fromEntries(this.fields.map((field, i) => [field, tuple[i] ?? null])));
    const first = newValues[0] as Record<string, GroupValue>;
    return [
      buildDetection({
        rule: this.rule,
        groupKey: key,
        events: [digestEvent(event, context)],
        count: 1,
        triggerId: event.id,
        firstSeenMs: timeMs,
        lastSeenMs: timeMs,
        explanation: {
          new_values: newValues,
          fields: [...this.fields],
          learn: durationText(this.learnMs),
          learning_until: new Date(this.learnUntilMs).toISOString(),
          matched_selections: matchedSelections(this.rule, event, context),
        },
        measure: `new ${Object.entries(first)
          .map(([field, value]) => `${field}=${value === null ? 'null' : String(value)}`)
          .join(', ')}`,
      }),
    ];
  }

  advance(): Detection[] {
    return NO_DETECTIONS;
  }

  snapshot(): unknown {
    const groups: [string, { recentMs: number; values: string[] }][] = [];
    for (const [key, group] of this.groups.entries()) groups.push([key, { recentMs: group.recentMs, values: [...group.values] }]);
    return { learnUntilMs: timeToJson(this.learnUntilMs), groups };
  }

  restore(state: unknown): void {
    const where = `${this.rule.id} (new_value) snapshot`;
    const record = asRecord(state, where);
    const learnUntilMs = timeFromJson(record.learnUntilMs, `${where}.learnUntilMs`);
    const restored: [string, LearnedGroup][] = [];
    for (const [i, entry] of asArray(record.groups, `${where}.groups`).entries()) {
      const pair = asArray(entry, `${where}.groups[${i}]`);
      const body = asRecord(pair[1], `${where}.groups[${i}]`);
      const values = asArray(body.values, `${where}.groups[${i}].values`);
      if (typeof pair[0] !== 'string' || typeof body.recentMs !== 'number' || !values.every((value) => typeof value === 'string')) {
        throw new Error(`${where}.groups[${i}]: expected [key, {recentMs, values: string[]}]`);
      }
      restored.push([pair[0], { recentMs: body.recentMs, values: new Set(values as string[]) }]);
    }
    this.learnUntilMs = learnUntilMs;
    this.groups.clear();
    for (const [key, group] of restored) this.groups.set(key, group);
  }

  /** the value tuples of an event: the cartesian product over list fields, at most 64 */
  private tuplesOf(event: AccessEvent, context: MatchContext): GroupValue[][] {
    let tuples: GroupValue[][] = [[]];
    for (const reader of this.readers) {
      const raw = reader(event, context);
      const options = Array.isArray(raw) ? [...new Set(raw.map((item) => normalizeGroupValue(item)))] : [normalizeGroupValue(raw)];
      const next: GroupValue[][] = [];
      for (const tuple of tuples) {
        for (const option of options) {
          if (next.length >= MAX_TUPLES_PER_EVENT) break;
          next.push([...tuple, option]);
        }
      }
      tuples = next;
    }
    return tuples;
  }
}

/** The `new_value` plug-in: params `{fields, learn: ms}` (detector-params.ts). */
export const NEW_VALUE_DETECTOR: DetectorModule<NewValueParams> = {
  type: 'new_value',
  paramsSchema: newValueParamsSchema,
  windowed: false,
  wants: 'condition',
  create: (rule, deps) => new NewValueDetector(rule, deps),
};
