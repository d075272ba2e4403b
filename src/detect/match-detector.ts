import type { AccessEvent } from '../domain/access-event.js';
import type { Detection } from '../domain/detection.js';
import type { CompiledRule, MatchContext } from './compiled-rule.js';
import { buildDetection, matchedSelections } from './detection-builder.js';
import type { Detector, DetectorModule } from './detector.js';
import { matchParamsSchema, type MatchParams } from './detector-params.js';
import { digestEvent } from './event-digest.js';
import { eventTimeMs } from './event-time.js';
import { GroupKeyer } from './group-keyer.js';
import { asRecord } from './snapshot-codec.js';

/**
 * `match` rules (rules design): every event of the rule's condition is a detection of its group
 * (suppression, applied by the engine, hides repeats). Stateless: the snapshot is `{}`.
 *
 * Detection: count 1, firstSeen = lastSeen = the event's time, evidence = the event,
 * explanation `{matched_selections}`, summary `<title>: audit READ SELECT on public.customers for user=x`.
 */
export class MatchDetector implements Detector {
  private readonly keyer: GroupKeyer;

  constructor(readonly rule: CompiledRule) {
    this.keyer = GroupKeyer.for(rule.groupBy);
  }

  wants(event: AccessEvent, context: MatchContext): boolean {
    return this.rule.matches(event, context);
  }

  observe(event: AccessEvent, context: MatchContext): Detection[] {
    const timeMs = eventTimeMs(event);
    if (Number.isNaN(timeMs)) return [];
    const digest = digestEvent(event, context);
    const rule = this.rule;
    return [
      buildDetection({
        rule,
        groupKey: this.keyer.keyOf(event, context),
        events: [digest],
        count: 1,
        triggerId: event.id,
        firstSeenMs: timeMs,
        lastSeenMs: timeMs,
        // asked only when the detection is built (most are hidden by suppression before)
        describe: () => {
          const what = [digest.kind, digest.class, digest.command].filter((part) => part !== null).join(' ');
          return {
            explanation: { matched_selections: matchedSelections(rule, event, context) },
            measure: digest.object_name === null ? what : `${what} on ${digest.object_name}`,
          };
        },
      }),
    ];
  }

  advance(): Detection[] {
    return [];
  }

  snapshot(): unknown {
    return {};
  }

  restore(state: unknown): void {
    asRecord(state, `${this.rule.id} (match) snapshot`);
  }
}

/** The `match` plug-in: no params (detector-params.ts). */
export const MATCH_DETECTOR: DetectorModule<MatchParams> = {
  type: 'match',
  paramsSchema: matchParamsSchema,
  windowed: false,
  wants: 'condition',
  advances: false,
  create: (rule) => new MatchDetector(rule),
};
