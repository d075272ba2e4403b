import type { AccessEvent } from '../domain/access-event.js';
import type { CompiledRule } from './compiled-rule.js';
import type { DetectorDeps, DetectorModule } from './detector.js';
import { thresholdParamsSchema, type ThresholdParams } from './detector-params.js';
import { CountAggregate, type SlidingWindow, type WindowAggregate } from './sliding-window.js';
import { WindowedAggregateDetector, type ItemValue } from './windowed-aggregate-detector.js';

/**
 * `threshold` rules (rules design): fires when a group has at least `count` events of the rule's
 * condition within `window` (event time). Fires once per burst: the group re-arms only when the
 * window has emptied of the events that fired it (see WindowedAggregateDetector).
 *
 * Detection: count = events in the firing window, firstSeen/lastSeen = its oldest/newest event,
 * explanation `{count, threshold, window_ms, window, matched_selections, ...}`,
 * summary `<title>: 10 events within 1m (threshold 10) for user=dba_admin`.
 */
export class ThresholdDetector extends WindowedAggregateDetector {
  constructor(rule: CompiledRule & { params: ThresholdParams }, deps: DetectorDeps) {
    super(rule, rule.params.window, rule.params.count, deps);
  }

  protected valueOf(_event: AccessEvent): ItemValue {
    return 1;
  }

  protected override rangeValue(_window: SlidingWindow<ItemValue, readonly string[]>, from: number, to: number): number {
    return to - from;
  }

  protected newAggregate(): WindowAggregate<ItemValue> {
    return new CountAggregate<ItemValue>();
  }

  protected describe(value: number): { measure: string; explanation: Record<string, unknown> } {
    return {
      measure: `${value} events (threshold ${this.threshold})`,
      explanation: { count: value, threshold: this.threshold },
    };
  }
}

/** The `threshold` plug-in: params `{window: ms, count}` (detector-params.ts). */
export const THRESHOLD_DETECTOR: DetectorModule<ThresholdParams> = {
  type: 'threshold',
  paramsSchema: thresholdParamsSchema,
  windowed: true,
  wants: 'condition',
  create: (rule, deps) => new ThresholdDetector(rule, deps),
};
